import { timerMs } from './timer-limit.js';

/**
 * Runs `fn` with a signal that aborts when `signal` does or `ms` have passed, whichever is first.
 *
 * Not `AbortSignal.any([signal, AbortSignal.timeout(ms)])`: Node holds a timeout signal weakly, and
 * one that only feeds a composite signal can be garbage-collected before it fires, so the composite
 * never aborts (nodejs/node#57736; seen here as a 300 ms power check running to the device's own
 * 10 s timeout under a loaded test run). A plain timer keeps the deadline alive until `fn` settles.
 */
export async function withDeadline<T>(signal: AbortSignal, ms: number, fn: (bounded: AbortSignal) => Promise<T>): Promise<T> {
  const ctl = new AbortController();
  const onAbort = (): void => ctl.abort(signal.reason);
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(() => ctl.abort(new Error(`deadline of ${ms}ms passed`)), timerMs(ms));
  try {
    return await fn(ctl.signal);
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
  }
}
