/**
 * Drops replayed datagrams. Per sender: the current boot's highest sequence number and a 64-wide
 * window below it (reordered packets are still let through once), and the boot ids it has left
 * behind, which are never accepted again. A datagram whose send time is too far from our clock is
 * refused as well, so a recording cannot be played back later under a boot id we have not seen.
 */
const WINDOW = 64;
const RETIRED_BOOTS_KEPT = 8;

interface SenderState {
  bootId: string;
  highSeq: number;
  /** Bit i set: highSeq - i was seen. */
  seen: bigint;
  retired: string[];
}

export type ReplayVerdict = 'ok' | 'replay' | 'clock_skew';

export class ReplayGuard {
  private readonly senders = new Map<string, SenderState>();

  constructor(private readonly maxClockSkewMs: number) {}

  check(sender: string, bootId: string, seq: number, sentAtMs: number, now: number): ReplayVerdict {
    if (Math.abs(now - sentAtMs) > this.maxClockSkewMs) return 'clock_skew';
    const s = this.senders.get(sender);
    if (!s) {
      this.senders.set(sender, { bootId, highSeq: seq, seen: 1n, retired: [] });
      return 'ok';
    }
    if (s.bootId !== bootId) {
      if (s.retired.includes(bootId)) return 'replay';
      s.retired.push(s.bootId);
      if (s.retired.length > RETIRED_BOOTS_KEPT) s.retired.shift();
      s.bootId = bootId;
      s.highSeq = seq;
      s.seen = 1n;
      return 'ok';
    }
    if (seq > s.highSeq) {
      const shift = seq - s.highSeq;
      s.seen = shift >= WINDOW ? 1n : ((s.seen << BigInt(shift)) | 1n) & ((1n << BigInt(WINDOW)) - 1n);
      s.highSeq = seq;
      return 'ok';
    }
    const age = s.highSeq - seq;
    if (age >= WINDOW) return 'replay';
    const bit = 1n << BigInt(age);
    if (s.seen & bit) return 'replay';
    s.seen |= bit;
    return 'ok';
  }
}
