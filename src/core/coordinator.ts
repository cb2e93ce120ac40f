import { recoveryLeftServers, type ClusterEvent, type FenceRecord, type HostId, type RecoverySummary } from './events.js';
import { MassGuard, type AckResult, type MassHold } from './mass-hold.js';
import type { Membership } from './membership.js';
import type { HostDecision, MonitorBeat } from './messages.js';
import type { Effect } from './effects.js';
import type { CoreSettings } from './settings.js';
import { tallyHost, type VoterView } from './tally.js';
import { recoveriesToStart } from './zone-cap.js';
import { PowerChecks } from './power-checks.js';

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
  /**
   * The decisions' version within the epoch (docs/wire-format.md "Decision versions"): bumped only by
   * the acting coordinator when it changes a decision, carried in heartbeats and the state file, and
   * taken over with the decisions. (epoch, decisionSeq) orders two copies of the decisions: a monitor
   * restarted with an older state file of the same epoch, or one that missed the last heartbeats,
   * holds a lower one, so whoever takes over carries on the newest copy a live peer holds instead of
   * its own older one (and never declares again a host its predecessor had already fenced).
   */
  decisionSeq = 0;
  private readonly decisions = new Map<HostId, HostDecision>();
  private readonly candidates = new Map<HostId, Candidate>();
  /** Hosts a quorum finds silent, since when (the stability window of a power-check conviction counts from there). */
  private readonly clusterSuspect = new Map<HostId, number>();
  private readonly powerChecks: PowerChecks;
  private readonly guard: MassGuard;
  /** Fenced hosts whose wait for their zone's cap was logged (once per wait). */
  private readonly zoneWaitLogged = new Set<HostId>();

  constructor(
    private readonly settings: CoreSettings,
    private readonly membership: Membership,
    /** The boot id this monitor hears from a host now ('' or undefined: not heard): what host.rejoined reports. */
    private readonly heardBootId: (host: HostId) => string | undefined = () => undefined,
  ) {
    this.guard = new MassGuard(settings.massGuard);
    this.powerChecks = new PowerChecks(settings.fencing.powerCheck?.maxInFlight ?? 0);
  }

  /** The hosts the mass-failure guard holds now, if any. */
  get massHold(): MassHold | null {
    return this.guard.hold;
  }

  restore(decisions: readonly HostDecision[], epoch: number, decisionSeq = 0): void {
    for (const d of decisions) this.decisions.set(d.host, { ...d });
    this.epoch = epoch;
    this.decisionSeq = decisionSeq;
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
    // Within one epoch, an older copy (a datagram delayed behind a newer one) is not taken back. A
    // beat from an older build carries no decisionSeq: it is taken as before, by difference.
    if (beat.epoch === this.epoch && beat.decisionSeq !== undefined && beat.decisionSeq < this.decisionSeq) return;
    // The coordinator repeats its decisions in every heartbeat: most of the time nothing is new.
    if (beat.epoch === this.epoch && sameDecisions(this.decisions, beat.decisions)) {
      if (beat.decisionSeq !== undefined && beat.decisionSeq !== this.decisionSeq) {
        this.decisionSeq = beat.decisionSeq;
        this.version++;
      }
      return;
    }
    // A 2.0 coordinator's new epoch starts the versions again (every 2.1 follower alike).
    this.decisionSeq = beat.decisionSeq ?? (beat.epoch > this.epoch ? 0 : this.decisionSeq);
    this.epoch = beat.epoch;
    this.decisions.clear();
    for (const d of beat.decisions) this.decisions.set(d.host, { ...d });
    this.version++;
  }

  /** A decision changed by this monitor as coordinator: persisted, and a new version for its peers. */
  private changed(): void {
    this.version++;
    this.decisionSeq++;
  }

  /**
   * Becoming coordinator: catch up with the newest decisions any live peer holds, start a new epoch,
   * and carry on the work a predecessor left in flight.
   */
  takeOver(now: number, peerBeats: readonly MonitorBeat[]): Effect[] {
    // The newest copy by (epoch, decisionSeq), this monitor's own included. A peer of an older build
    // (no decisionSeq) counts only with a higher epoch, as before versions within an epoch existed.
    let newest: { epoch: number; seq: number; beat: MonitorBeat | null } = { epoch: this.epoch, seq: this.decisionSeq, beat: null };
    for (const b of peerBeats) {
      const newer = b.epoch > newest.epoch || (b.epoch === newest.epoch && b.decisionSeq !== undefined && b.decisionSeq > newest.seq);
      if (newer) newest = { epoch: b.epoch, seq: b.decisionSeq ?? 0, beat: b };
    }
    if (newest.beat) {
      this.decisions.clear();
      for (const d of newest.beat.decisions) this.decisions.set(d.host, { ...d });
      this.decisionSeq = newest.seq;
    }
    this.epoch = Math.max(this.epoch, this.membership.maxEpoch()) + 1;
    this.version++;
    this.guard.takeOver([...this.decisions.values()], now);
    const out: Effect[] = [];
    for (const d of this.decisions.values()) {
      if (d.state === 'fencing') out.push({ type: 'fence', host: d.host, bootId: d.bootId });
      if (d.state === 'recovering' && d.fence) out.push({ type: 'recover', host: d.host, record: d.fence });
    }
    // Hosts a predecessor left waiting for their zone's cap.
    this.startWaiting(now, out);
    return out;
  }

  /**
   * Starts the recovery of every fenced host the zone cap lets start now (all of them without
   * zones). A host kept waiting stays `fenced` (off, verified; its servers not yet moved: not green)
   * and is logged once per wait.
   */
  private startWaiting(now: number, out: Effect[], justFenced?: HostId): void {
    if (!this.settings.recovery.enabled) return;
    const cap = this.settings.recovery.zoneCap;
    // Only the host just fenced, or hosts of a zone (the only ones ever kept waiting): a `fenced` host
    // restored from a time recovery was off is not started by a takeover.
    const waits = (d: HostDecision): boolean =>
      d.state === 'fenced' && !!d.fence?.ok && (d.host === justFenced || (cap !== undefined && cap.zoneOf[d.host] !== undefined));
    const all = [...this.decisions.values()].filter((d) => d.state !== 'fenced' || waits(d));
    const start = new Set(recoveriesToStart(all, cap));
    for (const d of all) {
      if (d.state !== 'fenced') continue;
      if (!start.has(d.host)) {
        if (!this.zoneWaitLogged.has(d.host)) {
          this.zoneWaitLogged.add(d.host);
          const zone = this.settings.recovery.zoneCap?.zoneOf[d.host];
          out.push({
            type: 'log',
            level: 'warn',
            msg: 'recovery waits: its zone already has the most host recoveries allowed at once (recovery.max_recoveries_per_zone)',
            fields: { host: d.host, zone, max: this.settings.recovery.zoneCap?.maxPerZone },
          });
        }
        continue;
      }
      this.zoneWaitLogged.delete(d.host);
      d.state = 'recovering';
      d.sinceMs = now;
      this.version++;
      emit(out, { type: 'host.recovery_start', at: now, host: d.host });
      out.push({ type: 'recover', host: d.host, record: d.fence! });
    }
  }

  stepDown(): Effect[] {
    this.candidates.clear();
    this.powerChecks.reset();
    this.guard.reset();
    const out: Effect[] = [];
    for (const d of this.decisions.values()) {
      if (d.state === 'fencing' || d.state === 'recovering') out.push({ type: 'abandon', host: d.host });
    }
    return out;
  }

  decide(
    now: number,
    voters: readonly VoterView[],
    /** `left`: hosts whose beacon stopped cleanly (left-marks.ts), skipped like maintenance; none of them in `maintenance`. */
    watch: { count: number; maintenance: ReadonlySet<HostId>; left?: ReadonlySet<HostId> },
    out: Effect[],
    lastHeardAt: (host: HostId) => number | null = () => null,
  ): void {
    const needed = this.membership.needed;
    // Only hosts somebody does not see up, or that carry a decision, need a look.
    const hosts = new Set<HostId>(this.decisions.keys());
    for (const v of voters) for (const h of v.verdicts.keys()) hosts.add(h);
    for (const h of this.candidates.keys()) hosts.add(h);
    for (const h of this.clusterSuspect.keys()) hosts.add(h);
    // A held host leaves the hold only when a quorum is seen to hear it: look at each one.
    for (const h of this.guard.hold?.hosts ?? []) hosts.add(h);

    const ready: HostId[] = [];
    const failing: HostId[] = [];
    const returned = new Set<HostId>();
    for (const host of hosts) {
      const tally = tallyHost(host, voters);
      if (tally.up >= needed) returned.add(host);
      const d = this.decisions.get(host);
      if (d) {
        // Heard again means heard: not a host a just-restarted monitor has not judged yet (sim seed 2727).
        this.reviewDecided(d, tally.heardUp >= needed, now, out);
        continue;
      }
      // A left host's silence is its clean stop, not a failure: neither suspect nor a candidate.
      if (watch.maintenance.has(host) || watch.left?.has(host)) {
        this.candidates.delete(host);
        this.clusterSuspect.delete(host);
        this.powerChecks.forget(host);
        continue;
      }
      if (tally.suspectOrDead >= needed) {
        failing.push(host);
        if (!this.clusterSuspect.has(host)) {
          this.clusterSuspect.set(host, now);
          const heard = lastHeardAt(host);
          emit(out, { type: 'host.suspect', at: now, host, silentMs: heard === null ? 0 : now - heard });
        }
      } else {
        this.clusterSuspect.delete(host);
        this.powerChecks.forget(host);
      }
      // Silent to a quorum of awake monitors and heard by none: its fence devices are asked for the
      // power status once (power-checks.ts); an OFF reading stands in for the dead verdicts.
      const silent = tally.silentAwake.length >= needed && tally.up === 0;
      if (silent && this.powerCheckAllowed() && this.powerChecks.shouldAsk(host)) out.push({ type: 'check_power', host });
      const readOff = silent && this.powerChecks.offSince(host) !== null;
      // A quorum must see it dead, and no live monitor may still hear it: one monitor's broken link
      // plus another's unlucky packet loss must not add up to fencing a healthy host.
      if ((tally.dead.length >= needed || readOff) && tally.up === 0) {
        let c = this.candidates.get(host);
        // Read off, the stability window counts from the cluster's suspicion: a mass silence shows
        // itself there (the guard below sees every suspect host) as it would among dead verdicts.
        const since = tally.dead.length >= needed ? now : (this.clusterSuspect.get(host) ?? now);
        if (!c) this.candidates.set(host, (c = { sinceMs: since, bootId: tally.bootId }));
        if (now - c.sinceMs >= this.settings.stabilityWindowMs) ready.push(host);
      } else {
        this.candidates.delete(host);
      }
    }

    const declarable = this.guard.judge(
      now,
      {
        failing,
        ready,
        watched: watch.count - watch.maintenance.size - (watch.left?.size ?? 0),
        returned: (h) => returned.has(h),
        inMaintenance: (h) => watch.maintenance.has(h),
        inProgress: (h) => isIncidentInProgress(this.decisions.get(h)),
      },
      out,
    );
    for (const host of declarable) {
      const t = tallyHost(host, voters);
      const readOffAt = t.dead.length >= needed ? null : this.powerChecks.offSince(host);
      this.declare(host, readOffAt === null ? t.dead : t.silentAwake, now, out, lastHeardAt(host), readOffAt);
    }
  }

  /** Early power checks: only where a fence may follow, and not while a mass hold is up (the BMCs of a mass silence are not all asked). */
  private powerCheckAllowed(): boolean {
    return this.settings.fencing.enabled && (this.settings.fencing.powerCheck?.maxInFlight ?? 0) > 0 && this.guard.hold === null;
  }

  /**
   * The driver's answer to check_power. An OFF for a host still silent is acted on at the caller's
   * next decision pass (MonitorCore decides at once); any other answer leaves the silence rule to it.
   */
  powerChecked(host: HostId, off: boolean, detail: string, now: number, acting: boolean, out: Effect[]): boolean {
    const news = this.powerChecks.answered(host, off, now) && acting;
    if (news)
      out.push({ type: 'log', level: 'info', msg: 'power check: every first-level fence device reads OFF', fields: { host, detail } });
    else if (!off && acting)
      out.push({ type: 'log', level: 'info', msg: 'power check: not read off; the silence rule decides', fields: { host, detail } });
    return news;
  }

  /** An operator's acknowledgement of a mass-failure hold (see MassGuard.acknowledge). */
  acknowledgeMassFailure(now: number, by: string, out: Effect[], hosts?: readonly HostId[]): AckResult {
    return this.guard.acknowledge(now, by, hosts, out);
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
    this.changed();
    if (!record.ok) {
      d.state = 'fence_failed';
      emit(out, { type: 'host.fence_failed', at: now, host, record, retryInMs: this.fenceBackoffMs(d.fenceAttempts) });
      return;
    }
    d.state = 'fenced';
    d.fence = { ...record, attempts: record.attempts.slice(-4), at: record.at ?? now };
    emit(out, { type: 'host.fenced', at: now, host, record });
    this.startWaiting(now, out, host);
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
    d.state = recoveryLeftServers(summary) ? 'recovery_failed' : 'evacuated';
    d.sinceMs = now;
    this.changed();
    emit(out, { type: 'host.recovery_end', at: now, host, summary });
    // A slot of its zone is free: the next host waiting there starts.
    this.startWaiting(now, out);
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
    this.changed();
    out.push({ type: 'log', level: 'warn', msg: 'recovery retried by operator', fields: { host, by } });
    emit(out, { type: 'host.recovery_start', at: now, host });
    out.push({ type: 'recover', host, record: d.fence });
    return true;
  }

  clear(host: HostId, now: number, by: string, out: Effect[]): void {
    const d = this.decisions.get(host);
    if (!d) return;
    this.decisions.delete(host);
    this.changed();
    out.push({ type: 'log', level: 'info', msg: 'host returned to service by operator', fields: { host, by, previous: d.state } });
    emit(out, this.rejoined(d, now));
  }

  /** A host back in service carries the boot it is in now (a new one after a fence), and the one that failed. */
  private rejoined(d: HostDecision, now: number): ClusterEvent {
    const bootId = this.heardBootId(d.host) || d.bootId;
    return { type: 'host.rejoined', at: now, host: d.host, bootId, failedBootId: d.bootId, previous: d.state };
  }

  /**
   * An operator attests that a host whose fence failed is powered off (its BMC died with it): the
   * host is fenced as if a device had verified it, and recovery proceeds. The record says who.
   * Only from fence_failed: never over a fence attempt in flight, never for a host not decided failed.
   */
  confirmFenced(host: HostId, now: number, by: string, out: Effect[]): void {
    const d = this.decisions.get(host);
    if (!d || d.state !== 'fence_failed') {
      out.push({ type: 'log', level: 'warn', msg: 'fence confirmation refused', fields: { host, by, state: d?.state ?? 'none' } });
      return;
    }
    const record: FenceRecord = { ok: true, durationMs: 0, attempts: [], by: this.settings.self, confirmedBy: by, at: now };
    d.state = 'fenced';
    d.sinceMs = now;
    d.fence = record;
    this.changed();
    out.push({ type: 'log', level: 'warn', msg: 'operator confirmed the host is powered off: treated as fenced', fields: { host, by } });
    emit(out, { type: 'host.fenced', at: now, host, record });
    this.startWaiting(now, out, host);
  }

  /** Removes every trace of a decommissioned host (the caller has refused it while fencing or recovering). */
  forget(host: HostId): HostDecision | undefined {
    const d = this.decisions.get(host);
    if (d) {
      this.decisions.delete(host);
      this.version++;
    }
    this.candidates.delete(host);
    this.clusterSuspect.delete(host);
    this.powerChecks.forget(host);
    this.guard.forget(host);
    return d;
  }

  private declare(host: HostId, votes: string[], now: number, out: Effect[], lastHeardAt: number | null, readOffAt: number | null): void {
    const c = this.candidates.get(host);
    this.candidates.delete(host);
    this.clusterSuspect.delete(host);
    this.powerChecks.forget(host);
    const d: HostDecision = { host, state: 'failed', bootId: c?.bootId ?? '', sinceMs: now, fenceAttempts: 0 };
    this.decisions.set(host, d);
    this.changed();
    this.guard.declared(host, now);
    emit(out, {
      type: 'host.failed',
      at: now,
      host,
      bootId: d.bootId,
      votes,
      lastHeardAt,
      ...(readOffAt === null ? {} : { powerReadOffAt: readOffAt }),
    });
    // Alone (a quorum of one), nobody else has to hold it; otherwise reviewDecided fences once a
    // quorum does (heldByQuorum).
    if (this.settings.fencing.enabled && this.membership.needed <= 1) this.startFence(d, now, out);
  }

  /**
   * A new decision is acted on only once a quorum of monitors holds it (this one and live peers
   * whose heartbeats carry it at this epoch): any later coordinator needs a quorum too, so one of its
   * peers holds the decision and its takeover (newest by epoch and decision version) carries it on.
   * Without this wait, a coordinator that stalled or was cut off right after fencing left successors
   * that never learned of the fence, and they declared the powered-off host again (sim seeds 362,
   * 3242, 3552). Compared by content, so a 2.0 peer (no decision version) acknowledges too.
   */
  private heldByQuorum(d: HostDecision, now: number): boolean {
    let holders = 1;
    for (const p of this.membership.livePeers(now)) {
      if (p.beat.epoch !== this.epoch) continue;
      if (p.beat.decisions.some((x) => x.host === d.host && x.bootId === d.bootId && x.sinceMs >= d.sinceMs)) holders++;
    }
    return holders >= this.membership.needed;
  }

  private startFence(d: HostDecision, now: number, out: Effect[]): void {
    d.state = 'fencing';
    d.fenceAttempts++;
    d.sinceMs = now;
    this.changed();
    emit(out, { type: 'host.fencing', at: now, host: d.host, attempt: d.fenceAttempts });
    out.push({ type: 'fence', host: d.host, bootId: d.bootId });
  }

  /** A decided host: back to up if nothing was done to it yet, or retry a fence that failed. */
  private reviewDecided(d: HostDecision, quorumHearsIt: boolean, now: number, out: Effect[]): void {
    if ((d.state === 'failed' || d.state === 'fence_failed') && quorumHearsIt) {
      this.decisions.delete(d.host);
      this.changed();
      emit(out, this.rejoined(d, now));
      return;
    }
    if (d.state === 'fence_failed' && now - d.sinceMs >= this.fenceBackoffMs(d.fenceAttempts)) this.startFence(d, now, out);
    if (d.state === 'failed' && this.settings.fencing.enabled && this.heldByQuorum(d, now)) this.startFence(d, now, out);
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

/**
 * The incident is still going on: the host is being or was to be fenced, or is fenced and its
 * instances are still being moved. `evacuated` (powered off, instances moved) is over.
 */
function isIncidentInProgress(d: HostDecision | undefined): boolean {
  // recovery_failed: the host is off and its failure handled; what is left (capacity) is no new failure.
  return d !== undefined && d.state !== 'evacuated' && d.state !== 'recovery_failed';
}

function emit(out: Effect[], event: ClusterEvent): void {
  out.push({ type: 'emit', event });
}
