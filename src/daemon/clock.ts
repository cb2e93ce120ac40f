import { performance } from 'node:perf_hooks';
import { timerMs } from '../timer-limit.js';

/** Cancels a timer set through a Clock. */
export type CancelTimer = () => void;

/**
 * Time and timers for a daemon, injected so that the simulation can run the real daemon on virtual
 * time. `now` is monotonic (on an epoch scale, so it reads like a timestamp) and feeds the decision
 * core; `wallNow` is the wall clock, used only where another machine's clock is compared (replay
 * windows, maintenance marks shown to operators).
 */
export interface Clock {
  now(): number;
  wallNow(): number;
  /** Calls fn every `ms`; a loop that ran late skips the missed calls, as node's timers do. */
  every(ms: number, fn: () => void): CancelTimer;
  after(ms: number, fn: () => void): CancelTimer;
}

/** Milliseconds on an epoch scale that never jumps back when the wall clock is stepped. */
export function monotonicNowMs(): number {
  return performance.timeOrigin + performance.now();
}

export const systemClock: Clock = {
  now: monotonicNowMs,
  wallNow: () => Date.now(),
  every(ms, fn) {
    const t = setInterval(fn, timerMs(ms));
    return () => clearInterval(t);
  },
  after(ms, fn) {
    const t = setTimeout(fn, timerMs(ms));
    return () => clearTimeout(t);
  },
};
