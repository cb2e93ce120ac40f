import { describe, expect, it } from 'vitest';
import {
  deadAfterMs,
  judge,
  lossEstimate,
  lossUpperBound,
  marginMs,
  maxDeadAfterMs,
  missedToConvict,
  newTrack,
  recordHeartbeat,
  suspectAfterMs,
  type HostTrack,
} from '../../src/core/detector.js';
import { defaultCoreSettings, detectionBoundMs, monitorDetector } from '../../src/core/settings.js';

/**
 * The detector's arithmetic on a worked example (three monitors: ε = √1e-9 ≈ 3.16e-5 per monitor),
 * numbers worked out by hand from the formulas in detector.ts: prior 0.5 lost of 10, decay 0.999,
 * upper bound p + 2·√(p(1-p)/n), k = ⌈ln ε / ln p⌉ in [3, 10], margin max(100, 4·jitter).
 */
const s = monitorDetector(defaultCoreSettings('m1', ['m1', 'm2', 'm3']));

function beat(t: HostTrack, seq: number, at: number, bootId = 'b', intervalMs = 500) {
  return recordHeartbeat(t, { bootId, seq, intervalMs, novaCompute: 'up' }, at, s);
}

describe('a host never heard from', () => {
  it('is judged on the prior alone: 5 % loss, so 7 missed heartbeats', () => {
    const t = newTrack('h', 1000, s);
    expect(t).toMatchObject({
      host: 'h',
      bootId: '',
      lastSeq: -1,
      lastHeardAt: 1000,
      heard: false,
      intervalMs: 500,
      verdict: 'up',
      novaCompute: 'unknown',
    });
    expect(lossEstimate(t)).toBeCloseTo(0.05, 12);
    expect(lossUpperBound(t)).toBeCloseTo(0.18784, 5);
    expect(missedToConvict(t, s)).toBe(7);
    expect(t.deadAfterMs).toBe(3600);
    expect(t.suspectAfterMs).toBe(1100);
  });

  it.each<[number, string]>([
    [1100, 'up'],
    [1101, 'suspect'],
    [3600, 'suspect'],
    [3601, 'dead'],
  ])('after %i ms of silence is %s', (silentMs, level) => {
    expect(judge(newTrack('h', 1000, s), 1000 + silentMs)).toBe(level);
  });
});

