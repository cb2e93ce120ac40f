import type { Input } from '../core/effects.js';
import type { DropReason } from '../core/status-snapshot.js';
import { ClockSkewWatch } from './clock-skew-watch.js';
import { openDatagram } from './codec.js';
import { ForgeryWatch, type Alarm } from './forgery-watch.js';
import type { KeyRing, KeySlot } from './keys.js';
import { ReplayGuard } from './replay-guard.js';
import { ViewAssembler } from './view-assembler.js';

export interface AdmissionSettings {
  /** This monitor: its own datagrams coming back (a looped broadcast) are not a peer's. */
  self: string;
  monitors: readonly string[];
  keys: KeyRing;
  maxClockSkewMs: number;
  /** How long a peer's view may lag its headers before its dead verdicts stop counting (the peer timeout). */
  peerViewStaleMs?: number;
}

/** `input: null`: accepted, but nothing for the core yet (a view page; a header whose view is still on its way). */
export type Admitted =
  | { ok: true; input: Extract<Input, { type: 'beacon' | 'leaving' | 'peer' | 'guest_event' }> | null }
  | { ok: false; reason: DropReason; claimed?: string; forgedCount?: number };

/** At most this many senders' key slots are remembered for status (hosts proven by a verified datagram). */
const MAX_KEY_USERS = 100_000;

/**
 * The one gate a datagram passes on its way to the decision core: it picks the key from the identity
 * the datagram claims (its host's own key, or the monitor key), authenticates, parses, identifies the
 * sender (a compute host, or one of the configured monitors other than this one), and drops replays
 * and copies (replay-guard.ts). A peer's view comes in pages, which view-assembler.ts puts together;
 * its header then becomes one peer beat with the whole view. What it lets through is an input for
 * the core, which alone judges whether the heartbeat is newer than what it holds. Forgeries and
 * skewed clocks become alarms.
 */
export class Admission {
  /** One guard per kind of sender: keyed by the bare name, no per-datagram string building. */
  private readonly hostReplay: ReplayGuard;
  private readonly peerReplay: ReplayGuard;
  private readonly peers: ReadonlySet<string>;
  private readonly forgeries = new ForgeryWatch();
  private readonly skew: ClockSkewWatch;
  /** Which key each sender seals with (status shows it; a rollover is done when none uses the old). */
  readonly keyInUse = new Map<string, KeySlot>();
  private readonly views: ViewAssembler;

  constructor(private readonly s: AdmissionSettings) {
    this.hostReplay = new ReplayGuard(s.maxClockSkewMs);
    this.peerReplay = new ReplayGuard(s.maxClockSkewMs);
    this.peers = new Set(s.monitors.filter((m) => m !== s.self));
    this.skew = new ClockSkewWatch(s.maxClockSkewMs);
    this.views = new ViewAssembler(s.peerViewStaleMs ?? 1000);
  }

  /**
   * @param receivedAt monotonic receive time, handed to the core with the input
   * @param wallNow wall-clock time, against which the sender's send time is checked
   * @param from the source address, named in the alarm when forged datagrams come from it
   */
  admit(buf: Buffer, receivedAt: number, wallNow: number, from = 'unknown'): Admitted {
    const msg = openDatagram(buf, this.s.keys);
    if (!msg.ok) {
      if (msg.reason !== 'forged') return msg;
      const claimed = msg.claimed ?? '(unknown)';
      return { ok: false, reason: 'forged', claimed, forgedCount: this.forgeries.record(from, claimed, receivedAt, wallNow) };
    }
    if (msg.kind === 'beacon' || msg.kind === 'leaving') {
      // A leaving shares its host's boot and sequence numbers with the heartbeats: the same replay guard
      // refuses a recorded leaving played back (a retired boot, a sequence number already seen).
      const b = msg.beat;
      this.s.keys.proven(b.host);
      const v = this.hostReplay.check(b.host, b.bootId, b.seq, b.sentAtMs, wallNow);
      // A replay's send time is old by nature: only fresh datagrams (or a new boot refused for its time) measure a clock.
      if (v !== 'replay') this.skew.observe(b.host, 'host', b.sentAtMs - wallNow, receivedAt, wallNow);
      if (v !== 'ok') return { ok: false, reason: v };
      this.noteKey(b.host, msg.slot);
      return { ok: true, input: { type: msg.kind, at: receivedAt, beat: b } };
    }
    if (msg.kind === 'guest') {
      // Sent a few times on purpose (UDP may lose one): the core keeps one per (boot id, seq), so the
      // replay guard is not asked; a datagram from too far off the clock is still refused.
      const g = msg.guest;
      if (Math.abs(g.sentAtMs - wallNow) > this.s.maxClockSkewMs) return { ok: false, reason: 'clock_skew' };
      this.noteKey(g.host, msg.slot);
      return { ok: true, input: { type: 'guest_event', at: receivedAt, beat: g } };
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
    if (v !== 'replay') this.skew.observe(b.from, 'monitor', b.sentAtMs - wallNow, receivedAt, wallNow);
    if (v !== 'ok') return { ok: false, reason: v };
    this.noteKey(b.from, msg.slot);
    const beat = msg.kind === 'monitor' ? msg.beat : this.views.header(msg.header, receivedAt);
    return { ok: true, input: beat ? { type: 'peer', at: receivedAt, beat } : null };
  }

  alarms(now: number): Alarm[] {
    return [...this.forgeries.alarms(now), ...this.skew.alarms(now)];
  }

  private noteKey(sender: string, slot: KeySlot): void {
    if (this.keyInUse.get(sender) !== slot && (this.keyInUse.size < MAX_KEY_USERS || this.keyInUse.has(sender)))
      this.keyInUse.set(sender, slot);
  }
}
