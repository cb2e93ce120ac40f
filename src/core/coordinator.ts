import { recoveryLeftServers, type ClusterEvent, type FenceRecord, type HostId, type RecoverySummary } from './events.js';
import { massVerdict } from './guard.js';
import type { Membership } from './membership.js';
import type { HostDecision, MonitorBeat } from './messages.js';
import type { Effect } from './effects.js';
import type { CoreSettings } from './settings.js';
import { tallyHost, type VoterView } from './tally.js';

interface Candidate {
  sinceMs: number;
  bootId: string;
}

/**
 * The coordinator's decisions about hosts: declare failed (quorum + stability + mass guard), fence,
 * recover, and the order between them. Only the acting coordinator calls `decide`; every monitor keeps
 * the decisions it last adopted so that whoever acts next carries them on.
 */
export class Coordinator {
  epoch = 0;
  /** Bumped on every change to the decisions or the epoch: tells the core when to persist them. */
  version = 0;
  private readonly decisions = new Map<HostId, HostDecision>();
  private readonly candidates = new Map<HostId, Candidate>();
  private readonly clusterSuspect = new Set<HostId>();
  private recentFailures: Array<{ host: HostId; atMs: number }> = [];
  massHold: { sinceMs: number; hosts: HostId[]; limit: string } | null = null;
  private massAckUntil = -Infinity;

  constructor(
    private readonly settings: CoreSettings,
    private readonly membership: Membership,
  ) {}

  restore(decisions: readonly HostDecision[], epoch: number): void {
    for (const d of decisions) this.decisions.set(d.host, { ...d });
    this.epoch = epoch;
    this.version++;
  }

  decisionList(): HostDecision[] {
    return [...this.decisions.values()].map((d) => ({ ...d }));
  }

  decision(host: HostId): HostDecision | undefined {
    return this.decisions.get(host);
  }

  /** Takes the acting coordinator's decisions; while acting too (a brief overlap) the later epoch wins. */
  adopt(beat: MonitorBeat, selfActing: boolean): void {
    if (beat.epoch < this.epoch || (selfActing && beat.epoch === this.epoch)) return;
    // The coordinator repeats its decisions in every heartbeat: most of the time nothing is new.
    if (beat.epoch === this.epoch && sameDecisions(this.decisions, beat.decisions)) return;
    this.epoch = beat.epoch;
    this.decisions.clear();
    for (const d of beat.decisions) this.decisions.set(d.host, { ...d });
    this.version++;
  }

  /**
   * Becoming coordinator: catch up with the newest decisions any live peer holds, start a new epoch,
   * and carry on the work a predecessor left in flight.
   */
  takeOver(now: number, peerBeats: readonly MonitorBeat[]): Effect[] {
    let newest: MonitorBeat | undefined;
    for (const b of peerBeats) if (b.epoch > this.epoch && (!newest || b.epoch > newest.epoch)) newest = b;
    if (newest) {
      this.decisions.clear();
      for (const d of newest.decisions) this.decisions.set(d.host, { ...d });
    }
    this.epoch = Math.max(this.epoch, this.membership.maxEpoch()) + 1;
    this.version++;
    this.recentFailures = [...this.decisions.values()].map((d) => ({ host: d.host, atMs: Math.min(d.sinceMs, now) }));
    const out: Effect[] = [];
    for (const d of this.decisions.values()) {
      if (d.state === 'fencing') out.push({ type: 'fence', host: d.host, bootId: d.bootId });
      if (d.state === 'recovering' && d.fence) out.push({ type: 'recover', host: d.host, record: d.fence });
    }
    return out;
  }

  stepDown(): Effect[] {
    this.candidates.clear();
    this.massHold = null;
    const out: Effect[] = [];
    for (const d of this.decisions.values()) {
      if (d.state === 'fencing' || d.state === 'recovering') out.push({ type: 'abandon', host: d.host });
    }
    return out;
  }

