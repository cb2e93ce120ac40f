import { createHmac } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runConfigCommand } from '../../src/cli/commands/config.js';
import { runKeysCommand } from '../../src/cli/commands/keys.js';
import { readBeaconConfig } from '../../src/config/beacon-config.js';
import { parseConfig } from '../../src/config/load.js';
import { readMonitorConfig } from '../../src/daemon/monitor-config.js';
import { ConfigError } from '../../src/errors.js';
import { deriveHostKey } from '../../src/wire/keys.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const newTempDir = tempDirs();
const M = 'm'.repeat(32);
const B = 'b'.repeat(32);
const HEAD = 'id: m1\nmonitors: [{ id: m1, address: 127.0.0.1:7400 }]\n';
const BEACON_HEAD = 'host: cmp-01\nmonitors: [127.0.0.1:7400]\n';

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l), isTty: false }, out, err };
}
function problems(text: string, read: typeof readMonitorConfig | typeof readBeaconConfig = readMonitorConfig): string[] {
  try {
    parseConfig<unknown>(text, 'test.yaml', read);
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.problems.map((p) => `${p.path} ${p.reason}`);
  }
}

/** RFC 5869 written out with HMAC, independently of node's hkdfSync. */
function hkdfByHand(ikm: Buffer, salt: Buffer, info: Buffer): Buffer {
  const prk = createHmac('sha256', salt).update(ikm).digest();
  return createHmac('sha256', prk)
    .update(Buffer.concat([info, Buffer.from([1])]))
    .digest();
}

describe('host keys', () => {
  it('are HKDF-SHA256 of the master beacon key over the host name, as base64 text', () => {
    const master = Buffer.from(B);
    const want = hkdfByHand(master, Buffer.from('instance-ha beacon host key v1'), Buffer.from('cmp-01')).toString('base64');
    expect(deriveHostKey(master, 'cmp-01').toString('utf8')).toBe(want);
    expect(deriveHostKey(master, 'cmp-02').equals(deriveHostKey(master, 'cmp-01'))).toBe(false);
    expect(deriveHostKey(Buffer.from(M), 'cmp-01').equals(deriveHostKey(master, 'cmp-01'))).toBe(false);
  });
});

describe('key settings', () => {
  it('a monitor needs a monitor key and a master beacon key (or the deprecated cluster key)', () => {
    expect(problems(HEAD)).toEqual([
      expect.stringMatching(/^monitor_key is required .*instance-ha keys generate/),
      expect.stringMatching(/^beacon_master_key is required/),
    ]);
    expect(problems(`${HEAD}monitor_key: ${M}\nbeacon_master_key: ${B}\n`)).toEqual([]);
  });

  it('refuses a master beacon key equal to the monitor key, a short key, and a seal with no such key', () => {
    expect(problems(`${HEAD}monitor_key: ${M}\nbeacon_master_key: ${M}\n`)).toEqual(['beacon_master_key must differ from monitor_key']);
    expect(problems(`${HEAD}monitor_key: short\nbeacon_master_key: ${B}\n`)).toEqual([
      expect.stringMatching(/^monitor_key must be at least 16 bytes/),
    ]);
    expect(problems(`${HEAD}monitor_key: ${M}\nbeacon_master_key: ${B}\nmonitor_key_seal: next\n`)).toEqual([
      "monitor_key_seal is 'next' but no 'monitor_key_next' is set",
    ]);
    expect(problems(`${HEAD}monitor_key: ${M}\nbeacon_master_key: ${B}\nmonitor_key_seal: legacy\n`)).toEqual([
      "monitor_key_seal is 'legacy' but no 'cluster_key' is set",
    ]);
  });

  it('still reads the old single cluster_key, with a warning, sealing with it', () => {
    const cfg = parseConfig(`${HEAD}cluster_key: ${'k'.repeat(32)}\n`, 'old.yaml', readMonitorConfig);
    expect(cfg.keys.sealWith).toBe('legacy');
    expect(cfg.warnings.map((w) => w.kind)).toEqual(['legacy_cluster_key']);
    const beacon = parseConfig(`${BEACON_HEAD}cluster_key: ${'k'.repeat(32)}\n`, 'old.yaml', readBeaconConfig);
    expect(beacon.keySlot).toBe('legacy');
    expect(beacon.warnings.map((w) => w.kind)).toEqual(['legacy_cluster_key']);
  });

  it('a beacon takes its own host key, and exactly one key', () => {
    expect(problems(BEACON_HEAD, readBeaconConfig)).toEqual([expect.stringMatching(/^host_key is required .*instance-ha keys host NAME/)]);
    expect(problems(`${BEACON_HEAD}host_key: ${B}\ncluster_key: ${M}\n`, readBeaconConfig)).toEqual([
      expect.stringMatching(/^cluster_key and 'host_key' are mutually exclusive/),
    ]);
    const cfg = parseConfig(`${BEACON_HEAD}host_key: ${B}\n`, 'b.yaml', readBeaconConfig);
    expect(cfg.key.toString()).toBe(B);
    expect(cfg.warnings).toEqual([]);
  });
});

