import { freshness } from './freshness.js';
import type { LeftMark } from './messages.js';

/**
 * Per-host failure detector: an adaptive, loss-aware equivalent of phi accrual with a closed-form bound.
 *
 * Heartbeats come every `intervalMs`; the detector estimates the datagram loss rate p from gaps in the
 * sequence numbers (taking an upper confidence bound, see lossUpperBound) and convicts a host once k
 * consecutive expected heartbeats are missing, with k the smallest count for which p^k < ε = `falseSuspicionProbability` (clamped to [minMissed, maxMissed]).
 * So a live host is wrongly judged dead by one monitor with probability < ε per window, and the cluster
 * needs a quorum of independent monitors to agree (ε^quorum; see settings.ts monitorDetector). The
 * bound on detection is
 *   deadAfterMs = k·interval + margin  ≤  maxMissed·interval + margin,
 * where margin = max(minMarginMs, 4·mean arrival jitter). With 3 monitors (ε ≈ 3e-5), 500 ms heartbeats
 * and no loss that is 3·500 + 100 = 1.6 s; at 5 % loss 4·500 + margin ≈ 2.1 s; at 20 % loss ≈ 3.6 s.
 */
export interface DetectorSettings {
  /** Interval assumed for a host not yet heard from. */
  defaultIntervalMs: number;
  falseSuspicionProbability: number;
  minMissed: number;
  maxMissed: number;
  /** Missed heartbeats before a host is suspect (shown, shared with peers; nothing acts on it). */
  suspectMissed: number;
  minMarginMs: number;
}

export const DEFAULT_DETECTOR: DetectorSettings = {
  defaultIntervalMs: 500,
  falseSuspicionProbability: 3e-5,
  minMissed: 3,
  maxMissed: 10,
  suspectMissed: 2,
  minMarginMs: 100,
};

/** What one monitor makes of a host's silence. ("Level" is kept for fencing topology levels.) */
export type LocalVerdict = 'up' | 'suspect' | 'dead';

export interface HostTrack {
  host: string;
  bootId: string;
  lastSeq: number;
  /** Local receive time of the newest heartbeat, or the monitor's start for a host never heard. */
  lastHeardAt: number;
  heard: boolean;
  intervalMs: number;
  /** Decayed counts of expected and missing heartbeats (window of about 1,000). */
  expected: number;
  lost: number;
  /** Decayed mean of |arrival - expected arrival|. */
  jitterMs: number;
  verdict: LocalVerdict;
  novaCompute: 'up' | 'down' | 'unknown';
  /** Thresholds cached at each heartbeat: a tick over 10,000 hosts only compares numbers. */
  suspectAfterMs: number;
  deadAfterMs: number;
  /** Its beacon said it was leaving (a clean stop): the boot it left, until a later heartbeat (left-marks.ts). */
  left: LeftMark | null;
}

/** Per-heartbeat decay of the loss counts: a window of about 1,000 heartbeats (~8 min at 500 ms). */
const DECAY = 0.999;
/**
 * Prior: as if 10 heartbeats had been seen with 5 % loss. It makes a host with little history judged
 * conservatively and fades as the window fills.
 */
const PRIOR_EXPECTED = 10;
const PRIOR_LOST = 0.5;

export function newTrack(host: string, now: number, s: DetectorSettings): HostTrack {
  const t: HostTrack = {
    host,
    bootId: '',
    lastSeq: -1,
    lastHeardAt: now,
    heard: false,
    intervalMs: s.defaultIntervalMs,
    expected: 0,
    lost: 0,
    jitterMs: 0,
    verdict: 'up',
    novaCompute: 'unknown',
    suspectAfterMs: 0,
    deadAfterMs: 0,
    left: null,
  };
  refreshThresholds(t, s);
  return t;
}

function refreshThresholds(t: HostTrack, s: DetectorSettings): void {
  t.deadAfterMs = deadAfterMs(t, s);
  t.suspectAfterMs = suspectAfterMs(t, s);
}

export type HeartbeatOutcome = 'fresh' | 'new_boot' | 'stale';

