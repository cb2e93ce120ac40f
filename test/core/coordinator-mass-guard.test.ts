import { describe, expect, it } from 'vitest';
import { Coordinator } from '../../src/core/coordinator.js';
import type { Effect } from '../../src/core/effects.js';
import type { VoterView } from '../../src/core/tally.js';
import { coreSettings, echo, events, eventTypes, logs, membershipOf, voter, type Seen } from './fixtures.js';

/**
 * The mass-failure guard as the coordinator applies it: hosts failing now (undecided hosts a quorum sees
 * suspect or dead, plus incidents declared within the window and still in progress), against the hosts
 * under watch. A hold ends only by an acknowledgement or by the held hosts returning. Defaults: more than 5 hosts or more than 30 %
 * (from two hosts up) within 60 s; stability window 100 ms.
 */
function coordinator(): Coordinator {
  const s = coreSettings((x) => (x.fencing.enabled = false));
  return new Coordinator(s, membershipOf(s));
}

/** Two monitors that see the given hosts as given; every other host is up. */
function views(seen: Record<string, Seen>): VoterView[] {
  return [voter('m1', seen), voter('m2', seen)];
}

function dead(...hosts: string[]): VoterView[] {
  return views(Object.fromEntries(hosts.map((h) => [h, 'dead' as const])));
}

function hosts(n: number, from = 1): string[] {
  return Array.from({ length: n }, (_, i) => `h${from + i}`);
}

function decide(c: Coordinator, now: number, voters: VoterView[], count = 10, maintenance: string[] = []): Effect[] {
  const out: Effect[] = [];
  c.decide(now, voters, { count, maintenance: new Set(maintenance) }, out);
  return out;
}

function declared(out: Effect[]): string[] {
  return events(out).flatMap((e) => (e.type === 'host.failed' ? [e.host] : []));
}

/** Runs the same views past the stability window; what is declared, and is anything held? */
function settle(c: Coordinator, start: number, voters: VoterView[], count = 10, maintenance: string[] = []): Effect[] {
  decide(c, start, voters, count, maintenance);
  return decide(c, start + 100, voters, count, maintenance);
}