describe('instance-ha keys', () => {
  const tty = process.stdout.isTTY;
  afterEach(() => {
    process.stdout.isTTY = tty;
  });

  it('generate --out creates a new 0600 file and never overwrites one', async () => {
    const file = join(newTempDir('iha-keys-'), 'monitor.key');
    const a = io();
    expect(await runKeysCommand(['generate', '--out', file], a.io)).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64')).toHaveLength(32);
    const before = readFileSync(file, 'utf8');
    const b = io();
    expect(await runKeysCommand(['generate', '--out', file], b.io)).toBe(1);
    expect(b.err.join('\n')).toContain('it exists');
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it("host NAME prints that host's key from the monitor config's master key (and --next's)", async () => {
    const dir = newTempDir('iha-keys-');
    const cfg = join(dir, 'monitor.yaml');
    writeFileSync(cfg, `${HEAD}monitor_key: ${M}\nbeacon_master_key: ${B}\nbeacon_master_key_next: ${'c'.repeat(32)}\n`);
    const a = io();
    expect(await runKeysCommand(['host', 'cmp-01', '--config', cfg], a.io)).toBe(0);
    expect(a.out).toEqual([deriveHostKey(Buffer.from(B), 'cmp-01').toString()]);
    const n = io();
    expect(await runKeysCommand(['host', 'cmp-01', '--next', '--config', cfg], n.io)).toBe(0);
    expect(n.out).toEqual([deriveHostKey(Buffer.from('c'.repeat(32)), 'cmp-01').toString()]);
    await expect(runKeysCommand(['host', '../etc/passwd', '--config', cfg], io().io)).rejects.toThrow(/not a host name/);
  });

  it('refuses to print a key on a terminal', async () => {
    process.stdout.isTTY = true;
    const a = io();
    expect(await runKeysCommand(['generate'], a.io)).toBe(1);
    expect(a.out).toEqual([]);
    expect(a.err.join('\n')).toContain('refusing to print a key on a terminal');
    expect(existsSync('monitor.key')).toBe(false);
  });
});

describe('config check on a configuration with the old cluster_key', () => {
  it('is valid (exit 0), with a loud warning on stderr saying how to move', async () => {
    const dir = newTempDir('iha-keys-');
    const file = join(dir, 'monitor.yaml');
    writeFileSync(file, `${HEAD}cluster_key: ${'k'.repeat(32)}\n`);
    const a = io();
    expect(await runConfigCommand(['check', file], a.io)).toBe(0);
    expect(a.err.join('\n')).toMatch(/^WARNING .*'cluster_key' is deprecated.*Moving from cluster_key/);
    expect(a.out.join('\n')).toContain('valid monitor configuration (1 warning(s) above)');
  });
});