describe('heartbeats', () => {
  it('the first one of a boot is fresh, later ones of another boot are a new boot', () => {
    const t = newTrack('h', 0, s);
    expect(beat(t, 1, 0, 'a')).toBe('fresh');
    expect(t).toMatchObject({ bootId: 'a', lastSeq: 1, heard: true, novaCompute: 'up', expected: 0, lost: 0 });
    expect(beat(t, 1, 500, 'b')).toBe('new_boot');
    expect(t).toMatchObject({ bootId: 'b', lastSeq: 1, lastHeardAt: 500, expected: 0, lost: 0 });
  });

  it('count gaps as losses, decayed, and arrival jitter against where each was due', () => {
    const t = newTrack('h', 0, s);
    beat(t, 1, 0);
    beat(t, 2, 500);
    expect(t).toMatchObject({ expected: 1, lost: 0, jitterMs: 0 });
    // seq 3 lost: a gap of 2, and seq 4 came exactly when due.
    beat(t, 4, 1500);
    expect(t.expected).toBeCloseTo(0.998001 + 2, 9);
    expect(t.lost).toBeCloseTo(1, 9);
    expect(t.jitterMs).toBe(0);
    expect(lossEstimate(t)).toBeCloseTo(1.5 / 12.998001, 9);
    expect(lossUpperBound(t)).toBeCloseTo(0.29265, 5);
    expect(missedToConvict(t, s)).toBe(9);
    expect(t.deadAfterMs).toBe(4600);
    // 100 ms late: jitter 0.1·100; a whole interval late counts one interval at most.
    beat(t, 5, 2100);
    expect(t.jitterMs).toBeCloseTo(10, 9);
    beat(t, 6, 3100);
    expect(t.jitterMs).toBeCloseTo(59, 9);
    expect(marginMs(t, s)).toBeCloseTo(236, 9);
    expect(deadAfterMs(t, s)).toBeCloseTo(8 * 500 + 236, 9);
  });

  it('refresh the cached thresholds at every fourth sequence number, or at once after a gap', () => {
    const t = newTrack('h', 0, s);
    for (const [seq, at] of [
      [1, 0],
      [2, 500],
      [4, 1500],
      [5, 2100],
      [6, 3100],
      [7, 3600],
    ] as const)
      beat(t, seq, at);
    // Loss and jitter moved since seq 4, but the cache still holds seq 4's thresholds.
    expect(t.deadAfterMs).toBe(4600);
    expect(t.suspectAfterMs).toBe(1100);
    beat(t, 8, 4100);
    expect(t.jitterMs).toBeCloseTo(47.79, 9);
    expect(t.deadAfterMs).toBeCloseTo(7 * 500 + 4 * 47.79, 9);
    expect(t.suspectAfterMs).toBeCloseTo(2 * 500 + 4 * 47.79, 9);
    beat(t, 10, 5100);
    expect(t.deadAfterMs).toBeCloseTo(deadAfterMs(t, s), 9);
  });

  it('refresh the thresholds at once when the interval changes', () => {
    const t = newTrack('h', 0, s);
    beat(t, 1, 0);
    beat(t, 2, 500);
    beat(t, 3, 1500, 'b', 1000);
    expect(t.intervalMs).toBe(1000);
    expect(t.deadAfterMs).toBe(deadAfterMs(t, s));
    expect(t.deadAfterMs).toBeGreaterThan(6000);
  });

  it('a new boot refreshes the thresholds at once', () => {
    const t = newTrack('h', 0, s);
    for (let i = 1; i <= 5; i++) beat(t, i, (i - 1) * 500);
    t.deadAfterMs = 1;
    // Next in sequence and not a fourth: only the new boot asks for the refresh.
    beat(t, 6, 2500, 'b2');
    expect(t.deadAfterMs).toBe(deadAfterMs(t, s));
  });

  it('ignore a sequence number at or below the last one, without touching the track', () => {
    const t = newTrack('h', 0, s);
    beat(t, 5, 0);
    const before = { ...t };
    expect(beat(t, 5, 900)).toBe('stale');
    expect(beat(t, 4, 900)).toBe('stale');
    expect(t).toEqual(before);
  });
});

describe('bounds', () => {
  it('caps the loss rate at 90 % and the missed count at maxMissed, and never goes below minMissed', () => {
    const lossy = { ...newTrack('h', 0, s), expected: 1000, lost: 1000 };
    expect(lossUpperBound(lossy)).toBe(0.9);
    expect(missedToConvict(lossy, s)).toBe(10);
    const clean = { ...newTrack('h', 0, s), expected: 100_000, lost: 0 };
    expect(missedToConvict(clean, s)).toBe(3);
    expect(deadAfterMs(clean, s)).toBe(1600);
  });

  it('suspects after suspectMissed heartbeats, never later than it convicts', () => {
    const clean = { ...newTrack('h', 0, s), expected: 100_000, lost: 0 };
    expect(suspectAfterMs(clean, s)).toBe(1100);
    expect(suspectAfterMs(clean, { ...s, suspectMissed: 5 })).toBe(1600);
  });

  it('documents the worst-case conviction time and the detection bound', () => {
    expect(maxDeadAfterMs(500, s)).toBe(10 * 500 + 2000);
    expect(maxDeadAfterMs(10, s)).toBe(10 * 10 + 100);
    // Worst conviction + a peer interval + the stability window + two ticks.
    expect(detectionBoundMs(defaultCoreSettings('m1', ['m1']), 500)).toBe(7000 + 200 + 100 + 100);
  });
});
