import { describe, expect, it } from 'vitest';
import { massVerdict } from '../../src/core/guard.js';

const s = { maxFailedFraction: 0.3, maxFailedHosts: 5, windowMs: 60_000 };

describe('mass-failure guard', () => {
  it.each([
    [1, 3, false],
    [1, 2, false],
    [2, 10, false],
    [3, 10, false],
    [4, 10, true],
    [5, 100, false],
    [6, 100, true],
    [2, 0, false],
  ])('%i failing of %i hosts → hold %s', (failing, total, hold) => {
    expect(massVerdict(failing, total, s).hold).toBe(hold);
  });

  it('names the limit it hit', () => {
    const v = massVerdict(6, 100, s);
    expect(v.hold && v.limit).toMatch(/max_failed_hosts=5/);
  });
});
