import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runConfigCommand } from '../../src/cli/commands/config.js';
import { loadConfig } from '../../src/config/load.js';
import { MAX_CONFIG_FILE_BYTES, readTextFile } from '../../src/config/safe-file.js';
import { readMonitorConfig } from '../../src/daemon/monitor-config.js';
import { ConfigError } from '../../src/errors.js';
import { createDevice } from '../../src/fence/devices.js';
import { createLogger } from '../../src/log.js';
import { MAX_TIMER_MS, timerMs } from '../../src/timer-limit.js';
import { ensureBuilt } from '../helpers/build.js';
import { CLI } from '../helpers/processes.js';
import { tempDirs } from '../helpers/temp-dirs.js';
import { monitorDoc } from './fixtures.js';

// The real-process tests run dist/: build it first if stale (slow on a loaded machine, so not in a test's time).
beforeAll(() => ensureBuilt(), 300_000);

const tempDir = tempDirs();
const dir = tempDir('iha-cfgfiles-');

function fifo(name: string): string {
  const p = join(dir, name);
  execFileSync('mkfifo', ['-m', '600', p]);
  return p;
}

function file(name: string, content: string | Buffer, mode = 0o600): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  chmodSync(p, mode);
  return p;
}

function monitorWithKeyFile(keyFile: string): string {
  const doc = monitorDoc();
  delete doc.cluster_key;
  return file(`m-${keyFile.replace(/\W/g, '_')}.yaml`, stringify({ ...doc, cluster_key_file: keyFile }));
}

function problemsLoading(path: string): string[] {
  try {
    loadConfig(path, readMonitorConfig);
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.problems.map((p) => `${p.path}: ${p.reason}`);
  }
}

describe('secret files', () => {
  it.each<[string, () => string, RegExp]>([
    ['a FIFO (it used to hang the read)', () => fifo('key.fifo'), /is not a regular file \(it is a FIFO\)/],
    ['a directory', () => (mkdirSync(join(dir, 'keydir')), join(dir, 'keydir')), /is not a regular file \(it is a directory\)/],
    ['a character device', () => '/dev/zero', /is not a regular file \(it is a character device\)/],
    ['a symlink to a FIFO', () => (symlinkSync(fifo('key2.fifo'), join(dir, 'key-link')), join(dir, 'key-link')), /it is a FIFO/],
    ['non-UTF-8 bytes', () => file('key.latin1', Buffer.from('caf\xe9-0123456789abcdef\n', 'latin1')), /is not valid UTF-8 text/],
    ['larger than 64 KiB', () => file('key.big', 'k'.repeat(64 * 1024 + 1)), /larger than the 65536 bytes allowed/],
    ['readable by others', () => file('key.open', '0123456789abcdef0123\n', 0o644), /readable by group\/other/],
  ])('refuses a cluster_key_file that is %s, naming the key', (_what, make, reason) => {
    const problems = problemsLoading(monitorWithKeyFile(make()));
    expect(problems.length).toBe(1);
    expect(problems[0]).toMatch(/^cluster_key_file: /);
    expect(problems[0]).toMatch(reason);
  });

  it('reads a regular key file through a symlink', () => {
    const key = file('key.ok', '0123456789abcdef0123456789abcdef\n');
    symlinkSync(key, join(dir, 'key-ok-link'));
    expect(problemsLoading(monitorWithKeyFile(join(dir, 'key-ok-link')))).toEqual([]);
  });
});

describe('files a config names and a daemon reads later', () => {
  it.each<[string, (f: string) => Record<string, unknown>, string]>([
    ['compute.cacert', (f) => ({ compute: { cacert: f } }), 'compute.cacert'],
    ['compute.clouds_file', (f) => ({ compute: { clouds_file: f } }), 'compute.clouds_file'],
    ['notifications.tls.ca_file', (f) => ({ notifications: { url: 'amqps://h/', tls: { ca_file: f } } }), 'notifications.tls.ca_file'],
    ['status_api.tls.cert_file', (f) => ({ status_api: { tls: { cert_file: f, key: 'k' } } }), 'status_api.tls.cert_file'],
  ])('%s naming a FIFO is refused by the config check (the daemon would block on it)', (_key, patch, path) => {
    const f = fifo(`${path}.fifo`);
    const p = file(`${path}.yaml`, stringify({ ...monitorDoc(), ...patch(f) }));
    expect(problemsLoading(p)).toContain(`${path}: ${f} is not a regular file (it is a FIFO)`);
  });
});

