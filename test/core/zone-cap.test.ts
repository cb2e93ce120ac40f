import { describe, expect, it } from 'vitest';
import { Coordinator } from '../../src/core/coordinator.js';
import type { Effect } from '../../src/core/effects.js';
import type { FenceRecord } from '../../src/core/events.js';
import type { HostDecision } from '../../src/core/messages.js';
import { recoveriesToStart } from '../../src/core/zone-cap.js';
import { coreSettings, decision, membershipOf } from './fixtures.js';

/** The per-zone cap on concurrent host recoveries, decided in the pure core. */
const okFence: FenceRecord = { ok: true, level: 1, durationMs: 10, attempts: [], by: 'm1' };
const zoneOf = { a1: 'rack-a', a2: 'rack-a', a3: 'rack-a', b1: 'rack-b' };

function coordinator(decisions: HostDecision[], maxPerZone = 1): Coordinator {
  const s = coreSettings((x) => {
    x.fencing = { enabled: true, retryBaseMs: 1000, retryMaxMs: 5000 };
    x.recovery.enabled = true;
    x.recovery.zoneCap = { zoneOf, maxPerZone };
  });
  const c = new Coordinator(s, membershipOf(s));
  c.restore(decisions, 1);
  return c;
}
const recovers = (out: Effect[]) => out.flatMap((e) => (e.type === 'recover' ? [e.host] : []));
const state = (c: Coordinator, h: string) => c.decision(h)?.state;
const summary = { selected: 1, evacuated: 1, failed: 0, notified: 0 };

describe('recoveriesToStart', () => {
  const v = (host: string, st: string, sinceMs = 0) => ({ host, state: st, sinceMs });
  it('without a cap every fenced host starts', () => {
    expect(recoveriesToStart([v('a1', 'fenced'), v('a2', 'fenced'), v('x', 'recovering')], undefined)).toEqual(['a1', 'a2']);
  });
  it('fills each zone up to the cap, oldest first; hosts outside zones are never held', () => {
    const cap = { zoneOf, maxPerZone: 2 };
    const got = recoveriesToStart(
      [v('a1', 'recovering'), v('a3', 'fenced', 5), v('a2', 'fenced', 3), v('b1', 'fenced', 9), v('z', 'fenced', 1)],
      cap,
    );
    expect(got).toEqual(['z', 'a2', 'b1']);
  });
});

describe('coordinator with recovery.max_recoveries_per_zone = 1', () => {
  it('one failing rack does not starve another: rack-a recovers one host at a time, rack-b at once', () => {
    const c = coordinator(['a1', 'a2', 'b1'].map((h) => decision(h, 'fencing', { fenceAttempts: 1 })));
    const out: Effect[] = [];
    for (const h of ['a1', 'a2', 'b1']) c.fenceDone(h, okFence, 100, true, out);
    expect(recovers(out)).toEqual(['a1', 'b1']);
    expect(state(c, 'a2')).toBe('fenced');
    expect(out.filter((e) => e.type === 'log' && e.msg.startsWith('recovery waits'))).toHaveLength(1);

    const done: Effect[] = [];
    c.recoveryDone('a1', summary, 200, true, done);
    expect(recovers(done)).toEqual(['a2']);
    expect(state(c, 'a2')).toBe('recovering');
  });

  it('a successor starts the waiting host once its zone has a free slot, and never one outside the zones', () => {
    const c = coordinator([
      decision('a1', 'evacuated', { fence: okFence }),
      decision('a2', 'fenced', { fence: okFence }),
      // A host fenced while recovery was off: a takeover does not start it by surprise.
      decision('old', 'fenced', { fence: okFence }),
    ]);
    const out = c.takeOver(300, []);
    expect(recovers(out)).toEqual(['a2']);
    expect(state(c, 'old')).toBe('fenced');
  });

  it('a recovery_failed host frees its slot (its failure is handled; the operator retries it)', () => {
    const c = coordinator([decision('a1', 'recovering', { fence: okFence }), decision('a2', 'fencing', { fenceAttempts: 1 })]);
    const out: Effect[] = [];
    c.fenceDone('a2', okFence, 100, true, out);
    expect(recovers(out)).toEqual([]);
    c.recoveryDone('a1', { ...summary, evacuated: 0, failed: 1 }, 200, true, out);
    expect(state(c, 'a1')).toBe('recovery_failed');
    expect(recovers(out)).toEqual(['a2']);
  });
});
