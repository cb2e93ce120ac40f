import { afterEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { AutoUnfencer } from '../../src/recovery/auto-unfence.js';

afterEach(() => vi.useRealTimers());

describe('AutoUnfencer', () => {
  const cfg = { auto: true, quietPeriodMs: 1_000, retryIntervalMs: 10, timeoutMs: 1_000 };

  it('unfences after an uninterrupted quiet period only', async () => {
    vi.useFakeTimers();
    const calls: string[] = [];
    const a = new AutoUnfencer({ cfg, log: silentLogger(), unfence: async (h) => (calls.push(h), { ok: true, attempts: 1, durationMs: 1 }) });
    a.markFenced('c1');
    a.hostHealthy('c1');
    await vi.advanceTimersByTimeAsync(600);
    a.hostUnhealthy('c1'); // flapping: start over
    a.hostHealthy('c1');
    await vi.advanceTimersByTimeAsync(600);
    expect(calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(500);
    expect(calls).toEqual(['c1']);
    a.hostHealthy('c1'); // returned: no longer watched
    await vi.advanceTimersByTimeAsync(2_000);
    expect(calls).toEqual(['c1']);
  });

  it('does nothing unless opted in, or for hosts never fenced', async () => {
    vi.useFakeTimers();
    const calls: string[] = [];
    const unfence = async (h: string) => (calls.push(h), { ok: true as const, attempts: 1, durationMs: 1 });
    const off = new AutoUnfencer({ cfg: { ...cfg, auto: false }, log: silentLogger(), unfence });
    off.markFenced('c1');
    off.hostHealthy('c1');
    const on = new AutoUnfencer({ cfg, log: silentLogger(), unfence });
    on.hostHealthy('c2');
    await vi.advanceTimersByTimeAsync(5_000);
    expect(calls).toEqual([]);
  });
});