  decide(
    now: number,
    voters: readonly VoterView[],
    watch: { count: number; maintenance: ReadonlySet<HostId> },
    out: Effect[],
    lastHeardAt: (host: HostId) => number | null = () => null,
  ): void {
    const needed = this.membership.needed;
    // Only hosts somebody does not see up, or that carry a decision, need a look.
    const hosts = new Set<HostId>(this.decisions.keys());
    for (const v of voters) for (const h of v.verdicts.keys()) hosts.add(h);
    for (const h of this.candidates.keys()) hosts.add(h);
    for (const h of this.clusterSuspect) hosts.add(h);

    const ready: HostId[] = [];
    const failing: HostId[] = [];
    for (const host of hosts) {
      const tally = tallyHost(host, voters);
      const d = this.decisions.get(host);
      if (d) {
        this.reviewDecided(d, tally.up >= needed, now, out);
        continue;
      }
      if (watch.maintenance.has(host)) {
        this.candidates.delete(host);
        this.clusterSuspect.delete(host);
        continue;
      }
      if (tally.suspectOrDead >= needed) {
        failing.push(host);
        if (!this.clusterSuspect.has(host)) {
          this.clusterSuspect.add(host);
          const heard = lastHeardAt(host);
          emit(out, { type: 'host.suspect', at: now, host, silentMs: heard === null ? 0 : now - heard });
        }
      } else {
        this.clusterSuspect.delete(host);
      }
      // A quorum must see it dead, and no live monitor may still hear it: one monitor's broken link
      // plus another's unlucky packet loss must not add up to fencing a healthy host.
      if (tally.dead.length >= needed && tally.up === 0) {
        let c = this.candidates.get(host);
        if (!c) this.candidates.set(host, (c = { sinceMs: now, bootId: tally.bootId }));
        if (now - c.sinceMs >= this.settings.stabilityWindowMs) ready.push(host);
      } else {
        this.candidates.delete(host);
      }
    }

    if (ready.length === 0 && !this.massHold) return;
    const windowStart = now - this.settings.massGuard.windowMs;
    this.recentFailures = this.recentFailures.filter((f) => f.atMs >= windowStart);
    const watched = watch.count - watch.maintenance.size;
    const verdict =
      now < this.massAckUntil
        ? { hold: false as const }
        : massVerdict(this.recentFailures.length + failing.length, watched, this.settings.massGuard);
    if (verdict.hold) {
      if (!this.massHold) {
        this.massHold = { sinceMs: now, hosts: failing, limit: verdict.limit };
        emit(out, { type: 'cluster.mass_failure', at: now, hosts: failing, limit: verdict.limit });
        out.push({
          type: 'log',
          level: 'error',
          msg: 'mass failure: declaring none of these hosts failed; waiting for the operator (instance-ha ack-mass-failure)',
          fields: { hosts: failing, limit: verdict.limit },
        });
      } else {
        this.massHold.hosts = failing;
      }
      return;
    }
    if (this.massHold) {
      this.massHold = null;
      emit(out, { type: 'cluster.mass_failure_cleared', at: now, how: 'hosts_returned' });
    }
    for (const host of ready) this.declare(host, tallyHost(host, voters).dead, now, out, lastHeardAt(host));
  }

  acknowledgeMassFailure(now: number, by: string, out: Effect[]): void {
    this.massAckUntil = now + this.settings.massGuard.windowMs;
    if (this.massHold) {
      out.push({
        type: 'log',
        level: 'warn',
        msg: 'mass failure acknowledged by operator: held hosts will be declared',
        fields: { by, hosts: this.massHold.hosts },
      });
      emit(out, { type: 'cluster.mass_failure_cleared', at: now, how: 'acknowledged' });
      this.massHold = null;
    }
  }

  fenceDone(host: HostId, record: FenceRecord, now: number, acting: boolean, out: Effect[]): void {
    const d = this.decisions.get(host);
    if (!acting || !d || d.state !== 'fencing') {
      out.push({
        type: 'log',
        level: 'warn',
        msg: "fence result ignored: no longer this monitor's to act on",
        fields: { host, ok: record.ok, acting, state: d?.state ?? 'none' },
      });
      return;
    }
    d.sinceMs = now;
    this.version++;
    if (!record.ok) {
      d.state = 'fence_failed';
      emit(out, { type: 'host.fence_failed', at: now, host, record, retryInMs: this.fenceBackoffMs(d.fenceAttempts) });
      return;
    }
    d.state = 'fenced';
    d.fence = { ...record, attempts: record.attempts.slice(-4), at: record.at ?? now };
    emit(out, { type: 'host.fenced', at: now, host, record });
    if (this.settings.recovery.enabled) {
      d.state = 'recovering';
      emit(out, { type: 'host.recovery_started', at: now, host });
      out.push({ type: 'recover', host, record: d.fence });
    }
  }

  recoveryDone(host: HostId, summary: RecoverySummary, now: number, acting: boolean, out: Effect[]): void {
    const d = this.decisions.get(host);
    if (!acting || !d || d.state !== 'recovering') {
      out.push({
        type: 'log',
        level: 'warn',
        msg: "recovery result ignored: no longer this monitor's to act on",
        fields: { host, acting, state: d?.state ?? 'none' },
      });
      return;
    }
    // Never green over a failure: servers left on the dead host (or a recovery that did not finish) need an operator.
    d.state = recoveryLeftServers(summary) ? 'recovery_failed' : 'recovered';
    d.sinceMs = now;
    this.version++;
    emit(out, { type: 'host.recovery_finished', at: now, host, summary });
  }