/**
 * Records a heartbeat. A sequence number at or below the last one of the same boot is a late or
 * duplicated packet: it proves nothing about now and is ignored.
 */
export function recordHeartbeat(
  t: HostTrack,
  beat: { bootId: string; seq: number; intervalMs: number; novaCompute: 'up' | 'down' | 'unknown' },
  now: number,
  s: DetectorSettings,
): HeartbeatOutcome {
  let outcome: HeartbeatOutcome = 'fresh';
  const f = freshness(t.heard ? { bootId: t.bootId, seq: t.lastSeq } : undefined, beat.bootId, beat.seq);
  if (f === 'stale') return 'stale';
  if (f !== 'newer') {
    // A new life: its loss history carries over (same path), its sequence numbers start afresh.
    if (f === 'new_boot') outcome = 'new_boot';
    t.bootId = beat.bootId;
  } else {
    const gap = beat.seq - t.lastSeq;
    const decay = gap === 1 ? DECAY : Math.pow(DECAY, gap);
    t.expected = t.expected * decay + gap;
    t.lost = t.lost * decay + (gap - 1);
    // Arrival jitter relative to where this heartbeat was due; a sample spanning losses is still fair.
    const due = t.lastHeardAt + gap * t.intervalMs;
    t.jitterMs = t.jitterMs * 0.9 + Math.min(Math.abs(now - due), t.intervalMs) * 0.1;
  }
  // Thresholds move only with loss, jitter or interval: a plain in-order heartbeat refreshes them one
  // time in 4 (the loss window is ~1,000 long), any gap or change at once.
  const refresh = outcome !== 'fresh' || beat.seq - t.lastSeq !== 1 || beat.intervalMs !== t.intervalMs || (beat.seq & 3) === 0;
  t.lastSeq = beat.seq;
  t.lastHeardAt = now;
  t.heard = true;
  t.intervalMs = beat.intervalMs;
  t.novaCompute = beat.novaCompute;
  if (refresh) refreshThresholds(t, s);
  return outcome;
}

export function lossEstimate(t: HostTrack): number {
  return (t.lost + PRIOR_LOST) / (t.expected + PRIOR_EXPECTED);
}

/**
 * The loss rate convictions are computed against: the estimate plus two standard errors, so that a
 * short lucky run of heartbeats does not make the detector bolder than the link deserves.
 */
export function lossUpperBound(t: HostTrack): number {
  const p = lossEstimate(t);
  const n = t.expected + PRIOR_EXPECTED;
  return Math.min(0.9, p + 2 * Math.sqrt((p * (1 - p)) / n));
}

/** Missed heartbeats needed to convict, given the observed loss. */
export function missedToConvict(t: HostTrack, s: DetectorSettings): number {
  const p = lossUpperBound(t);
  const k = Math.ceil(Math.log(s.falseSuspicionProbability) / Math.log(p));
  return Math.min(s.maxMissed, Math.max(s.minMissed, k));
}

export function marginMs(t: HostTrack, s: DetectorSettings): number {
  return Math.max(s.minMarginMs, 4 * t.jitterMs);
}

export function deadAfterMs(t: HostTrack, s: DetectorSettings): number {
  return missedToConvict(t, s) * t.intervalMs + marginMs(t, s);
}

export function suspectAfterMs(t: HostTrack, s: DetectorSettings): number {
  return Math.min(deadAfterMs(t, s), s.suspectMissed * t.intervalMs + marginMs(t, s));
}

/** The worst-case silence before a monitor convicts: the documented detection bound. */
export function maxDeadAfterMs(intervalMs: number, s: DetectorSettings): number {
  return s.maxMissed * intervalMs + Math.max(s.minMarginMs, 4 * intervalMs);
}

/** The verdict implied by the silence so far (thresholds as of the last heartbeat). */
export function judge(t: HostTrack, now: number): LocalVerdict {
  const silentMs = now - t.lastHeardAt;
  if (silentMs > t.deadAfterMs) return 'dead';
  if (silentMs > t.suspectAfterMs) return 'suspect';
  return 'up';
}
