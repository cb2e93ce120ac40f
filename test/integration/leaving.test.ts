import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultCoreSettings, detectionBoundMs } from '../../src/core/settings.js';
import { CLI_PATH } from '../../src/testbed/demo/processes.js';
import { getJson, startOpsCluster, type OpsCluster } from '../helpers/ops-cluster.js';
import { exitOf, hostState, status, waitForStatus } from '../helpers/processes.js';

/**
 * #11 item 3 on real processes: three monitors and three beacon processes on loopback, fencing
 * through agents/fence_fake (a power file per host). SIGTERM to a beacon (what `systemctl stop`, a
 * package upgrade or an orderly reboot send) → every monitor shows the host `left`, nobody fences
 * it, status says its instances are not protected (exit 0: not an alarm); a restarted beacon (a new
 * boot id) → up again; SIGKILL → declared and fenced as before.
 */
const run = promisify(execFile);
const bound = detectionBoundMs(defaultCoreSettings('mon1', ['mon1', 'mon2', 'mon3']), 200);
let ops: OpsCluster;

const power = (h: string): string => readFileSync(ops.powerFile(h), 'utf8').trim();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a beacon stopped cleanly, on real processes', () => {
  beforeAll(async () => {
    ops = await startOpsCluster({ monitors: 3, hosts: ['cmp1', 'cmp2', 'cmp3'] });
  }, 60_000);
  afterAll(() => ops?.p.cleanup());

  it('SIGTERM: the beacon exits 0 after its leaving; every monitor shows it left, and it is never fenced', async () => {
    const beacon = ops.p.children.get('cmp1')!;
    const exited = exitOf(beacon, 5000);
    ops.p.kill('cmp1', 'SIGTERM');
    await exited;
    expect(beacon.exitCode).toBe(0);
    expect(readFileSync(join(ops.p.dir, 'cmp1.log'), 'utf8')).toMatch(/leaving sent/);
    for (const m of ops.layout.monitors) {
      const left = await waitForStatus(m.socket, (s) => hostState(s, 'cmp1') === 'left', 5000);
      expect(left.ok, `${m.id}: ${JSON.stringify(left.snap?.hosts.find((h) => h.host === 'cmp1'))}`).toBe(true);
    }
    // Well past the detection bound (and the stability window): still left, never declared, never powered off.
    await sleep(bound + 3000);
    for (const m of ops.layout.monitors) {
      const s = (await status(m.socket))!;
      const h = s.hosts.find((x) => x.host === 'cmp1')!;
      expect(h).toMatchObject({ state: 'left', localLevel: 'dead' });
      expect(h.left?.bootId).toMatch(/^[0-9a-f]{32}$/);
      expect(s.recentEvents.filter((e) => 'host' in e && e.host === 'cmp1').map((e) => e.type)).toEqual(['host.left']);
      expect(s.alarms).toEqual([]);
    }
    expect(power('cmp1')).toBe('on');

    // What the operator sees: status exits 0 (not an alarm) and says plainly the host is not protected.
    const socket = ops.layout.monitors[0]!.socket;
    const out = await run(process.execPath, [CLI_PATH, 'status', '--socket', socket], { encoding: 'utf8' });
    expect(out.stdout).toMatch(/HEALTHY: .*1 host left \(beacon stopped cleanly: NOT protected\)/);
    expect(out.stdout).toMatch(/^LEFT \(beacon stopped cleanly; never fenced for it; instances NOT protected/m);
    expect(out.stdout).toMatch(/cmp1\s+left/);
    // The status API, the metrics' host state gauge, and the history.
    const hosts = await getJson<{ counts: Record<string, number> }>(`${ops.api.mon1}/api/hosts?state=left`);
    expect(hosts.body.counts.left).toBe(1);
    const metrics = await (await fetch(ops.metrics.mon2!)).text();
    expect(metrics).toMatch(/^instance_ha_hosts\{state="left"\} 1$/m);
    const history = await getJson<{ entries: Array<{ type?: string; event?: { type: string } }> }>(`${ops.api.mon3}/api/history?host=cmp1`);
    expect(JSON.stringify(history.body)).toMatch(/host\.left/);
  }, 30_000);

  it('stays left across a restart of every monitor at once (the mark is on disk, no peer holds it in memory)', async () => {
    await Promise.all(
      ops.layout.monitors.map(async (m) => {
        const exited = exitOf(ops.p.children.get(m.id)!, 15_000);
        ops.p.kill(m.id, 'SIGTERM');
        await exited;
      }),
    );
    for (const m of ops.layout.monitors) ops.p.start(m.id, ['monitor', '--config', m.config]);
    for (const m of ops.layout.monitors) {
      const back = await waitForStatus(m.socket, (s) => s.cluster.coordinator !== null && hostState(s, 'cmp1') === 'left', 10_000);
      expect(back.ok, `${m.id}: ${JSON.stringify(back.snap?.hosts.find((h) => h.host === 'cmp1'))}`).toBe(true);
    }
    await sleep(bound + 2000);
    for (const m of ops.layout.monitors) expect(hostState(await status(m.socket), 'cmp1'), m.id).toBe('left');
    expect(power('cmp1')).toBe('on');
  }, 40_000);

  it('started again (a new boot id), the host is up and watched: nothing was fenced meanwhile', async () => {
    const cfg = ops.layout.hosts.find((h) => h.name === 'cmp1')!.config;
    ops.p.start('cmp1', ['beacon', '--config', cfg]);
    for (const m of ops.layout.monitors) {
      const up = await waitForStatus(m.socket, (s) => hostState(s, 'cmp1') === 'up', 5000);
      expect(up.ok, m.id).toBe(true);
      expect(up.snap!.recentEvents).toContainEqual(expect.objectContaining({ type: 'host.rejoined', host: 'cmp1', previous: 'left' }));
    }
    expect(power('cmp1')).toBe('on');
  }, 20_000);

  it('SIGKILL (no word from the beacon) is still a failure: declared and fenced as before', async () => {
    ops.p.kill('cmp2', 'SIGKILL');
    const fenced = await waitForStatus(
      ops.layout.monitors[0]!.socket,
      (s) => ['fenced', 'recovering', 'evacuated'].includes(hostState(s, 'cmp2') ?? ''),
      bound + 10_000,
    );
    expect(fenced.ok, JSON.stringify(fenced.snap?.hosts.find((h) => h.host === 'cmp2'))).toBe(true);
    expect(power('cmp2')).toBe('off');
    expect(hostState(fenced.snap, 'cmp1')).toBe('up');
    expect(power('cmp1')).toBe('on');
  }, 30_000);
});