  /**
   * The operator's `instance-ha recover HOST`: recover again a host whose recovery left servers behind
   * (after adding capacity, say). Refused for any other state: a host being recovered, or not fenced,
   * must not be evacuated by a slip. The incident (its fence record) is the same one.
   */
  retryRecovery(host: HostId, now: number, by: string, acting: boolean, out: Effect[]): boolean {
    const d = this.decisions.get(host);
    if (!acting || !d || d.state !== 'recovery_failed' || !d.fence?.ok) {
      out.push({
        type: 'log',
        level: 'warn',
        msg: 'recovery retry refused: only a recovery_failed host is recovered again, by the acting coordinator',
        fields: { host, by, acting, state: d?.state ?? 'none' },
      });
      return false;
    }
    d.state = 'recovering';
    d.sinceMs = now;
    this.version++;
    out.push({ type: 'log', level: 'warn', msg: 'recovery retried by operator', fields: { host, by } });
    emit(out, { type: 'host.recovery_started', at: now, host });
    out.push({ type: 'recover', host, record: d.fence });
    return true;
  }

  clear(host: HostId, now: number, by: string, out: Effect[]): void {
    const d = this.decisions.get(host);
    if (!d) return;
    this.decisions.delete(host);
    this.version++;
    out.push({ type: 'log', level: 'info', msg: 'host returned to service by operator', fields: { host, by, previous: d.state } });
    emit(out, { type: 'host.recovered', at: now, host, bootId: d.bootId, previous: d.state });
  }

  private declare(host: HostId, votes: string[], now: number, out: Effect[], lastHeardAt: number | null): void {
    const c = this.candidates.get(host);
    this.candidates.delete(host);
    this.clusterSuspect.delete(host);
    const d: HostDecision = { host, state: 'failed', bootId: c?.bootId ?? '', sinceMs: now, fenceAttempts: 0 };
    this.decisions.set(host, d);
    this.version++;
    this.recentFailures.push({ host, atMs: now });
    emit(out, { type: 'host.failed', at: now, host, bootId: d.bootId, votes, lastHeardAt });
    if (this.settings.fencing.enabled) this.startFence(d, now, out);
  }

  private startFence(d: HostDecision, now: number, out: Effect[]): void {
    d.state = 'fencing';
    d.fenceAttempts++;
    d.sinceMs = now;
    this.version++;
    emit(out, { type: 'host.fencing', at: now, host: d.host, attempt: d.fenceAttempts });
    out.push({ type: 'fence', host: d.host, bootId: d.bootId });
  }

  /** A decided host: back to up if nothing was done to it yet, or retry a fence that failed. */
  private reviewDecided(d: HostDecision, quorumHearsIt: boolean, now: number, out: Effect[]): void {
    if ((d.state === 'failed' || d.state === 'fence_failed') && quorumHearsIt) {
      this.decisions.delete(d.host);
      this.version++;
      emit(out, { type: 'host.recovered', at: now, host: d.host, bootId: d.bootId, previous: d.state });
      return;
    }
    if (d.state === 'fence_failed' && now - d.sinceMs >= this.fenceBackoffMs(d.fenceAttempts)) this.startFence(d, now, out);
  }

  /**
   * Who retries a fence (docs/fencing.md "Who retries a fence"): the fencer retries each device a few
   * times inside ONE attempt (a lost packet, a busy BMC) and falls through to the next level; only
   * here is a NEW attempt decided, after this backoff (retryBaseMs doubled per attempt, capped at
   * retryMaxMs, no limit). It is the core's because it depends on the cluster: the host must still be
   * quorum-dead (reviewDecided returns a host heard again to up, unfenced), this monitor must still
   * act, and fenceAttempts travels in the shared decision, so a new coordinator continues the backoff.
   */
  private fenceBackoffMs(attempts: number): number {
    const { retryBaseMs, retryMaxMs } = this.settings.fencing;
    return Math.min(retryMaxMs, retryBaseMs * 2 ** Math.max(0, attempts - 1));
  }
}

function sameDecisions(held: ReadonlyMap<HostId, HostDecision>, got: readonly HostDecision[]): boolean {
  if (held.size !== got.length) return false;
  for (const g of got) {
    const h = held.get(g.host);
    if (
      !h ||
      h.state !== g.state ||
      h.bootId !== g.bootId ||
      h.sinceMs !== g.sinceMs ||
      h.fenceAttempts !== g.fenceAttempts ||
      !h.fence !== !g.fence
    )
      return false;
  }
  return true;
}

function emit(out: Effect[], event: ClusterEvent): void {
  out.push({ type: 'emit', event });
}
