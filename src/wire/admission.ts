import type { Input } from '../core/effects.js';
import type { DropReason } from '../core/status-snapshot.js';
import { decode } from './codec.js';
import { ReplayGuard } from './replay-guard.js';
import { ViewAssembler } from './view-assembler.js';

export interface AdmissionSettings {
  /** This monitor: its own datagrams coming back (a looped broadcast) are not a peer's. */
  self: string;
  monitors: readonly string[];
  clusterKey: Buffer;
  maxClockSkewMs: number;
  /** How long a peer's view may lag its headers before its dead verdicts stop counting (the peer timeout). */
  peerViewStaleMs?: number;
}

/** `input: null`: accepted, but nothing for the core yet (a view page; a header whose view is still on its way). */
export type Admitted = { ok: true; input: Extract<Input, { type: 'beacon' | 'peer' }> | null } | { ok: false; reason: DropReason };

/**
 * The one gate a datagram passes on its way to the decision core: it authenticates (HMAC), parses,
 * identifies the sender (a compute host, or one of the configured monitors other than this one), and
 * drops replays and copies (replay-guard.ts). A peer's view comes in pages, which view-assembler.ts
 * puts together; its header then becomes one peer beat with the whole view. What it lets through is
 * an input for the core, which alone judges whether the heartbeat is newer than what it holds.
 */
export class Admission {
  /** One guard per kind of sender: keyed by the bare name, no per-datagram string building. */
  private readonly hostReplay: ReplayGuard;
  private readonly peerReplay: ReplayGuard;
  private readonly peers: ReadonlySet<string>;
  private readonly views: ViewAssembler;

  constructor(private readonly s: AdmissionSettings) {
    this.hostReplay = new ReplayGuard(s.maxClockSkewMs);
    this.peerReplay = new ReplayGuard(s.maxClockSkewMs);
    this.peers = new Set(s.monitors.filter((m) => m !== s.self));
    this.views = new ViewAssembler(s.peerViewStaleMs ?? 1000);
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
    if (msg.kind === 'view_page') {
      // No sequence number of its own: a page counts only for the boot of the peer's admitted headers
      // and a version newer than the one held, so a replayed page changes nothing.
      if (!this.peers.has(msg.page.from)) return { ok: false, reason: 'unknown_sender' };
      return this.views.page(msg.page) === 'replay' ? { ok: false, reason: 'replay' } : { ok: true, input: null };
    }
    const b = msg.kind === 'monitor' ? msg.beat : msg.header;
    if (!this.peers.has(b.from)) return { ok: false, reason: 'unknown_sender' };
    const v = this.peerReplay.check(b.from, b.bootId, b.seq, b.sentAtMs, wallNow);
    if (v !== 'ok') return { ok: false, reason: v };
    const beat = msg.kind === 'monitor' ? msg.beat : this.views.header(msg.header, receivedAt);
    return { ok: true, input: beat ? { type: 'peer', at: receivedAt, beat } : null };
  }
}