describe('mass-failure guard in the coordinator', () => {
  it.each<[string, boolean, number, number, number]>([
    ['one host of two is never mass', false, 1, 2, 0],
    ['2 of 10', false, 2, 10, 0],
    ['3 of 10 is exactly 30 %', false, 3, 10, 0],
    ['4 of 10', true, 4, 10, 0],
    ['3 of 10 with one in maintenance: 3 of 9 watched', true, 3, 10, 1],
    ['5 of 100', false, 5, 100, 0],
    ['6 of 100: more than 5 hosts', true, 6, 100, 0],
  ])('%s → held: %s', (_name, held, failing, count, inMaintenance) => {
    const c = coordinator();
    const maint = hosts(inMaintenance, 50);
    const out = settle(c, 0, dead(...hosts(failing)), count, maint);
    expect(eventTypes(out).includes('cluster.mass_failure')).toBe(held);
    expect(declared(out)).toEqual(held ? [] : hosts(failing));
  });

  it('counts hosts a quorum sees merely suspect among the failing', () => {
    const c = coordinator();
    const out = settle(c, 0, views({ h1: 'dead', h2: 'dead', h3: 'suspect', h4: 'suspect' }));
    expect(events(out)).toContainEqual({
      type: 'cluster.mass_failure',
      at: 100,
      hosts: ['h1', 'h2', 'h3', 'h4'],
      limit: 'max_failed_fraction=0.3 (4/10 failing)',
    });
  });

  it('holds once, with one event and one error log, and keeps the held list current', () => {
    const c = coordinator();
    const out = settle(c, 0, dead(...hosts(4)));
    expect(eventTypes(out)).toEqual(['cluster.mass_failure']);
    expect(logs(out)).toEqual([
      'error: mass failure: declaring none of these hosts failed; waiting for the operator (instance-ha ack-mass-failure)',
    ]);
    expect(c.massHold).toEqual({ sinceMs: 100, hosts: ['h1', 'h2', 'h3', 'h4'], limit: 'max_failed_fraction=0.3 (4/10 failing)' });
    expect(eventTypes(decide(c, 150, dead(...hosts(5))))).toEqual(['host.suspect']);
    expect(c.massHold).toMatchObject({ sinceMs: 100, hosts: hosts(5) });
  });

  it('clears the hold when every held host is heard again, without declaring anyone, and says which came back', () => {
    const c = coordinator();
    settle(c, 0, dead(...hosts(4)));
    const out = decide(c, 200, views({}));
    expect(events(out)).toEqual([{ type: 'cluster.mass_failure_cleared', at: 200, how: 'hosts_returned', hosts: hosts(4) }]);
    expect(c.massHold).toBeNull();
  });

  it('keeps holding the hosts that have not come back when some have: a partial return releases nobody', () => {
    const c = coordinator();
    settle(c, 0, dead(...hosts(4)));
    const out = decide(c, 200, dead('h1', 'h2'));
    expect(eventTypes(out)).toEqual([]);
    expect(logs(out)).toEqual(['info: held host heard again: no longer held', 'info: held host heard again: no longer held']);
    expect(c.massHold).toMatchObject({ sinceMs: 100, hosts: ['h1', 'h2'] });
    expect(declared(decide(c, 100_000, dead('h1', 'h2')))).toEqual([]);
  });

  it('does not count a host as returned unless a quorum hears it (a voter that never heard of it says nothing)', () => {
    const c = coordinator();
    settle(c, 0, dead(...hosts(4)));
    decide(c, 200, [
      voter('m1', { h1: 'unknown', h2: 'dead', h3: 'dead', h4: 'dead' }),
      voter('m2', { h1: 'dead', h2: 'dead', h3: 'dead', h4: 'dead' }),
    ]);
    expect(c.massHold?.hosts).toEqual(hosts(4));
  });

  it('a host failing during a hold joins it', () => {
    const c = coordinator();
    settle(c, 0, dead(...hosts(4)));
    const out = decide(c, 200, dead(...hosts(5)));
    expect(logs(out)).toContain('warn: more hosts failing during a mass-failure hold: held too');
    expect(c.massHold?.hosts).toEqual(hosts(5));
    expect(declared(out)).toEqual([]);
  });

  it('a held host put in maintenance leaves the hold; the last one ends it with how=maintenance', () => {
    const c = coordinator();
    settle(c, 0, dead(...hosts(4)));
    const out = decide(c, 200, dead(...hosts(4)), 10, hosts(4));
    expect(events(out)).toEqual([{ type: 'cluster.mass_failure_cleared', at: 200, how: 'maintenance', hosts: [] }]);
    expect(declared(out)).toEqual([]);
  });

  it('a held host forgotten by the operator leaves the hold; the last one ends it, declaring nobody', () => {
    const c = coordinator();
    settle(c, 0, dead('h1', 'h2', 'h3', 'h4'));
    for (const h of hosts(4)) c.forget(h);
    const out = decide(c, 200, views({}));
    expect(events(out)).toEqual([{ type: 'cluster.mass_failure_cleared', at: 200, how: 'maintenance', hosts: [] }]);
    expect(c.massHold).toBeNull();
  });

  it('declares the held hosts after an operator acknowledges, at the next decide', () => {
    const c = coordinator();
    settle(c, 0, dead(...hosts(4)));
    const ack: Effect[] = [];
    expect(c.acknowledgeMassFailure(150, 'alice', ack)).toEqual({ ok: true, released: hosts(4), stillHeld: [] });
    expect(logs(ack)).toEqual(['warn: mass failure acknowledged by operator: released hosts will be declared']);
    expect(ack.find((e) => e.type === 'log')).toMatchObject({ fields: { by: 'alice', hosts: hosts(4) } });
    expect(events(ack)).toEqual([{ type: 'cluster.mass_failure_cleared', at: 150, how: 'acknowledged', hosts: hosts(4), by: 'alice' }]);
    expect(c.massHold).toBeNull();
    expect(declared(decide(c, 200, dead(...hosts(4))))).toEqual(hosts(4));
  });

  it('an acknowledgement with nothing held is refused and changes nothing: a mass after it is held', () => {
    const c = coordinator();
    const ack: Effect[] = [];
    expect(c.acknowledgeMassFailure(1000, 'alice', ack)).toEqual({ ok: false, reason: 'nothing is held by the mass-failure guard' });
    expect(events(ack)).toEqual([]);
    expect(logs(ack)).toEqual(['warn: mass-failure acknowledgement refused: nothing is held']);
    expect(eventTypes(settle(c, 2000, dead(...hosts(4))))).toEqual(['cluster.mass_failure']);
  });

  it('an acknowledgement releases exactly the held hosts it names; one that failed after the operator looked stays held', () => {
    const c = coordinator();
    settle(c, 0, dead(...hosts(4)));
    settle(c, 200, dead(...hosts(5)));
    const ack: Effect[] = [];
    expect(c.acknowledgeMassFailure(400, 'alice', ack, [...hosts(4), 'h9'])).toEqual({ ok: true, released: hosts(4), stillHeld: ['h5'] });
    expect(c.massHold?.hosts).toEqual(['h5']);
    const out = decide(c, 450, dead(...hosts(5)));
    expect(declared(out)).toEqual(hosts(4));
    expect(c.massHold?.hosts).toEqual(['h5']);
    const none: Effect[] = [];
    expect(c.acknowledgeMassFailure(500, 'alice', none, ['h9'])).toMatchObject({ ok: false });
    expect(c.massHold?.hosts).toEqual(['h5']);
  });

  it('a new failure after an acknowledgement is judged afresh: the released hosts being fenced count as failing', () => {
    const c = coordinator();
    settle(c, 0, dead(...hosts(4)));
    c.acknowledgeMassFailure(150, 'alice', []);
    expect(declared(decide(c, 200, dead(...hosts(4))))).toEqual(hosts(4));
    // h5 fails 10 s later while h1..h4 are still being handled: 5 of 10 failing now.
    const out = settle(c, 10_000, dead(...hosts(5)));
    expect(events(out)).toContainEqual({
      type: 'cluster.mass_failure',
      at: 10_100,
      hosts: ['h5'],
      limit: 'max_failed_fraction=0.3 (5/10 failing, 4 already being handled)',
    });
    expect(declared(out)).toEqual([]);
  });

  it('a released host that comes back before it is declared is released no more: its next failure is judged', () => {
    const c = coordinator();
    settle(c, 0, dead(...hosts(4)));
    c.acknowledgeMassFailure(150, 'alice', []);
    decide(c, 160, views({}));
    const out = settle(c, 1000, dead(...hosts(4)));
    expect(eventTypes(out)).toEqual(['cluster.mass_failure']);
    expect(declared(out)).toEqual([]);
  });

  it('counts in-progress incidents declared within the window; a hold never ends by time', () => {
    const c = coordinator();
    expect(declared(settle(c, 0, dead('h1', 'h2', 'h3')))).toEqual(['h1', 'h2', 'h3']);
    // Declared at 100; the window is 60 s: at 60,100 they still count, and h4 makes 4 of 10.
    expect(eventTypes(settle(c, 60_000, dead('h1', 'h2', 'h3', 'h4')))).toEqual(['cluster.mass_failure']);
    // Their declarations ageing out of the window does not release h4: nothing returned, nobody acknowledged.
    for (const t of [60_101, 120_000, 3_600_000]) {
      const out = decide(c, t, dead('h1', 'h2', 'h3', 'h4'));
      expect(eventTypes(out)).toEqual([]);
      expect(c.massHold?.hosts).toEqual(['h4']);
    }
  });

  it('after the window a new failure is judged without the old incidents', () => {
    const c = coordinator();
    expect(declared(settle(c, 0, dead('h1', 'h2', 'h3')))).toEqual(['h1', 'h2', 'h3']);
    expect(declared(settle(c, 60_001, dead('h1', 'h2', 'h3', 'h4')))).toEqual(['h4']);
  });

  it('a finished incident is not a failure in progress: a host recovered (or returned to service) does not count', () => {
    const s = coreSettings((x) => {
      x.fencing.enabled = true;
      x.recovery.enabled = true;
    });
    const m = membershipOf(s);
    const c = new Coordinator(s, m);
    const out: Effect[] = [];
    expect(declared(settle(c, 0, dead('h1'), 4))).toEqual(['h1']);
    echo(m, c.decisionList(), c.epoch, 150);
    decide(c, 200, dead('h1'), 4);
    c.fenceDone('h1', { ok: true, durationMs: 10, attempts: [], by: 'm1' }, 2000, true, out);
    c.recoveryDone('h1', { selected: 1, evacuated: 1, failed: 0, notified: 0 }, 5000, true, out);
    // Four seconds later h2 fails: 1 of 4 failing now, not 2 of 4.
    expect(declared(settle(c, 9000, dead('h1', 'h2'), 4))).toEqual(['h2']);
  });

  it('a host whose recovery left servers behind (recovery_failed) is off and handled: it does not count either', () => {
    const s = coreSettings((x) => {
      x.fencing.enabled = true;
      x.recovery.enabled = true;
    });
    const m = membershipOf(s);
    const c = new Coordinator(s, m);
    const out: Effect[] = [];
    expect(declared(settle(c, 0, dead('h1'), 4))).toEqual(['h1']);
    echo(m, c.decisionList(), c.epoch, 150);
    decide(c, 200, dead('h1'), 4);
    c.fenceDone('h1', { ok: true, durationMs: 10, attempts: [], by: 'm1' }, 2000, true, out);
    c.recoveryDone('h1', { selected: 1, evacuated: 0, failed: 1, notified: 0 }, 5000, true, out);
    expect(c.decision('h1')?.state).toBe('recovery_failed');
    expect(declared(settle(c, 9000, dead('h1', 'h2'), 4))).toEqual(['h2']);
  });

  it('a host fenced and still being evacuated is an incident in progress: it counts', () => {
    const s = coreSettings((x) => {
      x.fencing.enabled = true;
      x.recovery.enabled = true;
    });
    const m = membershipOf(s);
    const c = new Coordinator(s, m);
    const out: Effect[] = [];
    settle(c, 0, dead('h1'), 4);
    echo(m, c.decisionList(), c.epoch, 150);
    decide(c, 200, dead('h1'), 4);
    c.fenceDone('h1', { ok: true, durationMs: 10, attempts: [], by: 'm1' }, 2000, true, out);
    expect(c.decision('h1')?.state).toBe('recovering');
    expect(events(settle(c, 9000, dead('h1', 'h2'), 4))).toContainEqual({
      type: 'cluster.mass_failure',
      at: 9100,
      hosts: ['h2'],
      limit: 'max_failed_fraction=0.3 (2/4 failing, 1 already being handled)',
    });
  });

  it('counts a decision a new coordinator took over from the moment it was made, or now if that is later', () => {
    const s = coreSettings();
    const c = new Coordinator(s, membershipOf(s));
    const beat = {
      decisions: hosts(3).map((h) => ({ host: h, state: 'failed' as const, bootId: `${h}-b1`, sinceMs: 1_000_000, fenceAttempts: 0 })),
      epoch: 3,
    };
    c.takeOver(10_000, [{ ...peer(), ...beat }]);
    // The peer's clock is ahead: the three count as declared at 10,000, so until 70,000.
    expect(eventTypes(settle(c, 69_800, dead('h1', 'h2', 'h3', 'h4')))).toContain('cluster.mass_failure');
    const c2 = new Coordinator(s, membershipOf(s));
    c2.takeOver(10_000, [{ ...peer(), ...beat }]);
    expect(declared(settle(c2, 69_901, dead('h1', 'h2', 'h3', 'h4')))).toEqual(['h4']);
  });
});

function peer() {
  return {
    from: 'm2',
    bootId: 'm2-1',
    seq: 1,
    sentAtMs: 0,
    hears: ['m1', 'm2', 'm3'],
    vote: 'm2',
    acting: true,
    epoch: 0,
    paused: false,
    verdicts: [],
    decisions: [],
    maintenance: [],
  };
}
