/**
 * Drops replayed datagrams. Per sender: the current boot's highest sequence number and a 64-wide
 * window below it (reordered packets are still let through once), and the boot ids it has left
 * behind, which are never accepted again. A datagram that starts a boot we have not seen (a new
 * boot id, or a sender's first) is refused when its send time is too far from our clock, so a
 * recording cannot be played back later under a boot id we do not know. The current, known boot is
 * judged by its sequence numbers alone: a replayed datagram of it is caught by the window, and a
 * healthy host whose clock drifted keeps being heard (docs/security.md, "Clock skew").
 */
const WINDOW = 64;
const RETIRED_BOOTS_KEPT = 8;

interface SenderState {
  bootId: string;
  highSeq: number;
  /** Bit i set: highSeq - i was seen (i < 32 in `lo`, 32..63 in `hi`); numbers, not BigInt: hot path. */
  lo: number;
  hi: number;
  retired: string[];
}

export type ReplayVerdict = 'ok' | 'replay' | 'clock_skew';

export class ReplayGuard {
  private readonly senders = new Map<string, SenderState>();

  constructor(private readonly maxClockSkewMs: number) {}

  check(sender: string, bootId: string, seq: number, sentAtMs: number, now: number): ReplayVerdict {
    const s = this.senders.get(sender);
    if (!s || s.bootId !== bootId) {
      if (s?.retired.includes(bootId)) return 'replay';
      if (Math.abs(now - sentAtMs) > this.maxClockSkewMs) return 'clock_skew';
    }
    if (!s) {
      this.senders.set(sender, { bootId, highSeq: seq, lo: 1, hi: 0, retired: [] });
      return 'ok';
    }
    if (s.bootId !== bootId) {
      s.retired.push(s.bootId);
      if (s.retired.length > RETIRED_BOOTS_KEPT) s.retired.shift();
      s.bootId = bootId;
      s.highSeq = seq;
      s.lo = 1;
      s.hi = 0;
      return 'ok';
    }
    if (seq > s.highSeq) {
      shiftWindow(s, seq - s.highSeq);
      s.lo |= 1;
      s.highSeq = seq;
      return 'ok';
    }
    const age = s.highSeq - seq;
    if (age >= WINDOW) return 'replay';
    if (age < 32) {
      const bit = (1 << age) >>> 0;
      if ((s.lo & bit) !== 0) return 'replay';
      s.lo = (s.lo | bit) >>> 0;
    } else {
      const bit = (1 << (age - 32)) >>> 0;
      if ((s.hi & bit) !== 0) return 'replay';
      s.hi = (s.hi | bit) >>> 0;
    }
    return 'ok';
  }
}

/** Shifts the 64-bit seen-window left by `n` (the newest sequence number moved up by n). */
function shiftWindow(s: SenderState, n: number): void {
  if (n >= WINDOW) {
    s.lo = 0;
    s.hi = 0;
  } else if (n >= 32) {
    s.hi = n === 32 ? s.lo : (s.lo << (n - 32)) >>> 0;
    s.lo = 0;
  } else {
    s.hi = ((s.hi << n) | (s.lo >>> (32 - n))) >>> 0;
    s.lo = (s.lo << n) >>> 0;
  }
}
