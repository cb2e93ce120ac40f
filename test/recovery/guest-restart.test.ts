import { describe, expect, it } from 'vitest';
import { createGuestRestarter } from '../../src/recovery/guest-restart.js';
import { SIM_ADMIN } from '../../src/testbed/nova-sim/server.js';
import { simClient } from '../helpers/sim-client.js';
import { novaSimPerTest } from '../helpers/sim-per-test.js';

/**
 * The guest-restart edge on the Nova simulator: the restart budget counted again on Nova's action
 * history, so a coordinator that starts with an empty memory (a failover, a restart) does not grant a
 * crash-looping guest a fresh budget.
 */
const startSim = novaSimPerTest();
const TAG = 'automatic-recovery';
const BUDGET = { maxRestarts: 3, windowMs: 3_600_000 };
const OPERATOR = { name: 'operator', password: 'op', admin: true, projectId: 'admin-project' };

async function oneServer() {
  const sim = await startSim({
    hosts: ['compute-1', 'compute-2'],
    servers: [{ name: 'pet', host: 'compute-1', tags: [TAG] }],
    users: [SIM_ADMIN, OPERATOR],
  });
  const id = [...sim.model.servers.values()][0]!.id;
  return { sim, id };
}

describe('guest restarts counted on Nova’s action history', () => {
  it('a new coordinator (empty memory) refuses the restart once Nova shows max_restarts reboots by instance-ha in the window', async () => {
    const { sim, id } = await oneServer();
    const signal = new AbortController().signal;
    const first = createGuestRestarter(simClient(sim).compute, TAG, BUDGET);
    for (let i = 0; i < 3; i++) expect((await first.restart('compute-1', id, signal)).outcome).toBe('restarted');
    // The successor: another monitor's client, nothing in memory.
    const successor = createGuestRestarter(simClient(sim).compute, TAG, BUDGET);
    const r = await successor.restart('compute-1', id, signal);
    expect(r.outcome).toBe('budget_exhausted');
    expect(r.reason).toContain('Nova records 3 reboot(s) of it by instance-ha in the last 60 min');
    expect(sim.model.reboots.get(id)).toBe(3);
  });

  it('reboots by another user do not count; those older than the window do not either', async () => {
    const { sim, id } = await oneServer();
    const signal = new AbortController().signal;
    const operator = simClient(sim, { user: 'operator', password: 'op' }).compute;
    for (let i = 0; i < 3; i++) await operator.rebootHard(id, signal);
    const ours = createGuestRestarter(simClient(sim).compute, TAG, BUDGET);
    for (let i = 0; i < 3; i++) expect((await ours.restart('compute-1', id, signal)).outcome).toBe('restarted');
    expect((await ours.restart('compute-1', id, signal)).outcome).toBe('budget_exhausted');
    // An hour and a bit later (our clock), the window holds none of them.
    const later = createGuestRestarter(simClient(sim).compute, TAG, BUDGET, () => Date.now() + BUDGET.windowMs + 60_000);
    expect((await later.restart('compute-1', id, signal)).outcome).toBe('restarted');
    expect(sim.model.reboots.get(id)).toBe(7);
  });

  it('an action history Nova does not give leaves the coordinator’s own count in charge, and says so', async () => {
    const { sim, id } = await oneServer();
    sim.injectFault({ kind: 'status', status: 403, method: 'GET', path: '/os-instance-actions', count: Infinity });
    const r = await createGuestRestarter(simClient(sim).compute, TAG, BUDGET).restart('compute-1', id, new AbortController().signal);
    expect(r.outcome).toBe('restarted');
    expect(r.reason).toMatch(/Nova's action history unreadable \(.*403.*\): budget counted by this coordinator alone/);
  });

  it('the checks before any count still hold: another host’s server, an untagged one', async () => {
    const { sim, id } = await oneServer();
    const signal = new AbortController().signal;
    const r = createGuestRestarter(simClient(sim).compute, TAG, BUDGET);
    expect((await r.restart('compute-2', id, signal)).outcome).toBe('not_on_host');
    sim.model.servers.get(id)!.tags = [];
    expect((await r.restart('compute-1', id, signal)).outcome).toBe('not_tagged');
    expect(sim.model.reboots.get(id)).toBeUndefined();
  });
});
