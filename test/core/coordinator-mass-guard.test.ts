import { describe, expect, it } from 'vitest';
import { Coordinator } from '../../src/core/coordinator.js';
import type { Effect } from '../../src/core/effects.js';
import type { VoterView } from '../../src/core/tally.js';
import { coreSettings, events, eventTypes, logs, membershipOf, voter, type Seen } from './fixtures.js';

/**
 * The mass-failure guard as the coordinator applies it: hosts declared within the window plus hosts a
 * quorum sees failing now, against the hosts under watch. Defaults: more than 5 hosts or more than 30 %
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

  it('clears the hold when the hosts come back, without declaring anyone', () => {
    const c = coordinator();
    settle(c, 0, dead(...hosts(4)));
    const out = decide(c, 200, views({}));
    expect(events(out)).toEqual([{ type: 'cluster.mass_failure_cleared', at: 200, how: 'hosts_returned' }]);
    expect(c.massHold).toBeNull();
  });

  it('declares what is left once enough hosts came back to fall under the limits', () => {
    const c = coordinator();
    settle(c, 0, dead(...hosts(4)));
    const out = decide(c, 200, dead('h1', 'h2'));
    expect(eventTypes(out)).toEqual(['cluster.mass_failure_cleared', 'host.failed', 'host.failed']);
    expect(declared(out)).toEqual(['h1', 'h2']);
  });

  it('declares the held hosts after an operator acknowledges, at the next decide', () => {
    const c = coordinator();
    settle(c, 0, dead(...hosts(4)));
    const ack: Effect[] = [];
    c.acknowledgeMassFailure(150, 'alice', ack);
    expect(logs(ack)).toEqual(['warn: mass failure acknowledged by operator: held hosts will be declared']);
    expect(ack.find((e) => e.type === 'log')).toMatchObject({ fields: { by: 'alice', hosts: hosts(4) } });
    expect(events(ack)).toEqual([{ type: 'cluster.mass_failure_cleared', at: 150, how: 'acknowledged' }]);
    expect(c.massHold).toBeNull();
    expect(declared(decide(c, 200, dead(...hosts(4))))).toEqual(hosts(4));
  });

  it('an acknowledgement covers the guard window from the moment it is given, hold or not', () => {
    const c = coordinator();
    const ack: Effect[] = [];
    c.acknowledgeMassFailure(1000, 'alice', ack);
    expect(ack).toEqual([]);
    expect(declared(settle(c, 60_799, dead(...hosts(4))))).toEqual(hosts(4));
    // 61,000 is the end of the acknowledged window: the next mass is held again.
    expect(eventTypes(settle(c, 60_900, dead(...hosts(12))))).toEqual(['cluster.mass_failure']);
  });

  it('counts hosts declared within the window, and only those', () => {
    const c = coordinator();
    expect(declared(settle(c, 0, dead('h1', 'h2', 'h3')))).toEqual(['h1', 'h2', 'h3']);
    // Declared at 100; the window is 60 s: at 60,100 they still count, and h4 makes 4 of 10.
    expect(eventTypes(settle(c, 60_000, dead('h1', 'h2', 'h3', 'h4')))).toEqual(['cluster.mass_failure']);
    // A millisecond later they have aged out: h4 alone is declared.
    const out = decide(c, 60_101, dead('h1', 'h2', 'h3', 'h4'));
    expect(eventTypes(out)).toEqual(['cluster.mass_failure_cleared', 'host.failed']);
    expect(declared(out)).toEqual(['h4']);
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
