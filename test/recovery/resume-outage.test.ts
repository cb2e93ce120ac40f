import { afterEach, describe, expect, it } from 'vitest';
import type { FenceRecord } from '../../src/core/events.js';
import { silentLogger } from '../../src/log.js';
import { toNotification } from '../../src/notify/envelope.js';
import type { RecoveryConfig } from '../../src/recovery/config.js';
import { NovaRecoverer } from '../../src/recovery/workflow.js';
import { startNovaSim, type NovaSim, type NovaSimOptions } from '../../src/testbed/nova-sim/server.js';
import { EventLog, fastRecoveryConfig, simClient } from '../helpers/sim-client.js';
import { tempDirs } from '../helpers/temp-dirs.js';

/**
 * The recovery when its coordinator dies after Nova accepted the evacuations (the successor has no
 * journal of it: it re-derives the incident from Nova), when the compute API or Keystone goes away
 * mid-recovery (it waits, with an alarm, and finishes), and when no capacity is left (the summary
 * names the servers left behind; a retry once capacity is back finishes without notifying twice).
 */
const HOSTS = ['compute-1', 'compute-2', 'compute-3'];
const TAGGED = ['vm-1', 'vm-2', 'vm-3'];
const tempDir = tempDirs();
let sim: NovaSim | null = null;
afterEach(async () => {
  await sim?.stop();
  sim = null;
});

async function setup(opts: Partial<NovaSimOptions> = {}) {
  const servers = [
    ...TAGGED.map((name) => ({ name, host: 'compute-1', tags: ['automatic-recovery'] })),
    { name: 'vm-4', host: 'compute-1', tags: [] },
    { name: 'vm-5', host: 'compute-1', tags: [] },
  ];
  sim = await startNovaSim({ hosts: HOSTS, servers, claimMs: 10, rebuildMs: 400, ...opts });
  sim.model.killCompute('compute-1');
  // The fence as the coordinator stamps it into the shared decision: the same on every monitor.
  const fence: FenceRecord = { ok: true, durationMs: 1, attempts: [], by: 'mon1', at: Date.now() };
  return { sim, fence };
}

function recoverer(s: NovaSim, over: Partial<RecoveryConfig> = {}, events = new EventLog()) {
  const { compute } = simClient(s, { http: { retries: 1, minBackoffMs: 5, maxBackoffMs: 10, requestTimeoutMs: 500 } });
  const r = new NovaRecoverer({ compute, events, log: silentLogger(), cfg: fastRecoveryConfig(tempDir('iha-ro-'), over), random: () => 0 });
  return { r, events };
}

async function until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function expectEachTaggedOnceActiveElsewhere(s: NovaSim): void {
  for (const srv of s.model.servers.values()) {
    if (TAGGED.includes(srv.name)) {
      expect(s.model.evacuateAccepted.get(srv.id), srv.name).toBe(1);
      expect(srv.host, srv.name).not.toBe('compute-1');
      expect(srv.status, srv.name).toBe('ACTIVE');
    } else expect(s.model.evacuateCalls.get(srv.id) ?? 0, srv.name).toBe(0);
  }
}

const messageIds = (events: EventLog): string[] =>
  events.events.flatMap((e) => {
    const n = toNotification(e, { monitorHost: 'm', now: () => 0, newId: () => crypto.randomUUID() });
    return n ? [`${n.event_type} ${n.message_id}`] : [];
  });

