import { performance } from 'node:perf_hooks';

/** Milliseconds on an epoch scale that never jumps back when the wall clock is stepped. */
export function monotonicNowMs(): number {
  return performance.timeOrigin + performance.now();
}
