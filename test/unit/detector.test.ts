import { describe, expect, it } from 'vitest';
import {
  DEFAULT_DETECTOR,
  deadAfterMs,
  judge,
  maxDeadAfterMs,
  missedToConvict,
  newTrack,
  recordHeartbeat,
} from '../../src/core/detector.js';
import { defaultCoreSettings, monitorDetector } from '../../src/core/settings.js';

const s = monitorDetector(defaultCoreSettings('m1', ['m1', 'm2', 'm3']));

/** Feeds `n` heartbeats at `intervalMs`, dropping those for which `lost(i)` is true. */
function feed(n: number, lost: (i: number) => boolean, intervalMs = 500) {
  const t = newTrack('h', 0, s);
  for (let i = 1; i <= n; i++) if (!lost(i)) recordHeartbeat(t, { bootId: 'b', seq: i, intervalMs, novaCompute: 'up' }, i * intervalMs, s);
  return t;
}

describe('failure detector', () => {
  it('splits the cluster false-failure budget over the quorum', () => {
    expect(monitorDetector(defaultCoreSettings('m1', ['m1'])).falseSuspicionProbability).toBeCloseTo(1e-9, 15);
    expect(monitorDetector(defaultCoreSettings('m1', ['m1', 'm2', 'm3'])).falseSuspicionProbability).toBeCloseTo(Math.sqrt(1e-9), 9);
  });

  it.each([
    ['no loss', 0, 3],
    ['5 % loss', 20, 4],
    ['20 % loss', 5, 7],
  ])('needs more missed heartbeats as loss grows: %s', (_name, every, k) => {
    const t = feed(3000, (i) => every > 0 && i % every === 0);
    expect(missedToConvict(t, s)).toBe(k);
  });

  it('stays within its documented bound whatever the loss', () => {
    const t = feed(3000, (i) => i % 2 === 0);
    expect(missedToConvict(t, s)).toBe(DEFAULT_DETECTOR.maxMissed);
    expect(deadAfterMs(t, s)).toBeLessThanOrEqual(maxDeadAfterMs(500, s));
  });

  it('is more careful with a host it knows little about', () => {
    expect(
      missedToConvict(
        feed(20, () => false),
        s,
      ),
    ).toBeGreaterThan(
      missedToConvict(
        feed(3000, () => false),
        s,
      ),
    );
  });

  it('goes up → suspect → dead with silence, and back to up on a fresh heartbeat', () => {
    const t = feed(100, () => false);
    const last = 100 * 500;
    expect(judge(t, last + 400)).toBe('up');
    expect(judge(t, last + 1200)).toBe('suspect');
    expect(judge(t, last + deadAfterMs(t, s) + 1)).toBe('dead');
    expect(recordHeartbeat(t, { bootId: 'b', seq: 101, intervalMs: 500, novaCompute: 'up' }, last + 3000, s)).toBe('fresh');
    expect(judge(t, last + 3000)).toBe('up');
  });

  it('ignores late and duplicated heartbeats, and tells a new boot apart', () => {
    const t = feed(10, () => false);
    expect(recordHeartbeat(t, { bootId: 'b', seq: 9, intervalMs: 500, novaCompute: 'up' }, 99_000, s)).toBe('stale');
    expect(t.lastHeardAt).toBe(5000);
    expect(recordHeartbeat(t, { bootId: 'b2', seq: 1, intervalMs: 500, novaCompute: 'up' }, 99_000, s)).toBe('new_boot');
  });

  it('judges a host never heard from by the silence since the monitor started', () => {
    const t = newTrack('h', 10_000, s);
    expect(judge(t, 10_500)).toBe('up');
    expect(judge(t, 10_000 + maxDeadAfterMs(500, s))).toBe('dead');
  });
});
