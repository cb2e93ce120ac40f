/**
 * The longest delay a Node timer honours. Above it `setTimeout` fires after 1 ms (with only a
 * TimeoutOverflowWarning), so a 9999h fence timeout would "time out" at once, and
 * `AbortSignal.timeout` throws ERR_OUT_OF_RANGE. Config readers cap every duration below this;
 * `timerMs` is the second line of defence at each timer that takes a configured or computed delay.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A delay safe to hand to setTimeout / AbortSignal.timeout: NaN and negatives become 0, more than MAX_TIMER_MS becomes MAX_TIMER_MS. */
export function timerMs(ms: number): number {
  if (!(ms > 0)) return 0;
  return ms > MAX_TIMER_MS ? MAX_TIMER_MS : ms;
}
