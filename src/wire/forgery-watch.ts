import type { Alarm } from '../core/status-snapshot.js';

export type { Alarm };

/**
 * Counts forged datagrams (sealed with a key other than the one of the identity they claim) per
 * source address and claimed identity, and turns a burst of them into an alarm naming both. One
 * forged datagram can be a misconfigured key file being fixed; FORGED_BURST of them within
 * FORGED_QUIET_MS is someone speaking for another host. Bounded: at most MAX_SOURCES pairs are kept
 * (the one heard from longest ago makes room), so a flood of made-up names costs no memory.
 */
export const FORGED_BURST = 3;
/** A pair not heard from for this long is forgotten, and its alarm with it. */
export const FORGED_QUIET_MS = 10 * 60_000;
const MAX_SOURCES = 256;
/** At most this many alarms, one per pair; the rest are summed up in one more. */
const MAX_ALARMS = 20;

interface Forgery {
  from: string;
  claimed: string;
  count: number;
  firstWallAt: number;
  lastAt: number;
}

export class ForgeryWatch {
  private readonly pairs = new Map<string, Forgery>();

  /** Returns the pair's count when it reaches a power of two (for a rate-limited log line), else 0. */
  record(from: string, claimed: string, at: number, wallAt: number): number {
    const k = `${from}\u0000${claimed}`;
    let f = this.pairs.get(k);
    if (f && at - f.lastAt > FORGED_QUIET_MS) f = undefined;
    if (!f) {
      if (this.pairs.size >= MAX_SOURCES) this.evictOldest();
      f = { from, claimed, count: 0, firstWallAt: wallAt, lastAt: at };
      this.pairs.set(k, f);
    }
    f.count++;
    f.lastAt = at;
    return (f.count & (f.count - 1)) === 0 ? f.count : 0;
  }

  alarms(now: number): Alarm[] {
    const bursts: Forgery[] = [];
    for (const [k, f] of this.pairs) {
      if (now - f.lastAt > FORGED_QUIET_MS) this.pairs.delete(k);
      else if (f.count >= FORGED_BURST) bursts.push(f);
    }
    bursts.sort((a, b) => b.count - a.count);
    const out: Alarm[] = bursts.slice(0, MAX_ALARMS).map((f) => ({
      kind: 'forged_datagrams',
      message:
        `${f.count} forged datagram(s) from ${f.from} claiming to be ${f.claimed}, not sealed with ${f.claimed}'s key: ` +
        `a host speaking for another (compromised?) or a wrong key file; dropped`,
      since: new Date(f.firstWallAt).toISOString(),
    }));
    if (bursts.length > MAX_ALARMS) {
      const rest = bursts.slice(MAX_ALARMS).reduce((n, f) => n + f.count, 0);
      out.push({
        kind: 'forged_datagrams',
        message: `and ${rest} forged datagram(s) from ${bursts.length - MAX_ALARMS} more source/claim pair(s)`,
      });
    }
    return out;
  }

  private evictOldest(): void {
    let oldest: string | null = null;
    let at = Infinity;
    for (const [k, f] of this.pairs) if (f.lastAt < at) ((at = f.lastAt), (oldest = k));
    if (oldest !== null) this.pairs.delete(oldest);
  }
}
