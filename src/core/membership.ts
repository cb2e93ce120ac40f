import type { MonitorId } from './events.js';
import type { MonitorBeat } from './messages.js';
import { freshness } from './freshness.js';

/**
 * Monitor membership, quorum and coordinator choice.
 *
 * Quorum is a strict majority of the configured monitors (or `expectedVotes`). Each monitor names a
 * coordinator (see `vote`) when it has quorum, and a monitor *acts* only while a quorum of the
 * monitors it hears name it. Two monitors can both believe
 * they act only while one of them still holds a vote a peer has since withdrawn, i.e. for at most
 * `peerTimeoutMs` plus one delivery delay; every action is idempotent (power-off, force-down, the
 * recovery journal), and the decisions carry an epoch so the later coordinator's win.
 */
export interface MembershipSettings {
  self: MonitorId;
  monitors: readonly MonitorId[];
  expectedVotes: number;
  peerTimeoutMs: number;
}

export interface PeerRecord {
  id: MonitorId;
  bootId: string;
  lastSeq: number;
  lastHeardAt: number;
  beat: MonitorBeat;
}

export function quorumNeeded(expectedVotes: number): number {
  return Math.floor(expectedVotes / 2) + 1;
}

export class Membership {
  readonly peers = new Map<MonitorId, PeerRecord>();
  readonly needed: number;

  constructor(readonly settings: MembershipSettings) {
    this.needed = quorumNeeded(settings.expectedVotes);
  }

  /** Accepts a peer heartbeat unless it is older than the last one of the same boot. */
  receive(beat: MonitorBeat, now: number): boolean {
    if (beat.from === this.settings.self || !this.settings.monitors.includes(beat.from)) return false;
    const prev = this.peers.get(beat.from);
    if (freshness(prev && { bootId: prev.bootId, seq: prev.lastSeq }, beat.bootId, beat.seq) === 'stale') return false;
    this.peers.set(beat.from, { id: beat.from, bootId: beat.bootId, lastSeq: beat.seq, lastHeardAt: now, beat });
    return true;
  }

  /** Peers heard within the timeout. */
  livePeers(now: number): PeerRecord[] {
    const out: PeerRecord[] = [];
    for (const p of this.peers.values()) if (now - p.lastHeardAt <= this.settings.peerTimeoutMs) out.push(p);
    return out;
  }

  /** This monitor plus the peers it hears, sorted. */
  hears(now: number): MonitorId[] {
    return [this.settings.self, ...this.livePeers(now).map((p) => p.id)].sort();
  }

  quorate(now: number): boolean {
    return this.hears(now).length >= this.needed;
  }

  /**
   * Whom this monitor names coordinator. Sticky: a live, quorate monitor already acting keeps the
   * vote (so a monitor coming back does not preempt a coordinator it has not caught up with);
   * otherwise the lowest id among the quorate monitors it hears. A peer that hears no quorum (its
   * inbound link cut, say) is passed over, or nobody would ever act.
   */
  vote(now: number, selfActing = false): MonitorId | null {
    const live = this.livePeers(now);
    if (live.length + 1 < this.needed) return null;
    if (selfActing) return this.settings.self;
    let acting: PeerRecord | undefined;
    for (const p of live) {
      if (!p.beat.acting || p.beat.hears.length < this.needed) continue;
      if (!acting || p.beat.epoch > acting.beat.epoch || (p.beat.epoch === acting.beat.epoch && p.id < acting.id)) acting = p;
    }
    if (acting) return acting.id;
    let best = this.settings.self;
    for (const p of live) if (p.beat.hears.length >= this.needed && p.id < best) best = p.id;
    return best;
  }

  /** True when a quorum of the monitors this one hears (itself included) name it coordinator. */
  acting(now: number, wasActing = false): boolean {
    const self = this.settings.self;
    if (this.vote(now, wasActing) !== self) return false;
    let votes = 1;
    for (const p of this.livePeers(now)) if (p.beat.vote === self) votes++;
    return votes >= this.needed;
  }

  /** The coordinator as this monitor sees it: itself when acting, else a live peer claiming to act. */
  coordinator(now: number, selfActing: boolean): MonitorId | null {
    if (selfActing) return this.settings.self;
    let best: PeerRecord | undefined;
    for (const p of this.livePeers(now)) {
      if (!p.beat.acting) continue;
      if (!best || p.beat.epoch > best.beat.epoch || (p.beat.epoch === best.beat.epoch && p.id < best.id)) best = p;
    }
    return best?.id ?? null;
  }

  /** Highest epoch any peer has announced, so a new coordinator can exceed it. */
  maxEpoch(): number {
    let e = 0;
    for (const p of this.peers.values()) e = Math.max(e, p.beat.epoch);
    return e;
  }
}
