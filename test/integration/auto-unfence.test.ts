import { afterEach, describe, expect, it } from 'vitest';
import { controlRequest } from '../../src/control/client.js';
import { hostState, status, waitForStatus } from '../helpers/processes.js';
import { startRecoveryCluster, type RecoveryCluster } from '../helpers/recovery-cluster.js';

/**
 * The opt-in automatic return of a host: recovered, then back with a new boot and a live
 * nova-compute for the quiet period → forced_down cleared (after Nova's 400 while `done`
 * evacuations remain), service enabled, and the monitors watch it as `up` again.
 */
let c: RecoveryCluster | undefined;
afterEach(async () => {
  await c?.stop();
  c = undefined;
});

describe('recovery.unfence.auto', () => {
  it('returns a recovered host to service once it has been healthy for the quiet period', async () => {
    c = await startRecoveryCluster({
      hosts: ['compute-1', 'compute-2', 'compute-3'],
      victim: 'compute-1',
      servers: 2,
      recovery: { unfence: { auto: true, quiet_period: '1s', retry_interval: '300ms' } },
    });
    const { p, sim, layout } = c;
    p.kill('compute-1');
    sim.model.killCompute('compute-1');
    const recovered = await waitForStatus(layout.monitors[0]!.socket, (s) => hostState(s, 'compute-1') === 'evacuated', 30_000);
    expect(recovered.ok).toBe(true);
    const service = () => [...sim.model.services.values()].find((s) => s.host === 'compute-1')!;
    expect(service()).toMatchObject({ forcedDown: true, status: 'disabled' });
    // Still recovered, not returned, while the host stays down.
    await new Promise((r) => setTimeout(r, 2000));
    expect(hostState(await status(layout.monitors[0]!.socket), 'compute-1')).toBe('evacuated');

    // The host boots again: a new beacon life, and its nova-compute restarts (init_host completes the evacuations).
    const beacon = layout.hosts.find((h) => h.name === 'compute-1')!;
    p.start('compute-1-again', ['beacon', '--config', beacon.config]);
    sim.model.restartCompute('compute-1');
    const back = await waitForStatus(layout.monitors[0]!.socket, (s) => hostState(s, 'compute-1') === 'up', 20_000);
    expect(back.ok, JSON.stringify(back.snap?.hosts.find((h) => h.host === 'compute-1'))).toBe(true);
    expect(service()).toMatchObject({ forcedDown: false, status: 'enabled' });
  });
});

describe('returning a host through any monitor', () => {
  it('a clear asked of a monitor that is not the coordinator reaches the coordinator and applies everywhere', async () => {
    c = await startRecoveryCluster({ hosts: ['compute-1', 'compute-2', 'compute-3'], victim: 'compute-1', servers: 2 });
    const { p, sim, layout, coordinator } = c;
    p.kill('compute-1');
    sim.model.killCompute('compute-1');
    for (const m of layout.monitors) {
      const r = await waitForStatus(m.socket, (s) => hostState(s, 'compute-1') === 'evacuated', 30_000);
      expect(r.ok, m.id).toBe(true);
    }
    const follower = layout.monitors.find((m) => m.id !== coordinator)!;
    const res = await controlRequest(follower.socket, 'POST', '/clear', { host: 'compute-1', by: 'test' });
    expect(res.status).toBe(202);
    for (const m of layout.monitors) {
      const r = await waitForStatus(m.socket, (s) => hostState(s, 'compute-1') !== 'evacuated', 5000);
      expect(r.ok, `${m.id} still shows compute-1 ${hostState(r.snap, 'compute-1')}`).toBe(true);
    }
    const coord = await status(layout.monitors.find((m) => m.id === coordinator)!.socket);
    expect(coord!.recentEvents.some((e) => e.type === 'host.rejoined' && e.host === 'compute-1')).toBe(true);
  });
});
