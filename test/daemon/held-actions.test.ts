import { describe, expect, it } from 'vitest';
import type { HostDecision } from '../../src/core/messages.js';
import { HeldActions } from '../../src/daemon/held-actions.js';

const fence = { ok: true, durationMs: 1, attempts: [], by: 'm1' };
const decision = (host: string, state: HostDecision['state'], withFence = false): HostDecision => ({
  host,
  state,
  bootId: 'b',
  sinceMs: 0,
  fenceAttempts: 1,
  ...(withFence ? { fence } : {}),
});

describe('actions held while their decision is not on disk', () => {
  it('releases only what the decision still calls for', () => {
    const h = new HeldActions();
    h.hold({ type: 'fence', host: 'c1', bootId: 'b' }, 0);
    h.hold({ type: 'fence', host: 'c2', bootId: 'b' }, 0);
    h.hold({ type: 'recover', host: 'c3', record: { ...fence, durationMs: 99 } }, 0);
    h.hold({ type: 'unfence', host: 'c4' }, 0);
    const decisions = new Map([
      ['c1', decision('c1', 'fencing')],
      // c2 came back before its fence ran: its decision is gone.
      ['c3', decision('c3', 'recovering', true)],
      ['c4', decision('c4', 'fenced')],
    ]);
    const { due, dropped } = h.release(true, (host) => decisions.get(host));
    expect(due.map((e) => `${e.type} ${e.host}`)).toEqual(['fence c1', 'recover c3']);
    // The recovery takes the fence record the decision holds now.
    expect(due[1]).toEqual({ type: 'recover', host: 'c3', record: fence });
    expect(dropped.map((e) => `${e.type} ${e.host}`)).toEqual(['fence c2', 'unfence c4']);
    expect(h.size).toBe(0);
  });

  it('releases nothing when this monitor no longer acts', () => {
    const h = new HeldActions();
    h.hold({ type: 'fence', host: 'c1', bootId: 'b' }, 0);
    const { due, dropped } = h.release(false, () => decision('c1', 'fencing'));
    expect(due).toEqual([]);
    expect(dropped).toHaveLength(1);
  });

  it('keeps one per host and kind, drops a host whose work was abandoned, and describes itself bounded', () => {
    const h = new HeldActions();
    expect(h.hold({ type: 'fence', host: 'c1', bootId: 'b' }, 5)).toBe(true);
    expect(h.hold({ type: 'fence', host: 'c1', bootId: 'b' }, 9)).toBe(false);
    expect(h.size).toBe(1);
    expect(h.oldestSince()).toBe(5);
    for (let i = 2; i <= 8; i++) h.hold({ type: 'fence', host: `c${i}`, bootId: 'b' }, 10);
    expect(h.describe()).toBe('fencing c1, fencing c2, fencing c3, fencing c4, fencing c5 (and 3 more)');
    h.drop('c1');
    expect(h.size).toBe(7);
  });
});