describe('a successor coordinator (no journal) after Nova accepted the evacuations', () => {
  it('finds the servers already moved (gone from the listing), records each, does not notify the untagged again', async () => {
    const { sim, fence } = await setup({ rebuildMs: 500 });
    // The first coordinator polls slowly: Nova finishes the rebuilds before it looks again, then it dies.
    const first = recoverer(sim, { pollIntervalMs: 60_000 });
    const ac = new AbortController();
    const running = first.r.recover('compute-1', fence, ac.signal);
    const movedAway = (): boolean => TAGGED.every((n) => sim.model.servers.get(idOf(sim, n))!.host !== 'compute-1');
    await until('every server rebuilt elsewhere', movedAway);
    ac.abort(new Error('SIGKILL'));
    expect((await running).error).toBe('aborted');

    const next = recoverer(sim); // another monitor: its own (empty) journal directory
    const s = await next.r.recover('compute-1', fence, new AbortController().signal);
    expect(s).toEqual({ selected: 3, evacuated: 3, failed: 0, notified: 2 });
    expectEachTaggedOnceActiveElsewhere(sim);
    // It asked Nova for the host's evacuations since the incident began (microversion ≥ 2.59).
    expect(sim.requests.some((r) => r.includes('source_compute=compute-1') && r.includes('changes-since='))).toBe(true);
    expect(
      next.events
        .ofType('instance.evacuate_end')
        .map((e) => e.server.name)
        .sort(),
    ).toEqual(TAGGED);
    expect(next.events.ofType('instance.evacuate_start')).toHaveLength(0); // it sent none
    // One instance.failed per untagged server over both coordinators.
    const failed = [...first.events.ofType('instance.not_selected'), ...next.events.ofType('instance.not_selected')];
    expect(failed.map((e) => e.server.name).sort()).toEqual(['vm-4', 'vm-5']);
  });

  it('evacuations still in flight: the successor waits for each (never re-issues it) and records its end', async () => {
    const { sim, fence } = await setup({ rebuildMs: 600 });
    const first = recoverer(sim);
    const ac = new AbortController();
    const running = first.r.recover('compute-1', fence, ac.signal);
    await until('every evacuate accepted', () => TAGGED.every((n) => sim.model.evacuateAccepted.get(idOf(sim, n)) === 1));
    ac.abort(new Error('SIGKILL'));
    await running;
    const next = recoverer(sim);
    expect(await next.r.recover('compute-1', fence, new AbortController().signal)).toEqual({
      selected: 3,
      evacuated: 3,
      failed: 0,
      notified: 2,
    });
    expectEachTaggedOnceActiveElsewhere(sim);
    expect(next.events.ofType('instance.not_selected')).toHaveLength(0);
  });

  it('a repeat that cannot be avoided carries the same message id (oslo consumers drop it)', async () => {
    const { sim, fence } = await setup({ rebuildMs: 30 });
    const a = recoverer(sim);
    await a.r.recover('compute-1', fence, new AbortController().signal);
    // The same incident recovered again from scratch by another monitor (it finds nothing left to do).
    const b = recoverer(sim);
    await b.r.recover('compute-1', fence, new AbortController().signal);
    const ofA = messageIds(a.events).filter((x) => /instance\.(failed|evacuate\.end) /.test(x));
    const ofB = messageIds(b.events).filter((x) => /instance\.(failed|evacuate\.end) /.test(x));
    expect(ofA).toHaveLength(5);
    expect(
      ofB.every((x) => ofA.includes(x)),
      JSON.stringify({ ofA, ofB }),
    ).toBe(true);
    // …and a different incident of the same host gets different ids.
    const c = recoverer(sim);
    await c.r.recover('compute-1', { ...fence, at: fence.at! + 3_600_000 }, new AbortController().signal);
    expect(messageIds(c.events).some((x) => ofA.includes(x))).toBe(false);
  });

  it('below microversion 2.59 (no changes-since) the successor finds them all the same', async () => {
    const { sim, fence } = await setup({ maxVersion: '2.58', rebuildMs: 100 });
    const first = recoverer(sim, { pollIntervalMs: 60_000 });
    const ac = new AbortController();
    const running = first.r.recover('compute-1', fence, ac.signal);
    await until('every server rebuilt elsewhere', () => TAGGED.every((n) => sim.model.servers.get(idOf(sim, n))!.host !== 'compute-1'));
    ac.abort(new Error('SIGKILL'));
    await running;
    const s = await recoverer(sim).r.recover('compute-1', fence, new AbortController().signal);
    expect(s).toMatchObject({ selected: 3, evacuated: 3, failed: 0 });
    // Servers' changes-since exists at every microversion; the migrations' only from 2.59.
    expect(sim.requests.some((r) => r.startsWith('GET /compute/v2.1/os-migrations') && r.includes('changes-since'))).toBe(false);
    expectEachTaggedOnceActiveElsewhere(sim);
  });
});

