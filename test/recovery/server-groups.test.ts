import { describe, expect, it } from 'vitest';
import type { FenceRecord } from '../../src/core/events.js';
import { silentLogger } from '../../src/log.js';
import { IN_FLIGHT_MIGRATION } from '../../src/openstack/types.js';
import { antiAffinityGroups, NovaRecoverer } from '../../src/recovery/workflow.js';
import { EventLog, fastRecoveryConfig, simClient } from '../helpers/sim-client.js';
import { novaSimPerTest } from '../helpers/sim-per-test.js';
import { tempDirs } from '../helpers/temp-dirs.js';

/**
 * Members of an anti-affinity group (hard or soft) are never evacuated at the same time: the
 * simulator's migration records are sampled while the recovery runs, and at no sample do two
 * members of one group have an evacuation in flight; ungrouped servers still go in parallel.
 */
const FENCE: FenceRecord = { ok: true, durationMs: 1, attempts: [], by: 'ctl1' };
const TAG = ['automatic-recovery'];
const tempDir = tempDirs();
const startSim = novaSimPerTest();

describe('server groups on the simulator', () => {
  it.each([['2.94'], ['2.60']])('serializes each anti-affinity group, not the rest (max microversion %s)', async (maxVersion) => {
    const names = ['web-1', 'web-2', 'web-3', 'db-1', 'db-2', 'free-1', 'free-2', 'free-3'];
    const sim = await startSim({
      hosts: ['compute-1', 'compute-2', 'compute-3', 'compute-4'],
      servers: names.map((name) => ({ name, host: 'compute-1', tags: TAG })),
      serverGroups: [
        { name: 'web', policy: 'anti-affinity', members: ['web-1', 'web-2', 'web-3'] },
        { name: 'db', policy: 'soft-anti-affinity', members: ['db-1', 'db-2'] },
        { name: 'together', policy: 'affinity', members: ['free-1'] },
      ],
      claimMs: 10,
      rebuildMs: 60,
      maxVersion,
    });
    const m = sim.model;
    m.killCompute('compute-1');
    const idOf = (n: string) => [...m.servers.values()].find((s) => s.name === n)!.id;
    const web = new Set(['web-1', 'web-2', 'web-3'].map(idOf));
    const db = new Set(['db-1', 'db-2'].map(idOf));
    const free = new Set(['free-1', 'free-2', 'free-3'].map(idOf));
    const peak = { web: 0, db: 0, free: 0 };
    const sampler = setInterval(() => {
      const moving = m.migrations.filter((x) => IN_FLIGHT_MIGRATION.has(x.status)).map((x) => x.instanceUuid);
      peak.web = Math.max(peak.web, moving.filter((id) => web.has(id)).length);
      peak.db = Math.max(peak.db, moving.filter((id) => db.has(id)).length);
      peak.free = Math.max(peak.free, moving.filter((id) => free.has(id)).length);
    }, 2);
    const recoverer = new NovaRecoverer({
      compute: simClient(sim).compute,
      events: new EventLog(),
      log: silentLogger(),
      cfg: fastRecoveryConfig(tempDir('iha-sg-')),
    });
    const summary = await recoverer.recover('compute-1', FENCE, new AbortController().signal);
    clearInterval(sampler);
    expect(summary).toEqual({ selected: 8, evacuated: 8, failed: 0, notified: 0 });
    expect(peak.web).toBe(1);
    expect(peak.db).toBe(1);
    // The check can see overlap: servers outside an anti-affinity group did move at the same time.
    expect(peak.free).toBeGreaterThan(1);
    for (const id of [...web, ...db, ...free]) expect(m.evacuateAccepted.get(id)).toBe(1);
  });

  it('a refused server-group listing is the server_groups_unreadable alarm (the recovery goes on), cleared by the next listing that succeeds', async () => {
    const sim = await startSim({
      hosts: ['compute-1', 'compute-2', 'compute-3'],
      servers: [
        { name: 'a-1', host: 'compute-1', tags: TAG },
        { name: 'b-1', host: 'compute-2', tags: TAG },
      ],
      claimMs: 5,
      rebuildMs: 20,
    });
    sim.injectFault({ kind: 'status', status: 403, method: 'GET', path: '/os-server-groups', count: 1 });
    const recoverer = new NovaRecoverer({
      compute: simClient(sim).compute,
      events: new EventLog(),
      log: silentLogger(),
      cfg: fastRecoveryConfig(tempDir('iha-sg-')),
    });
    sim.model.killCompute('compute-1');
    expect(await recoverer.recover('compute-1', FENCE, new AbortController().signal)).toMatchObject({ selected: 1, evacuated: 1 });
    const [alarm, ...rest] = recoverer.alarms();
    expect(rest).toEqual([]);
    expect(alarm).toMatchObject({ kind: 'server_groups_unreadable' });
    expect(alarm!.message).toContain('recovery of compute-1 could not list server groups (403');
    expect(alarm!.message).toContain('NOT evacuated one at a time');
    sim.model.killCompute('compute-2');
    expect(await recoverer.recover('compute-2', FENCE, new AbortController().signal)).toMatchObject({ selected: 1, evacuated: 1 });
    expect(recoverer.alarms()).toEqual([]);
  });

  it('antiAffinityGroups keeps hard and soft anti-affinity only', () => {
    const g = antiAffinityGroups([
      { id: 'a', name: 'a', policy: 'anti-affinity', members: ['s1'] },
      { id: 'b', name: 'b', policy: 'soft-anti-affinity', members: ['s2'] },
      { id: 'c', name: 'c', policy: 'affinity', members: ['s3'] },
      { id: 'd', name: 'd', policy: 'soft-affinity', members: ['s4'] },
    ]);
    expect([...g]).toEqual([
      ['s1', 'a'],
      ['s2', 'b'],
    ]);
  });
});
