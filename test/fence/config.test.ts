import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ObjectReader } from '../../src/config/reader.js';
import type { ConfigProblem } from '../../src/errors.js';
import { FENCING_DEFAULTS, readFencingConfig } from '../../src/fence/config.js';
import { agentPath } from '../helpers/build.js';

const dir = mkdtempSync(join(tmpdir(), 'iha-fencecfg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function read(yaml: string): { cfg: ReturnType<typeof readFencingConfig>; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const root = ObjectReader.root(parse(yaml), problems);
  const cfg = readFencingConfig(root.object('fencing'));
  return { cfg, problems };
}

describe('readFencingConfig', () => {
  it('reads devices, topology and defaults', () => {
    const pw = join(dir, 'pw');
    writeFileSync(pw, 'hunter2\n');
    chmodSync(pw, 0o600);
    const { cfg, problems } = read(`
fencing:
  retries: 1
  devices:
    ipmi-c1:
      agent: native-ipmi
      options: { ip: 127.0.0.1, ipport: 16230, username: admin, cipher: 3, lanplus: true }
      password_file: ${pw}
    fake:
      agent: fence_fake
      options: { state_file: /tmp/x }
      timeout: 5s
  hosts:
    compute-1:
      levels: [[ipmi-c1], fake]
      kdump_addresses: [10.0.0.5]
`);
    expect(problems).toEqual([]);
    expect(cfg.retries).toBe(1);
    expect(cfg.actionTimeoutMs).toBe(FENCING_DEFAULTS.actionTimeoutMs);
    expect(cfg.kdump).toEqual(FENCING_DEFAULTS.kdump);
    expect(cfg.devices.get('ipmi-c1')).toMatchObject({
      agent: 'native-ipmi',
      password: 'hunter2',
      options: { ip: '127.0.0.1', ipport: '16230', lanplus: '1' },
      verify: true,
    });
    expect(cfg.devices.get('fake')).toMatchObject({ agentPath: agentPath('fence_fake'), timeoutMs: 5000 });
    expect(cfg.hosts.get('compute-1')).toEqual({ host: 'compute-1', levels: [['ipmi-c1'], ['fake']], kdumpAddresses: ['10.0.0.5'] });
  });

  it('reports every problem with its key path', () => {
    const { problems } = read(`
fencing:
  retries: -1
  colour: red
  kdump: { enabled: true, bind: nowhere }
  devices:
    a:
      agent: fence_does_not_exist
      options: { password: x, action: off, ip: [1] }
    b:
      agent: native-ipmi
      options: { ipaddress: 1.2.3.4, privlvl: root }
  hosts:
    h1: { levels: [[a, zzz]] }
    h2: { levels: [] }
`);
    expect(problems.map((p) => `${p.path}: ${p.reason}`)).toEqual([
      "fencing.kdump.bind: must be an IP address, got 'nowhere'",
      'fencing.retries: must be a whole number between 0 and 20, got -1',
      "fencing.devices.a.options.password: is a secret: set the device's 'password' or 'password_file' instead",
      'fencing.devices.a.options.action: is chosen by the fencer, not configured',
      'fencing.devices.a.options.ip: must be a string, number or boolean',
      "fencing.devices.a.agent: 'fence_does_not_exist' not found (looked in agents/, PATH, /usr/sbin, /sbin; or give an absolute path)",
      'fencing.devices.b.options.ipaddress: is not an option of native-ipmi (see fence_ipmi -o metadata)',
      'fencing.devices.b.options: You have to set ip',
      'fencing.devices.b.options: You have to set username',
      "fencing.devices.b.options: privlvl must be one of callback, user, operator, administrator, got 'root'",
      'fencing.devices.b.options: You have to enter password or password script',
      "fencing.hosts.h1.levels[0]: names unknown device 'zzz'",
      'fencing.hosts.h2.levels: must be a list of 1 to 16 levels, each a list of device names',
      'fencing.colour: is not a known setting',
    ]);
  });
});

describe('readFencingConfig: native-redfish', () => {
  it("checks a native-redfish device's options against the fence_redfish_native table", () => {
    const { cfg, problems } = read(`
fencing:
  devices:
    ok: { agent: native-redfish, options: { ip: 10.0.0.21, username: admin, systems_uri: /redfish/v1/Systems/1 }, password: pw }
    bad: { agent: native-redfish, options: { ip: 10.0.0.22, cipher: 3, systems_uri: Systems/1, ssl_insecure: 1, ssl_ca: /etc/ca.pem } }
  hosts:
    h1: { levels: [[ok]] }
`);
    expect(problems.map((p) => `${p.path}: ${p.reason}`)).toEqual([
      'fencing.devices.bad.options.cipher: is not an option of native-redfish (see fence_redfish_native -o metadata)',
      'fencing.devices.bad.options: You have to set username',
      'fencing.devices.bad.options: You have to enter password or password script',
      "fencing.devices.bad.options: systems_uri must be an absolute path such as /redfish/v1, got 'Systems/1'",
      'fencing.devices.bad.options: ssl_insecure and ssl_ca contradict each other: choose one',
    ]);
    expect(cfg.devices.get('ok')?.agent).toBe('native-redfish');
    expect(cfg.devices.get('ok')?.agentPath).toBeUndefined();
  });
});
