import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeClusterFiles, type ClusterLayout } from '../../src/demo/cluster-files.js';
import { startIpmiSim, SIM_PASSWORD, SIM_USER, type IpmiSim } from '../../src/ipmi/ipmi-sim-launcher.js';
import { agentPath } from '../helpers/build.js';
import { haveTools } from '../helpers/require.js';
import { Processes, hostState, randomBasePort, waitForStatus } from '../helpers/processes.js';

/**
 * The detection-to-fence path on real processes: three monitors, three beacons, one ipmi_sim BMC per
 * host. A beacon SIGKILLed → failed by quorum → powered off through agents/fence_ipmi → `fenced`.
 * A host whose BMC rejects our password is never reported fenced: `fence_failed` with an alarm.
 */
const run = haveTools('detect-and-fence', ['ipmi_sim', 'ipmitool']);
const hosts = ['cmp1', 'cmp2', 'cmp3'];
let p: Processes;
let layout: ClusterLayout;
const bmcs = new Map<string, IpmiSim>();

describe.runIf(run)('beacon killed → failed by quorum → fenced through fence_ipmi on ipmi_sim', () => {
  beforeAll(async () => {
    p = new Processes();
    for (const h of hosts) bmcs.set(h, await startIpmiSim());
    const devices = Object.fromEntries(
      hosts.map((h) => [
        `bmc-${h}`,
        {
          agent: agentPath('fence_ipmi'),
          options: { ip: '127.0.0.1', ipport: String(bmcs.get(h)!.port), username: SIM_USER, lanplus: '1', cipher: '3' },
          password: h === 'cmp3' ? 'not-the-password' : SIM_PASSWORD,
        },
      ]),
    );
    const fencing = { retries: 0, action_timeout: '10s', devices, hosts: Object.fromEntries(hosts.map((h) => [h, { levels: [[`bmc-${h}`]] }])) };
    layout = writeClusterFiles(p.dir, { monitors: 3, hosts, basePort: randomBasePort(), monitorExtra: () => ({ fencing, mass_failure: { max_failed_fraction: 1 } }) });
    for (const m of layout.monitors) p.start(m.id, ['monitor', '--config', m.config]);
    for (const h of layout.hosts) {
      const child = p.start(h.name, ['beacon', '--config', h.config]);
      // The BMC powering the host off ends its beacon, as a real power-off would.
      bmcs.get(h.name)!.setHook(`#!/bin/sh\n[ "$1" = 0 ] && kill -9 -${child.pid} 2>/dev/null\nexit 0\n`);
    }
    const ok = await waitForStatus(layout.monitors[0]!.socket, (s) => s.cluster.coordinator !== null && s.hosts.every((h) => h.state === 'up' && h.lastHeartbeatAgeMs !== null), 15_000);
    expect(ok.ok).toBe(true);
  });

  afterAll(async () => {
    p?.cleanup();
    await Promise.all([...bmcs.values()].map((b) => b.stop()));
  });

  it('fences the host, verifies it off, and shows the record in status', async () => {
    expect(bmcs.get('cmp2')!.power()).toBe('on');
    p.kill('cmp2');
    const res = await waitForStatus(layout.monitors[2]!.socket, (s) => hostState(s, 'cmp2') === 'fenced', 20_000);
    expect(res.ok, JSON.stringify(res.snap?.hosts.find((h) => h.host === 'cmp2'))).toBe(true);
    expect(bmcs.get('cmp2')!.power()).toBe('off');
    const fence = res.snap!.hosts.find((h) => h.host === 'cmp2')!.fence as { ok: boolean; level: number; agent: string; durationMs: number; by: string };
    expect(fence).toMatchObject({ ok: true, level: 1 });
    expect(fence.agent).toMatch(/fence_ipmi/);
    expect(fence.durationMs).toBeGreaterThan(0);
    // The other hosts were left alone.
    expect(bmcs.get('cmp1')!.power()).toBe('on');
    expect(hostState(res.snap, 'cmp1')).toBe('up');
  });

  it('never reports a host fenced when its BMC refuses us: fence_failed, with an alarm', async () => {
    p.kill('cmp3');
    const res = await waitForStatus(layout.monitors[0]!.socket, (s) => hostState(s, 'cmp3') === 'fence_failed', 20_000);
    expect(res.ok, JSON.stringify(res.snap?.hosts.find((h) => h.host === 'cmp3'))).toBe(true);
    expect(bmcs.get('cmp3')!.power()).toBe('on');
    expect(res.snap!.alarms.some((a) => a.kind === 'fence_failed' && a.message.includes('cmp3'))).toBe(true);
    // The coordinator's event log on the acting monitor records the failed fence and no success.
    const coordinator = layout.monitors.find((m) => m.id === res.snap!.cluster.coordinator)!;
    const s = await waitForStatus(coordinator.socket, (x) => x.recentEvents.some((e) => e.type === 'host.fence_failed' && e.host === 'cmp3'), 5000);
    expect(s.snap!.recentEvents.some((e) => e.type === 'host.fenced' && e.host === 'cmp3')).toBe(false);
  });
});
