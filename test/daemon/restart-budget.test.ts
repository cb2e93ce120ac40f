import { describe, expect, it } from 'vitest';
import { RestartBudget } from '../../src/daemon/restart-budget.js';

describe('nova-compute restart budget', () => {
  it('allows at most the budget in any sliding hour', () => {
    const b = new RestartBudget(3, 1000);
    expect([0, 1000, 2000, 3000, 4000].map((t) => b.take(t))).toEqual([true, true, true, false, false]);
    expect(b.take(3_599_999)).toBe(false);
    expect(b.take(3_600_000)).toBe(true);
    expect(b.used()).toBe(3);
  });

  it('never runs two attempts closer than the spacing', () => {
    const b = new RestartBudget(10, 30_000);
    expect(b.take(0)).toBe(true);
    expect(b.take(29_999)).toBe(false);
    expect(b.take(30_000)).toBe(true);
  });
});