describe('config files', () => {
  it.each<[string, () => string, RegExp]>([
    ['a FIFO', () => fifo('monitor.fifo'), /is not a regular file \(it is a FIFO\)/],
    ['over 1 MiB', () => file('big.yaml', `# ${'x'.repeat(MAX_CONFIG_FILE_BYTES)}\n`), /larger than the 1048576 bytes allowed/],
    [
      'non-UTF-8 in a host name',
      () => file('latin1.yaml', Buffer.from(`${stringify(monitorDoc())}hosts: [caf\xe9]\n`, 'latin1')),
      /not valid UTF-8 text \(a non-UTF-8 byte on line 10\)/,
    ],
    ['missing', () => join(dir, 'nope.yaml'), /cannot read .*ENOENT/],
  ])('refuses a config file that is %s, naming the file', (_what, make, reason) => {
    const path = make();
    let err: unknown;
    try {
      loadConfig(path, readMonitorConfig);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message.startsWith(`${path}: 1 problem(s):`)).toBe(true);
    expect((err as ConfigError).message).toMatch(reason);
  });

  it('readTextFile checks the opened file too, and decodes strictly', () => {
    expect(readTextFile(file('ok.txt', 'héllo'), 100)).toMatchObject({ ok: true, text: 'héllo' });
    expect(readTextFile(file('bad.txt', Buffer.from([0x68, 0xff, 0x0a])), 100)).toMatchObject({ ok: false });
    expect(readTextFile('/tmp/a\0b', 100)).toMatchObject({ ok: false, reason: expect.stringMatching(/NUL byte/) });
  });
});

describe('config check', () => {
  const run = async (args: string[]): Promise<{ code: number; out: string[]; err: string[] }> => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runConfigCommand(args, { out: (s) => out.push(s), err: (s) => err.push(s), isTty: false });
    return { code, out, err };
  };

  it('exits 1 with one line per problem, each naming the key, the value and the range', async () => {
    const path = file('bad.yaml', stringify({ ...monitorDoc(), detection: { max_clock_skew: '9999h' }, hosts: ['__proto__'] }));
    const r = await run(['check', path]);
    expect(r.code).toBe(1);
    const lines = r.err.join('\n').split('\n');
    expect(lines).toEqual([
      `${path}: 2 problem(s):`,
      `  - 'detection.max_clock_skew' must be between 1s and 1h, got '9999h'`,
      expect.stringMatching(/^ {2}- 'hosts\[0\]' is not a host name \(RFC 1123.*got '__proto__'$/),
    ]);
  });

  it('a FIFO given as the file: exit 1 at once, not a hang (real process)', async () => {
    const path = fifo('check.fifo');
    const res = await promisify(execFile)(process.execPath, [CLI, 'config', 'check', path], { timeout: 30_000 }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; killed: boolean; stderr: string }) => ({ code: e.killed ? -1 : e.code, stderr: e.stderr }),
    );
    expect(res.code).toBe(1);
    expect(res.stderr.trim()).toBe(`${path}: 1 problem(s):\n  - is not a regular file (it is a FIFO)`);
  });
});

describe('daemon start', () => {
  it('instance-ha monitor refuses a config with an unbounded value: exit 78, one line per problem, no stack (real process)', async () => {
    const path = file('start.yaml', stringify({ ...monitorDoc(), fencing: { action_timeout: '9999h' } }));
    const res = await promisify(execFile)(process.execPath, [CLI, 'monitor', '--config', path], { timeout: 30_000 }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; killed: boolean; stderr: string }) => ({ code: e.killed ? -1 : e.code, stderr: e.stderr }),
    );
    expect(res.code).toBe(78);
    expect(res.stderr.trim()).toBe(`${path}: 1 problem(s):\n  - 'fencing.action_timeout' must be between 100ms and 10m, got '9999h'`);
  });
});

describe('timers at the edge', () => {
  it('timerMs keeps every delay within what Node honours', () => {
    expect([NaN, -5, 0, 1500, MAX_TIMER_MS, MAX_TIMER_MS + 1, 9999 * 3_600_000, Infinity].map(timerMs)).toEqual([
      0,
      0,
      0,
      1500,
      MAX_TIMER_MS,
      MAX_TIMER_MS,
      MAX_TIMER_MS,
      MAX_TIMER_MS,
    ]);
  });

  it('a native IPMI device with a 9999h timeout answers with a result, never ERR_OUT_OF_RANGE', async () => {
    const dev = createDevice(
      {
        name: 'd1',
        agent: 'native-ipmi',
        options: { ip: '127.0.0.1', username: 'admin' },
        password: 'pw',
        timeoutMs: 9999 * 3_600_000,
        verify: true,
      },
      createLogger({ level: 'silent' }),
    );
    const r = await dev.run('status', AbortSignal.abort());
    expect(r).toMatchObject({ ok: false, exitCode: 1, timedOut: false });
    expect(r.detail).toMatch(/abort/i);
  });
});
