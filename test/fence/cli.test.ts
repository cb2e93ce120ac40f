import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAgentsCommand } from '../../src/cli/commands/agents.js';
import { parseFenceArgs, runFenceAction } from '../../src/cli/commands/fence.js';
import { FENCING_DEFAULTS, type FencingConfig } from '../../src/fence/config.js';
import { TopologyFencer } from '../../src/fence/fencer.js';
import { silentLogger } from '../../src/log.js';
import { agentPath, ensureBuilt } from '../helpers/build.js';

let dir: string;
beforeAll(() => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'iha-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function setup(confirmAnswer: boolean): {
  deps: Parameters<typeof runFenceAction>[1];
  out: string[];
  err: string[];
  asked: string[];
  state: () => string;
} {
  const stateFile = join(dir, 'cli.state');
  writeFileSync(stateFile, 'on\n');
  const config: FencingConfig = {
    ...FENCING_DEFAULTS,
    kdump: { ...FENCING_DEFAULTS.kdump },
    retries: 0,
    devices: new Map([
      [
        'fake',
        {
          name: 'fake',
          agent: 'fence_fake',
          agentPath: agentPath('fence_fake'),
          options: { state_file: stateFile },
          timeoutMs: 10_000,
          verify: true,
        },
      ],
    ]),
    hosts: new Map([['compute-1', { host: 'compute-1', levels: [['fake']], kdumpAddresses: [] }]]),
  };
  const out: string[] = [];
  const err: string[] = [];
  const asked: string[] = [];
  return {
    out,
    err,
    asked,
    state: () => readFileSync(stateFile, 'utf8').trim(),
    deps: {
      fencer: new TopologyFencer({ config, log: silentLogger(), monitorId: 'cli' }),
      confirm: async (q) => (asked.push(q), confirmAnswer),
      out: (l) => out.push(l),
      err: (l) => err.push(l),
    },
  };
}

describe('instance-ha fence', () => {
  it('parses arguments', () => {
    expect(parseFenceArgs(['h1'])).toEqual({ host: 'h1', action: 'off', yes: false });
    expect(parseFenceArgs(['--action', 'status', 'h1', '--yes'])).toEqual({ host: 'h1', action: 'status', yes: true });
    expect(parseFenceArgs(['h1', '--action=cycle'])).toEqual({ error: "--action must be one of off, on, reboot, status, got 'cycle'" });
    expect(parseFenceArgs([])).toEqual({ error: 'HOST is required' });
  });

  it('asks before powering off, and does nothing when not confirmed', async () => {
    const t = setup(false);
    expect(await runFenceAction(['compute-1'], t.deps)).toBe(1);
    expect(t.asked).toEqual(["power OFF (fence) host 'compute-1'? [y/N] "]);
    expect(t.state()).toBe('on');
  });

  it('--yes fences without asking and prints the attempts', async () => {
    const t = setup(false);
    expect(await runFenceAction(['compute-1', '--yes'], t.deps)).toBe(0);
    expect(t.asked).toEqual([]);
    expect(t.state()).toBe('off');
    expect(t.out[0]).toMatch(/^compute-1: fenced \(verified off\) by level 1 \[fake\] in \d+ms$/);
    expect(t.out.slice(1).map((l) => l.replace(/\d+ms/, 'Nms'))).toEqual([
      '  level 1 fake (fence_fake) off: ok exit=0 Nms — Success: Powered OFF',
      '  level 1 fake (fence_fake) status: ok exit=2 Nms — Status: OFF',
    ]);
  });

  it('status needs no confirmation; unknown host fails cleanly; usage errors exit 64', async () => {
    const t = setup(false);
    expect(await runFenceAction(['compute-1', '--action', 'status'], t.deps)).toBe(0);
    expect(t.out).toEqual(['compute-1: fake: power ON']);
    expect(await runFenceAction(['nowhere', '--action', 'status'], t.deps)).toBe(1);
    expect(await runFenceAction(['--bogus'], t.deps)).toBe(64);
  });

  it('refuses a host with no fencing topology by name, before asking or touching anything', async () => {
    const t = setup(true);
    const deps = { ...t.deps, knownHosts: ['compute-1'], file: '/etc/instance-ha/monitor.yaml' };
    expect(await runFenceAction(['compute-99', '--yes'], deps)).toBe(1);
    expect(t.err).toEqual([
      "instance-ha fence: unknown host 'compute-99': it has no fencing topology in /etc/instance-ha/monitor.yaml (fencing.hosts: compute-1); nothing done",
    ]);
    expect([t.asked, t.out, t.state()]).toEqual([[], [], 'on']);
  });
});

describe('instance-ha agents metadata', () => {
  const io = (): { out: string[]; err: string[]; deps: Parameters<typeof runAgentsCommand>[1] } => {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, deps: { out: (l) => out.push(l), err: (l) => err.push(l) } };
  };
  it('prints the metadata of native-ipmi and of an agent executable', async () => {
    const a = io();
    expect(await runAgentsCommand(['metadata', 'native-ipmi'], a.deps, silentLogger())).toBe(0);
    expect(a.out.join('\n')).toContain('<resource-agent name="native-ipmi"');
    const b = io();
    expect(await runAgentsCommand(['metadata', 'fence_fake'], b.deps, silentLogger())).toBe(0);
    expect(b.out.join('\n')).toContain('<parameter name="state_file"');
  });
  it('fails clearly for an unknown agent or bad usage', async () => {
    const a = io();
    expect(await runAgentsCommand(['metadata', 'fence_nope'], a.deps, silentLogger())).toBe(1);
    expect(a.err[0]).toMatch(/'fence_nope' not found/);
    expect(await runAgentsCommand(['list'], a.deps, silentLogger())).toBe(64);
  });
});
