import { describe, expect, it } from 'vitest';
import { ReplayGuard } from '../../src/wire/replay-guard.js';

const now = 1_000_000;

describe('replay guard', () => {
  it('accepts each sequence number once, including reordered ones inside the window', () => {
    const g = new ReplayGuard(60_000);
    expect(g.check('h', 'b1', 10, now, now)).toBe('ok');
    expect(g.check('h', 'b1', 12, now, now)).toBe('ok');
    expect(g.check('h', 'b1', 11, now, now)).toBe('ok');
    expect(g.check('h', 'b1', 11, now, now)).toBe('replay');
    expect(g.check('h', 'b1', 12, now, now)).toBe('replay');
    expect(g.check('h', 'b1', 10, now, now)).toBe('replay');
  });

  it('refuses sequence numbers too far behind the newest', () => {
    const g = new ReplayGuard(60_000);
    g.check('h', 'b1', 1000, now, now);
    expect(g.check('h', 'b1', 1000 - 64, now, now)).toBe('replay');
    expect(g.check('h', 'b1', 1000 - 63, now, now)).toBe('ok');
  });

  it('never takes back a boot id it has left behind', () => {
    const g = new ReplayGuard(60_000);
    g.check('h', 'old', 500, now, now);
    expect(g.check('h', 'new', 1, now, now)).toBe('ok');
    expect(g.check('h', 'old', 501, now, now)).toBe('replay');
    expect(g.check('h', 'new', 2, now, now)).toBe('ok');
  });

  it('refuses datagrams sent too far from our clock', () => {
    const g = new ReplayGuard(30_000);
    expect(g.check('h', 'b', 1, now - 31_000, now)).toBe('clock_skew');
    expect(g.check('h', 'b', 1, now + 31_000, now)).toBe('clock_skew');
    expect(g.check('h', 'b', 1, now - 29_000, now)).toBe('ok');
  });

  it('keeps senders apart', () => {
    const g = new ReplayGuard(60_000);
    expect(g.check('a', 'b', 1, now, now)).toBe('ok');
    expect(g.check('b', 'b', 1, now, now)).toBe('ok');
  });
});

describe('replay guard window against a reference model', () => {
  it('agrees with a set-based model on random sequences', () => {
    let x = 12345;
    const rnd = (n: number) => ((x = (x * 1103515245 + 12345) % 2147483648), x % n);
    for (let round = 0; round < 50; round++) {
      const g = new ReplayGuard(60_000);
      const seen = new Set<number>();
      let high = -1;
      for (let i = 0; i < 500; i++) {
        const seq = Math.max(0, (high < 0 ? 100 : high) + rnd(80) - 60);
        const want = high >= 0 && (seq <= high - 64 || seen.has(seq)) ? 'replay' : 'ok';
        expect(g.check('h', 'b', seq, now, now), `round ${round} step ${i} seq ${seq} high ${high}`).toBe(want);
        if (want === 'ok') {
          seen.add(seq);
          high = Math.max(high, seq);
        }
      }
    }
  });
});
