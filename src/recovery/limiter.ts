/**
 * A counting semaphore whose waiters are served by rank (lower first), then in the order they
 * asked: evacuations get their slots in priority order even when they became ready out of order.
 */
export class Limiter {
  private active = 0;
  private readonly queue: Array<{ wake: () => void; rank: number }> = [];
  /** Highest number of holders seen at once (tests check the bound). */
  peak = 0;

  constructor(readonly limit: number) {}

  async acquire(signal?: AbortSignal, rank = 0): Promise<() => void> {
    if (this.active >= this.limit) {
      await new Promise<void>((resolve, reject) => {
        const entry = {
          rank,
          wake: (): void => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
        };
        const onAbort = (): void => {
          const i = this.queue.indexOf(entry);
          if (i >= 0) this.queue.splice(i, 1);
          reject(signal!.reason);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        // Insert after every waiter of the same or a better rank (stable).
        let at = this.queue.length;
        while (at > 0 && this.queue[at - 1]!.rank > rank) at--;
        this.queue.splice(at, 0, entry);
      });
    } else {
      this.active++;
    }
    this.peak = Math.max(this.peak, this.active);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.queue.shift();
      if (next)
        next.wake(); // the slot passes straight to the next waiter
      else this.active--;
    };
  }

  async run<T>(fn: () => Promise<T>, signal?: AbortSignal, rank = 0): Promise<T> {
    const release = await this.acquire(signal, rank);
    try {
      return await fn();
    } finally {
      release();
    }
  }
}

/** Resolves after ms, or rejects with the signal's reason when aborted first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