describe('the compute API or Keystone goes away mid-recovery', () => {
  it('nova-api down right after the force-down: the recovery waits with an alarm and finishes', async () => {
    const { sim, fence } = await setup({ rebuildMs: 30 });
    const { r, events } = recoverer(sim);
    const running = r.recover('compute-1', fence, new AbortController().signal);
    await until('the force-down', () => sim.model.services.get('compute-1')!.forcedDown);
    await sim.pause();
    await until('the alarm', () => r.alarms().some((a) => a.kind === 'compute_api_unreachable'));
    const alarm = r.alarms().find((a) => a.kind === 'compute_api_unreachable')!;
    expect(alarm.message).toMatch(/^recovering — compute API unreachable since \d{4}-\d\d-\d\dT.*recovery of compute-1 waits/);
    expect(alarm.message).toMatch(/ECONNREFUSED/);
    await new Promise((res) => setTimeout(res, 2_500)); // longer than every retry the HTTP client makes
    expect(r.alarms().length).toBeGreaterThan(0);
    await sim.resume();
    const s = await running;
    expect(s).toEqual({ selected: 3, evacuated: 3, failed: 0, notified: 2 });
    expectEachTaggedOnceActiveElsewhere(sim);
    expect(events.ofType('instance.not_selected')).toHaveLength(2);
    expect(r.alarms()).toEqual([]);
  });

  it('nova-api down while evacuations are tracked: it waits, then tracks each to its end', async () => {
    const { sim, fence } = await setup({ rebuildMs: 800 });
    const { r } = recoverer(sim);
    const running = r.recover('compute-1', fence, new AbortController().signal);
    await until('every evacuate accepted', () => TAGGED.every((n) => sim.model.evacuateAccepted.get(idOf(sim, n)) === 1));
    await sim.pause();
    await until('the alarm', () => r.alarms().some((a) => a.kind === 'compute_api_unreachable'));
    await new Promise((res) => setTimeout(res, 1_500));
    await sim.resume();
    expect(await running).toEqual({ selected: 3, evacuated: 3, failed: 0, notified: 2 });
    expectEachTaggedOnceActiveElsewhere(sim);
  });

  it('Keystone down when the first token is needed: keystone_unreachable, then it finishes', async () => {
    const { sim, fence } = await setup({ rebuildMs: 30 });
    sim.setKeystoneDown(true);
    const { r } = recoverer(sim);
    const running = r.recover('compute-1', fence, new AbortController().signal);
    await until('the alarm', () => r.alarms().some((a) => a.kind === 'keystone_unreachable'));
    expect(r.alarms()[0]!.message).toMatch(/^recovering — Keystone \(token\) unreachable since /);
    await new Promise((res) => setTimeout(res, 1_500));
    expect(sim.model.services.get('compute-1')!.forcedDown).toBe(false);
    sim.setKeystoneDown(false);
    expect(await running).toEqual({ selected: 3, evacuated: 3, failed: 0, notified: 2 });
    expectEachTaggedOnceActiveElsewhere(sim);
  });
});

describe('no capacity left (NoValidHost)', () => {
  it('names the servers left behind; a retry once capacity is back evacuates them without notifying twice', async () => {
    const { sim, fence } = await setup({ rebuildMs: 30 });
    for (const h of ['compute-2', 'compute-3']) sim.model.services.get(h)!.status = 'disabled';
    const events = new EventLog();
    const { r } = recoverer(sim, { maxAttempts: 1 }, events);
    const s = await r.recover('compute-1', fence, new AbortController().signal);
    expect(s).toMatchObject({ selected: 3, evacuated: 0, failed: 3, notified: 2 });
    expect(s.failedServers?.map((f) => f.name).sort()).toEqual(TAGGED);
    expect(s.failedServers?.[0]?.reason).toMatch(/evacuation migration \d+ error/);

    sim.model.services.get('compute-2')!.status = 'enabled'; // capacity added
    const again = await r.recover('compute-1', fence, new AbortController().signal);
    expect(again, JSON.stringify(again)).toMatchObject({ selected: 3, evacuated: 3, failed: 0 });
    expect(again.failedServers).toBeUndefined();
    for (const n of TAGGED) expect(sim.model.servers.get(idOf(sim, n))!.status).toBe('ACTIVE');
    expect(
      events
        .ofType('instance.not_selected')
        .map((e) => e.server.name)
        .sort(),
    ).toEqual(['vm-4', 'vm-5']);
  });
});

function idOf(s: NovaSim, name: string): string {
  return [...s.model.servers.values()].find((x) => x.name === name)!.id;
}
