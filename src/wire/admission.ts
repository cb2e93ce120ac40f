import type { Input } from '../core/effects.js';
import type { DropReason } from '../core/status-snapshot.js';
import { decode } from './codec.js';
import { ReplayGuard } from './replay-guard.js';

export interface AdmissionSettings {
  /** This monitor: its own datagrams coming back (a looped broadcast) are not a peer's. */
  self: string;
  monitors: readonly string[];
  clusterKey: Buffer;
  maxClockSkewMs: number;
}

export type Admitted = { ok: true; input: Extract<Input, { type: 'beacon' | 'peer' }> } | { ok: false; reason: DropReason };

/**
 * The one gate a datagram passes on its way to the decision core: it authenticates (HMAC), parses,
 * identifies the sender (a compute host, or one of the configured monitors other than this one), and
 * drops replays and copies (replay-guard.ts). What it lets through is an input for the core, which
 * alone judges whether the heartbeat is newer than what it holds.
 */
export class Admission {
  /** One guard per kind of sender: keyed by the bare name, no per-datagram string building. */
  private readonly hostReplay: ReplayGuard;
  private readonly peerReplay: ReplayGuard;
  private readonly peers: ReadonlySet<string>;

  constructor(private readonly s: AdmissionSettings) {
    this.hostReplay = new ReplayGuard(s.maxClockSkewMs);
    this.peerReplay = new ReplayGuard(s.maxClockSkewMs);
    this.peers = new Set(s.monitors.filter((m) => m !== s.self));
  }

  /**
   * @param receivedAt monotonic receive time, handed to the core with the input
   * @param wallNow wall-clock time, against which the sender's send time is checked
   */
  admit(buf: Buffer, receivedAt: number, wallNow: number): Admitted {
    const msg = decode(buf, this.s.clusterKey);
    if (!msg.ok) return msg;
    if (msg.kind === 'beacon') {
      const b = msg.beat;
      const v = this.hostReplay.check(b.host, b.bootId, b.seq, b.sentAtMs, wallNow);
      return v === 'ok' ? { ok: true, input: { type: 'beacon', at: receivedAt, beat: b } } : { ok: false, reason: v };
    }
    const b = msg.beat;
    if (!this.peers.has(b.from)) return { ok: false, reason: 'unknown_sender' };
    const v = this.peerReplay.check(b.from, b.bootId, b.seq, b.sentAtMs, wallNow);
    return v === 'ok' ? { ok: true, input: { type: 'peer', at: receivedAt, beat: b } } : { ok: false, reason: v };
  }
}
