import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeClusterFiles, type ClusterLayout } from '../../src/testbed/demo/cluster-files.js';
import { ensureBuilt } from '../helpers/build.js';
import { CLI } from '../helpers/processes.js';

/**
 * Every command's slip, run as the real CLI process: exit 64 (EX_USAGE, as for an unknown command),
 * and one style on stderr: what is wrong, then the command's `Usage: instance-ha CMD …` line.
 * A usage error is judged before any file is read (a missing config must not turn it into 78).
 */
let dir: string;
let layout: ClusterLayout;
beforeAll(() => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'iha-usage-'));
  layout = writeClusterFiles(dir, {
    monitors: 1,
    hosts: ['compute-1'],
    basePort: 47_000,
    monitorExtra: () => ({
      fencing: {
        retries: 0,
        // Nothing listens there: every attempt fails fast, and the fencer warns about it.
        devices: {
          'bmc-compute-1': {
            agent: 'native-ipmi',
            options: { ip: '127.0.0.1', ipport: 9, username: 'admin' },
            password: 'pw',
            timeout: '1s',
          },
        },
        hosts: { 'compute-1': { levels: [['bmc-compute-1']] } },
      },
    }),
  });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cli = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', input: '', timeout: 30_000 });

const SLIPS: Array<[string, string[]]> = [
  ['monitor', ['monitor']],
  ['beacon', ['beacon']],
  ['status', ['status', '--bogus']],
  ['maintenance', ['maintenance', 'compute-1']],
  ['ack-mass-failure', ['ack-mass-failure', '--bogus']],
  ['forget', ['forget']],
  ['confirm-fenced', ['confirm-fenced']],
  ['config', ['config', 'lint']],
  ['history', ['history', '--bogus']],
  ['fence', ['fence', 'compute-1']],
  ['fence', ['fence', 'compute-1', '--config', '/nonexistent/monitor.yaml', '--action', 'melt']],
  ['agents', ['agents', 'list']],
  ['events', ['events', '--bogus']],
  ['demo', ['demo', '--bogus']],
  ['demo', ['demo', 'kill']],
  ['unfence', ['unfence']],
  ['recover', ['recover']],
  ['keys', ['keys', 'rotate']],
];

describe('usage errors', () => {
  it.each(SLIPS)('%s %#: exit 64 with its Usage line', (name, args) => {
    const r = cli(args);
    expect([r.status, r.stdout]).toEqual([64, '']);
    expect(r.stderr).toMatch(new RegExp(`^Usage: instance-ha ${name}\\b`, 'm'));
    // No other casing or wording of it anywhere.
    expect(r.stderr).not.toMatch(/^usage:/m);
  });

  it('an unknown command exits 64 too', () => {
    expect(cli(['fnece']).status).toBe(64);
  });
});

describe('instance-ha fence', () => {
  it('says a host it has no fencing topology for is unknown, and does nothing', () => {
    const r = cli(['fence', 'compute-99', '--config', layout.monitors[0]!.config, '--yes']);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(
      `instance-ha fence: unknown host 'compute-99': it has no fencing topology in ${layout.monitors[0]!.config} (fencing.hosts: compute-1); nothing done`,
    );
    expect(r.stdout).toBe('');
  });
});

describe('human output', () => {
  it('a one-shot command prints its warnings as words on stderr, never a JSON log line', () => {
    const r = cli(['fence', 'compute-1', '--config', layout.monitors[0]!.config, '--action', 'status']);
    expect(r.status).toBe(1);
    const all = `${r.stdout}${r.stderr}`.split('\n').filter(Boolean);
    expect(all.filter((l) => l.trimStart().startsWith('{'))).toEqual([]);
    expect(r.stderr).toMatch(
      /^warning: fence attempt \(host=compute-1 fenceLevel=1 device=bmc-compute-1 agent=native-ipmi action=status /m,
    );
    expect(r.stderr).not.toContain('pw');
  });
});
