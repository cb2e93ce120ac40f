import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { controlRequest } from '../../src/control/client.js';
import type { StatusSnapshot } from '../../src/core/status-snapshot.js';
import { ensureBuilt } from '../helpers/build.js';
import { CLI } from '../helpers/processes.js';

/**
 * `instance-ha demo --keep` as a newcomer follows it, in real processes: the printed helper commands
 * kill a host (it is fenced and recovered), revive it (powered on at its BMC, beacon back), and the
 * printed `unfence` returns it to service, printing its progress.
 */
const tmp = mkdtempSync(join(tmpdir(), 'iha-demo-keep-'));
const env = { ...process.env, TMPDIR: tmp };
let demo: ChildProcess | null = null;
afterAll(async () => {
  if (demo?.pid) {
    process.kill(demo.pid, 'SIGINT');
    await new Promise((r) => demo!.once('exit', r));
  }
  rmSync(tmp, { recursive: true, force: true });
});

const cli = (...args: string[]): { code: number | null; out: string; err: string } => {
  const r = spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

async function until(socket: string, what: string, ok: (s: StatusSnapshot) => boolean, ms: number): Promise<StatusSnapshot> {
  const deadline = Date.now() + ms;
  for (;;) {
    const s = (await controlRequest(socket, 'GET', '/status')).body as unknown as StatusSnapshot;
    if (ok(s)) return s;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(s.hosts.map((h) => [h.host, h.state]))}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('demo --keep', () => {
  it('kill, revive and unfence a host with the commands the demo prints', async () => {
    ensureBuilt();
    demo = spawn(process.execPath, [CLI, 'demo', '--hosts', '3', '--servers', '2', '--keep'], {
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    demo.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    const deadline = Date.now() + 120_000;
    while (!out.includes('Ctrl-C stops everything') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(out).toContain('demo kill compute-3');
    expect(out).toContain('demo revive compute-3');
    const socket = /status --socket (\S+)/.exec(out)![1]!;
    const config = /unfence compute-3 --config (\S+)/.exec(out)![1]!;

    const kill = cli('demo', 'kill', 'compute-3');
    expect(kill.code, kill.err).toBe(0);
    expect(kill.out).toContain('compute-3: power lost');
    await until(socket, 'compute-3 recovered', (s) => s.hosts.find((h) => h.host === 'compute-3')?.state === 'evacuated', 60_000);
    expect(cli('demo', 'kill', 'nope').err).toContain('no host nope in this demo');

    // status: the beacon's last word is old news, Nova's own view (polled every 30 s) says forced down.
    let row = '';
    let text = '';
    for (const end = Date.now() + 45_000; Date.now() < end; await new Promise((r) => setTimeout(r, 1000))) {
      text = cli('status', '--socket', socket).out;
      row = text.split('\n').find((l) => l.startsWith('compute-3 ')) ?? '';
      if (row.includes('forced_down')) break;
    }
    expect(text).toMatch(/^HOST\s+STATE\s+LAST HEARTBEAT\s+HERE\s+BEACON SAID\s+NOVA SAYS\s/m);
    expect(row).toMatch(/\sevacuated\s.*\sup \(\d+(\.\d)?s ago\)\s+down, forced_down, disabled \(instance-ha: fenced by mon\d/);
    expect(text).toMatch(/^NOVA SAYS: os-services as of \d+s ago \(polled every 30s\)$/m);

    const revive = cli('demo', 'revive', 'compute-3');
    expect(revive.code, revive.err).toBe(0);
    expect(revive.out).toMatch(/compute-3: powered on at bmc-compute-3 and booting/);
    await until(socket, 'compute-3 heard again', (s) => s.hosts.find((h) => h.host === 'compute-3')?.localLevel === 'up', 30_000);

    const unfence = cli('unfence', 'compute-3', '--config', config);
    expect(unfence.code, unfence.err + unfence.out).toBe(0);
    expect(unfence.out).toMatch(/compute-3 \+\d+\.\ds: returning to service: waits for its beacon/);
    expect(unfence.out).toMatch(/attempt \d+: Nova cleared forced_down/);
    expect(unfence.out).toContain('compute-3: watched again by the monitors');
    await until(socket, 'compute-3 up', (s) => s.hosts.find((h) => h.host === 'compute-3')?.state === 'up', 15_000);
  }, 300_000);
});
