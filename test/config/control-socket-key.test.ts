import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { controlSocketFromConfig } from '../../src/config/control-socket-key.js';
import { DEFAULT_CONTROL_SOCKET } from '../../src/control/socket-path.js';
import { ConfigError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'iha-socket-key-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe('the control socket an operator command takes from --config', () => {
  it("reads control_socket alone: the rest of a monitor's file is the monitor's to validate", () => {
    const p = file('a.yaml', 'id: mon1\ncontrol_socket: /run/x/m.sock\nfencing: { devices: {} }\nanything_else: 1\n');
    expect(controlSocketFromConfig(p)).toBe('/run/x/m.sock');
  });

  it('falls back to the default socket, as the monitor does', () => {
    expect(controlSocketFromConfig(file('b.yaml', 'id: mon1\n'))).toBe(DEFAULT_CONTROL_SOCKET);
  });

  it('refuses a socket path too long for sun_path, naming the key and the file', () => {
    const p = file('c.yaml', `control_socket: /${'x'.repeat(120)}\n`);
    expect(() => controlSocketFromConfig(p)).toThrow(ConfigError);
    expect(() => controlSocketFromConfig(p)).toThrow(/c\.yaml[\s\S]*control_socket/);
  });

  it('refuses a file that is not YAML, naming the file', () => {
    const p = file('d.yaml', 'control_socket: [unclosed\n');
    expect(() => controlSocketFromConfig(p)).toThrow(/d\.yaml[\s\S]*not valid YAML/);
  });
});
