import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeClusterFiles, type ClusterLayout } from '../../src/testbed/demo/cluster-files.js';
import type { ClusterEvent } from '../../src/core/events.js';
import { defaultCoreSettings, detectionBoundMs } from '../../src/core/settings.js';
import { clusterBasePort } from '../helpers/ports.js';
import { Processes, hostState, status, waitForStatus } from '../helpers/processes.js';

/**
 * Three monitors and ten beacons as real processes on 127.0.0.1: a killed beacon is suspected, then
 * declared failed by a quorum of monitors, on every monitor; the cluster keeps quorum with one
 * monitor down and, with two down, the survivor says it has no quorum and declares nothing. (How
 * fast a death is declared is a timing goal: `npm run bench:detection` and, on real processes,
 * `npm run bench:detection:processes`.)
 */
const hosts = Array.from({ length: 10 }, (_, i) => `cmp${i + 1}`);
const bound = detectionBoundMs(defaultCoreSettings('mon1', ['mon1', 'mon2', 'mon3']), 500);
const WAIT_MS = bound + 20_000;
let p: Processes;
let layout: ClusterLayout;
const killedMonitors: string[] = [];

beforeAll(async () => {
  p = new Processes();
  layout = writeClusterFiles(p.dir, { monitors: 3, hosts, basePort: await clusterBasePort(3) });
  for (const m of layout.monitors) p.start(m.id, ['monitor', '--config', m.config]);
  for (const h of layout.hosts) p.start(h.name, ['beacon', '--config', h.config]);
  const ready = await waitForStatus(
    layout.monitors[0]!.socket,
    (s) => s.cluster.coordinator !== null && s.hosts.filter((h) => h.state === 'up' && h.lastHeartbeatAgeMs !== null).length === 10,
    15_000,
  );
  expect(ready.ok, 'cluster did not come up').toBe(true);
});

afterAll(() => p?.cleanup());

describe('monitors and beacons as real processes', () => {
  it("declares a SIGKILLed beacon's host failed, suspect first and by a quorum, on every monitor", async () => {
    p.kill('cmp3');
    // A deadline for the wait, far above the detection bound: not a measure of detection time.
    const failed = await waitForStatus(layout.monitors[1]!.socket, (s) => hostState(s, 'cmp3') === 'failed', WAIT_MS);
    expect(failed.ok, `cmp3 is ${hostState(failed.snap, 'cmp3')}`).toBe(true);
    // Decisions are made by the coordinator and shared: every monitor shows them.
    for (const m of layout.monitors) {
      // Followers adopt the decision with the coordinator's next heartbeat (≤ 200 ms).
      const seen = await waitForStatus(m.socket, (s) => hostState(s, 'cmp3') === 'failed', 3000);
      expect(seen.ok, `${m.id} shows cmp3 ${hostState(seen.snap, 'cmp3')}`).toBe(true);
    }
    const others = failed.snap!.hosts.filter((h) => h.host !== 'cmp3');
    expect(others.every((h) => h.state === 'up')).toBe(true);
    // The coordinator's record of it, in order: suspected, then declared on dead votes of a quorum.
    const coordinator = layout.monitors.find((m) => m.id === failed.snap!.cluster.coordinator)!;
    const events = (await status(coordinator.socket))!.recentEvents.filter((e) => 'host' in e && e.host === 'cmp3');
    const kinds = events.map((e) => e.type);
    expect(kinds.indexOf('host.suspect'), kinds.join(' ')).toBeGreaterThanOrEqual(0);
    expect(kinds.indexOf('host.failed')).toBeGreaterThan(kinds.indexOf('host.suspect'));
    const declared = events.find((e) => e.type === 'host.failed') as Extract<ClusterEvent, { type: 'host.failed' }>;
    expect(declared.votes.length).toBeGreaterThanOrEqual(2);
    expect(events.filter((e) => e.type === 'host.failed')).toHaveLength(1);
  });

  it('keeps quorum and a coordinator when the coordinator itself is SIGKILLed', async () => {
    const before = await status(layout.monitors[0]!.socket);
    const first = before!.cluster.coordinator!;
    expect(first).not.toBeNull();
    p.kill(first);
    const survivors = layout.monitors.filter((m) => m.id !== first);
    const res = await waitForStatus(
      survivors[0]!.socket,
      (s) => s.cluster.quorate && s.cluster.coordinator !== null && s.cluster.coordinator !== first && s.cluster.votes === 2,
      10_000,
    );
    expect(res.ok, JSON.stringify(res.snap?.cluster)).toBe(true);
    // The other survivor agrees once the new coordinator's first beat has reached it.
    const other = await waitForStatus(survivors[1]!.socket, (s) => s.cluster.coordinator === res.snap!.cluster.coordinator, 5000);
    expect(other.ok, JSON.stringify(other.snap?.cluster)).toBe(true);
    killedMonitors.push(first);
  });

  it('with a second monitor SIGKILLed, the survivor reports no quorum and declares nothing', async () => {
    const [second, last] = layout.monitors.filter((m) => !killedMonitors.includes(m.id));
    p.kill(second!.id);
    const noQuorum = await waitForStatus(last!.socket, (s) => !s.cluster.quorate, 10_000);
    expect(noQuorum.ok).toBe(true);
    expect(noQuorum.snap!.cluster.coordinator).toBeNull();
    expect(noQuorum.snap!.alarms.some((a) => a.kind === 'no_quorum')).toBe(true);
    // A host dying now must not be declared by a monitor without quorum.
    p.kill('cmp5');
    await new Promise((r) => setTimeout(r, bound + 1000));
    const s = await status(last!.socket);
    expect(hostState(s, 'cmp5')).not.toBe('failed');
    expect(s!.hosts.find((h) => h.host === 'cmp5')!.localLevel).toBe('dead');
    expect(s!.recentEvents.filter((e) => e.type === 'host.failed' && e.host === 'cmp5')).toEqual([]);
  });
});
