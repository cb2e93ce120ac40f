import { IllegalStateError } from '../errors.js';
import { judge, newTrack, recordHeartbeat, type HostTrack, type LocalVerdict } from './detector.js';
import type { ClusterEvent, HostId, MonitorId } from './events.js';
import type { Effect, Input, PersistedState } from './effects.js';
import { Membership } from './membership.js';
import type { BeaconBeat, ClearRequest, ForgetRequest, HostVerdict, LeftMark, MaintenanceMark, MonitorBeat } from './messages.js';
import { acceptLeaving, adoptable, clusterLeft, heartbeatEndsLeft } from './left-marks.js';
import { Forgotten } from './forgotten.js';
import { operatorRefusal, type OperatorInput } from './operator-refusal.js';
import { monitorDetector, type CoreSettings } from './settings.js';
import type { DetectorSettings } from './detector.js';
import { Coordinator } from './coordinator.js';
import { AutoUnfence } from './auto-unfence.js';
import { ComputeDown } from './compute-down.js';
import { DEFAULT_GUEST_RESTART, GuestFailures } from './guest-failures.js';
import { verdictsByHost, type VoterView } from './tally.js';

/**
 * The decision core of one monitor: deterministic, no I/O, time only from inputs. The driver feeds it
 * heartbeats, peer messages, ticks and edge results, and carries out the effects it returns.
 */
export class MonitorCore {
  readonly tracks = new Map<HostId, HostTrack>();
  readonly membership: Membership;
  readonly maintenance = new Map<HostId, MaintenanceMark>();
  readonly coordinator: Coordinator;
  private seq = 0;
  private lastTickAt: number | null = null;
  private pausedUntil = -Infinity;
  private lastBroadcastAt = -Infinity;
  /** Ticks since the last decision pass on a tick (decideEveryTicks). */
  private ticksSinceDecide = 0;
  private ticksSinceLinkCheck = 0;
  private viewDirty = false;
  /** The decisionSeq the last heartbeat carried (announceDecisions). */
  private announcedSeq = -1;
  private wasQuorate = false;
  private lastCoordinator: MonitorId | null = null;
  private wasActing = false;
  private wasActingBroadcast = false;
  private readonly linkWarned = new Set<HostId>();
  /** Clear requests taken here while not coordinator, until the coordinator has acted on them. */
  private readonly pendingClears = new Map<HostId, ClearRequest>();
  /** Hosts not up as of the last tick (normally a handful out of thousands). */
  private nonUp: HostTrack[] = [];
  private out: Effect[] = [];
  private lastVote: MonitorId | null = null;
  private readonly detector: DetectorSettings;
  private readonly autoUnfence: AutoUnfence;
  /** A dead nova-compute on a live host (compute-down.ts); hosts reporting it not up, as of the last tick. */
  readonly computeDown: ComputeDown;
  private computeNotUp: HostId[] = [];
  /** Guest OS failures inside live hosts (guest-failures.ts). */
  readonly guests: GuestFailures;
  /** What was last handed to the driver to persist: the host count and the rest as one string. */
  private persistedHosts: number;
  private persistedRest: string;
  private maintenanceVersion = 0;
  /** Hosts an operator made the monitors forget, kept for a while as tombstones (see forgotten.ts). */
  private readonly forgotten = new Forgotten();
  private forgetCount = 0;
  /** Hosts holding a left mark (a clean stop, left-marks.ts): a handful, looked at without scanning every track. */
  private readonly leftHosts = new Set<HostId>();
  private leftVersion = 0;

  constructor(
    readonly settings: CoreSettings,
    readonly bootId: string,
    startAt: number,
    restored?: PersistedState,
  ) {
    if (!settings.monitors.includes(settings.self)) {
      throw new IllegalStateError(`monitor '${settings.self}' is not in the configured monitors`);
    }
    this.membership = new Membership({
      self: settings.self,
      monitors: settings.monitors,
      expectedVotes: settings.expectedVotes,
      peerTimeoutMs: settings.peerTimeoutMs,
    });
    this.coordinator = new Coordinator(settings, this.membership, (h) => this.tracks.get(h)?.bootId);
    this.detector = monitorDetector(settings);
    for (const h of restored?.knownHosts ?? []) this.track(h, startAt);
    for (const m of restored?.maintenance ?? []) this.maintenance.set(m.host, m);
    for (const l of restored?.left ?? []) {
      this.track(l.host, startAt).left = { ...l };
      this.leftHosts.add(l.host);
    }
    if (restored) this.coordinator.restore(restored.decisions, restored.epoch, restored.decisionSeq ?? 0);
    this.lastTickAt = startAt;
    this.autoUnfence = new AutoUnfence(settings.recovery.autoUnfence);
    this.computeDown = new ComputeDown(settings.computeDown);
    this.guests = new GuestFailures(settings.guestRestart ?? DEFAULT_GUEST_RESTART);
    if (restored?.computeDown) this.computeDown.restore(restored.computeDown);
    this.announcedSeq = this.coordinator.decisionSeq;
    this.persistedHosts = this.tracks.size;
    this.persistedRest = this.durableFingerprint();
  }

  step(input: Input): Effect[] {
    this.out = [];
    switch (input.type) {
      case 'tick':
        this.onTick(input.at);
        break;
      case 'beacon':
        this.onBeacon(input.beat, input.at);
        break;
      case 'leaving':
        this.onLeaving(input.beat, input.at);
        break;
      case 'peer':
        this.onPeer(input.beat, input.at);
        break;
      case 'maintenance':
        if (this.refused(input)) break;
        // Registering a host on purpose brings back one that was forgotten.
        this.forgotten.returned(input.host);
        this.setMaintenance({ host: input.host, on: input.on, atMs: input.at, by: input.by }, input.at, true);
        this.viewDirty = true;
        break;
      case 'forget':
        if (this.refused(input)) break;
        this.forgetHost({ host: input.host, atMs: input.at, by: input.by }, input.at);
        break;
      case 'confirm_fenced':
        if (this.refused(input)) break;
        this.coordinator.confirmFenced(input.host, input.at, input.by, this.out);
        this.viewDirty = true;
        break;
      case 'ack_mass_failure':
        this.coordinator.acknowledgeMassFailure(input.at, input.by, this.out, input.hosts);
        break;
      case 'fence_done':
        this.coordinator.fenceDone(input.host, input.record, input.at, this.acting(input.at), this.out);
        this.viewDirty = true;
        break;
      case 'power_checked': {
        const acting = this.acting(input.at);
        // Read off: decide now, not at the next tick (the whole point of the check is time).
        if (this.coordinator.powerChecked(input.host, input.off, input.detail, input.at, acting, this.out) && acting) this.decide(input.at);
        break;
      }
      case 'recovery_done':
        this.coordinator.recoveryDone(input.host, input.summary, input.at, this.acting(input.at), this.out);
        this.viewDirty = true;
        break;
      case 'clear':
        // The coordinator clears at once; any other monitor carries the request to it.
        if (this.acting(input.at)) this.coordinator.clear(input.host, input.at, input.by, this.out);
        else this.pendingClears.set(input.host, { host: input.host, atMs: input.at, by: input.by });
        this.viewDirty = true;
        break;
      case 'retry_recovery':
        this.coordinator.retryRecovery(input.host, input.at, input.by, this.acting(input.at), this.out);
        this.viewDirty = true;
        break;
      case 'unfence_done':
        if (this.autoUnfence.done(input.host, input.ok, input.at) && this.acting(input.at)) {
          this.coordinator.clear(input.host, input.at, 'auto-unfence', this.out);
          this.viewDirty = true;
        } else if (!input.ok) {
          this.log('warn', 'automatic unfence did not complete; trying again after another quiet period', {
            host: input.host,
            reason: input.reason ?? '',
          });
        }
        break;
      case 'compute_disabled':
        this.computeDown.disabled(
          input.host,
          input.at,
          input.ok ? { ok: true, already: input.already === true } : { ok: false, reason: input.reason ?? 'unknown error' },
          this.out,
        );
        break;
      case 'compute_enable_done':
        this.computeDown.enableDone(
          input.host,
          input.at,
          input.ok
            ? { ok: true, enabled: input.enabled === true, note: input.note ?? '' }
            : { ok: false, reason: input.reason ?? 'unknown error' },
          this.out,
        );
        break;
      case 'guest_event':
        // A host speaks only for itself: the beat was opened under its own key (codec.ts), and the
        // restart edge checks that the server is on that host before touching it.
        if (this.forgotten.has(input.beat.host) || this.maintenance.get(input.beat.host)?.on === true) break;
        this.guests.onEvent(input.beat, input.at, this.acting(input.at), this.out, this.computeView(input.beat.host)?.live === true);
        break;
      case 'guest_restart_done':
        this.guests.restartDone(input.host, input.instance, input.outcome, input.reason, input.at, this.out);
        break;
      default: {
        const never: never = input;
        throw new IllegalStateError(`unknown input ${JSON.stringify(never)}`);
      }
    }
    if (input.type !== 'beacon') this.announceDecisions(input.at);
    this.askToPersist(input.type === 'beacon');
    return this.out;
  }

  /**
   * A coordinator's changed decision leaves in a heartbeat BEFORE it is acted on: the broadcast goes
   * ahead of the fence or recovery it comes with (after the persist, which askToPersist puts first).
   * Otherwise a coordinator that stalls or dies between its decision and its next peer interval (a
   * GC pause right after starting a fence) leaves successors that never learned of it: they declare
   * the host, already powered off, failed again and fence it under a second decision (sim seed 362).
   */
  private announceDecisions(now: number): void {
    const seq = this.coordinator.decisionSeq;
    if (seq !== this.announcedSeq && this.acting(now) && !this.out.some((e) => e.type === 'broadcast')) this.broadcast(now, true);
    const first = this.out.findIndex((e) => e.type === 'broadcast');
    if (first <= 0) return;
    const [beat] = this.out.splice(first, 1);
    this.out.unshift(beat!);
  }

  /**
   * Tells the driver when the durable state changed. A heartbeat can only add a host, so it is
   * checked by count alone (the hot path: 10,000 a second); anything else compares the rest.
   */
  private askToPersist(onlyHostsCanChange: boolean): void {
    const hostsChanged = this.tracks.size !== this.persistedHosts;
    const rest = onlyHostsCanChange ? this.persistedRest : this.durableFingerprint();
    const restChanged = rest !== this.persistedRest;
    if (!hostsChanged && !restChanged) return;
    this.persistedHosts = this.tracks.size;
    this.persistedRest = rest;
    // First, so the driver has it on disk before it acts on the rest (raft's Ready.MustSync).
    this.out.unshift({ type: 'persist', mustSync: restChanged });
  }

  private durableFingerprint(): string {
    const c = this.coordinator;
    return `${c.epoch}:${c.version}:${this.maintenanceVersion}:${this.forgetCount}:${this.computeDown.version}:${this.leftVersion}`;
  }

  /**
   * Why this monitor would refuse an operator command now, or null (operator-refusal.ts). The control
   * channel asks first to answer the operator; step() asks again, so a refused command never acts.
   */
  refusal(input: OperatorInput): string | null {
    const now = input.at;
    const acting = this.acting(now);
    return operatorRefusal(input, {
      self: this.settings.self,
      acting,
      coordinator: this.membership.coordinator(now, acting),
      knows: (h) => this.tracks.has(h) || this.maintenance.has(h) || this.coordinator.decision(h) !== undefined,
      decision: (h) => this.coordinator.decision(h),
      heardAgoMs: (h) => {
        const t = this.tracks.get(h);
        return t && t.verdict === 'up' ? now - t.lastHeardAt : null;
      },
      massHold: this.coordinator.massHold,
    });
  }

  private refused(input: OperatorInput): boolean {
    const why = this.refusal(input);
    if (why === null) return false;
    this.log('warn', 'operator command refused', { command: input.type, ...('host' in input ? { host: input.host } : {}), reason: why });
    return true;
  }

  /** Forgets a decommissioned host here, and carries the forget to the peers so every monitor does. */
  private forgetHost(req: ForgetRequest, now: number): void {
    this.forgotten.add(req, now);
    this.forgetCount++;
    const mark = this.maintenance.get(req.host);
    const track = this.tracks.get(req.host);
    const d = this.coordinator.forget(req.host);
    const previous = d?.state ?? (mark?.on ? 'maintenance' : track ? (track.verdict === 'up' ? 'up' : 'suspect') : null);
    this.tracks.delete(req.host);
    this.computeDown.forget(req.host);
    this.nonUp = this.nonUp.filter((t) => t.host !== req.host);
    this.linkWarned.delete(req.host);
    this.pendingClears.delete(req.host);
    if (this.leftHosts.delete(req.host)) this.leftVersion++;
    if (this.maintenance.delete(req.host)) this.maintenanceVersion++;
    this.viewDirty = true;
    this.log('info', 'host forgotten: a decommissioned host leaves the watch', { host: req.host, by: req.by, previous });
    this.emit({ type: 'host.forgotten', at: now, host: req.host, by: req.by, previous });
  }

  /** A monitor that just stalled does not act on views it has not refreshed since. */
  acting(now: number): boolean {
    return !this.paused(now) && this.membership.acting(now, this.wasActing);
  }

  paused(now: number): boolean {
    return now < this.pausedUntil;
  }

  persisted(): PersistedState {
    const computeDown = this.computeDown.marks();
    return {
      knownHosts: [...this.tracks.keys()].sort(),
      maintenance: [...this.maintenance.values()],
      decisions: this.coordinator.decisionList(),
      epoch: this.coordinator.epoch,
      decisionSeq: this.coordinator.decisionSeq,
      // Only when there is one: state files stay as they were for everyone else.
      ...(computeDown.length > 0 ? { computeDown } : {}),
      ...(this.leftHosts.size > 0 ? { left: this.leftMarks() } : {}),
    };
  }

  private track(host: HostId, now: number): HostTrack {
    let t = this.tracks.get(host);
    if (!t) {
      t = newTrack(host, now, this.detector);
      this.tracks.set(host, t);
    }
    return t;
  }

  private onBeacon(beat: BeaconBeat, now: number): void {
    if (this.forgotten.has(beat.host)) {
      this.forgotten.returned(beat.host);
      this.log('warn', 'a forgotten host sends heartbeats again: watched as a new host', { host: beat.host, bootId: beat.bootId });
    }
    const t = this.track(beat.host, now);
    const outcome = recordHeartbeat(t, beat, now, this.detector);
    if (outcome === 'stale') return;
    if (t.verdict !== 'up') {
      t.verdict = 'up';
      this.viewDirty = true;
      this.linkWarned.delete(beat.host);
    }
    if (outcome === 'new_boot') this.log('info', 'host rebooted (new boot id)', { host: beat.host, bootId: beat.bootId });
    if (t.left && heartbeatEndsLeft(t.left, beat)) {
      const was = t.left;
      t.left = null;
      this.leftHosts.delete(t.host);
      this.leftVersion++;
      this.viewDirty = true;
      this.log('info', 'a host that left is back (heartbeats again): watched and protected', {
        host: t.host,
        bootId: beat.bootId,
        newBoot: beat.bootId !== was.bootId,
      });
      this.emit({ type: 'host.rejoined', at: now, host: t.host, bootId: beat.bootId, previous: 'left' });
    }
  }

  /**
   * A beacon stopping cleanly (left-marks.ts for why it is trusted): the host is marked left for the boot
   * it was sent in. A host already decided failed is not: its fence (or its return) goes on as decided.
   */
  private onLeaving(beat: BeaconBeat, now: number): void {
    if (this.forgotten.has(beat.host)) return;
    const d = this.coordinator.decision(beat.host);
    if (d) {
      this.log('warn', 'leaving ignored: the host is already declared failed', { host: beat.host, state: d.state });
      return;
    }
    const t = this.tracks.get(beat.host);
    const outcome = acceptLeaving(t, beat);
    if (outcome === 'left') this.markLeft(t!, 'beacon', now);
    else if (outcome === 'other_boot' || outcome === 'never_heard')
      this.log('warn', 'leaving ignored: not of the boot this monitor hears', { host: beat.host, bootId: beat.bootId, why: outcome });
  }

  private markLeft(t: HostTrack, via: string, now: number): void {
    const left = t.left!;
    this.leftHosts.add(t.host);
    this.leftVersion++;
    this.viewDirty = true;
    this.log('info', 'host left cleanly (its beacon stopped and said so): not fenced for this silence, and NOT protected', {
      host: t.host,
      bootId: left.bootId,
      via,
    });
    this.emit({ type: 'host.left', at: now, host: t.host, bootId: left.bootId, leftAt: left.sentAtMs, via });
  }

  /** A peer's marks: taken under the same boot rule, so a monitor that missed the leaving does not fence it. */
  private adoptLeft(marks: readonly LeftMark[], from: string, now: number): void {
    for (const m of marks) {
      if (this.forgotten.has(m.host) || this.coordinator.decision(m.host)) continue;
      const t = this.track(m.host, now);
      if (!adoptable(t, m)) continue;
      t.left = { ...m };
      this.markLeft(t, from, now);
    }
  }

  private leftMarks(): LeftMark[] {
    const out: LeftMark[] = [];
    for (const h of this.leftHosts) {
      const l = this.tracks.get(h)?.left;
      if (l) out.push({ ...l });
    }
    return out;
  }

  /** The left hosts a decision skips: a mark here, no verdict naming another boot, not in maintenance (counted there). */
  private leftForDecision(voters: readonly VoterView[]): Set<HostId> {
    const out = new Set<HostId>();
    for (const h of this.leftHosts) {
      if (this.maintenance.get(h)?.on) continue;
      if (clusterLeft(this.tracks.get(h)?.left ?? null, h, voters)) out.add(h);
    }
    return out;
  }

  private onPeer(beat: MonitorBeat, now: number): void {
    // A paged view arrives as the same list with every beat until it changes: 10,000 verdicts need a
    // look when they change, not 40 times a second.
    const viewChanged = beat.verdicts !== this.membership.peers.get(beat.from)?.beat.verdicts;
    if (!this.membership.receive(beat, now)) return;
    for (const m of beat.maintenance) {
      // A peer that has not heard of a forget yet must not bring the host back with its old mark.
      if (this.forgotten.supersedes(m.host, m.atMs)) this.forgotten.stillMentioned(m.host, now);
      else this.setMaintenance(m, now, false);
    }
    // A host a peer watches is one this monitor should watch too; never heard means silent since now.
    for (const v of beat.verdicts) {
      if (this.forgotten.has(v.host)) this.forgotten.stillMentioned(v.host, now);
      else this.track(v.host, now);
    }
    // Between ticks, only a monitor that has already taken over (caught up with its peers' newest
    // decisions, raised the epoch) acts on what a peer says; one that has just become coordinator
    // waits for its next tick, where it takes over first.
    const tookOver = this.wasActing && this.acting(now);
    const held = this.coordinator.version;
    if (beat.acting) this.coordinator.adopt(beat, tookOver);
    // Echoed at the next tick: the coordinator fences a new decision only once a quorum holds it.
    if (this.coordinator.version !== held) this.viewDirty = true;
    if (beat.clears && tookOver) {
      // A clear asked of a peer applies to the decision it was asked about, not to a newer one.
      for (const c of beat.clears) {
        const d = this.coordinator.decision(c.host);
        if (d && d.sinceMs <= c.atMs) {
          this.coordinator.clear(c.host, now, c.by, this.out);
          this.viewDirty = true;
        }
      }
    }
    // After adopting: the coordinator's own forget comes with decisions that no longer hold the host.
    for (const f of beat.forgets ?? []) this.peerForget(f, now);
    if (beat.left) this.adoptLeft(beat.left, beat.from, now);
    // A peer's new dead verdict may complete a quorum: decide now rather than at the next tick.
    if (viewChanged && beat.verdicts.length > 0 && tookOver) this.decide(now);
  }

  /** A forget asked of a peer: applied here too, unless the host is being fenced or recovered by now. */
  private peerForget(f: ForgetRequest, now: number): void {
    if (this.forgotten.knows(f)) return;
    const state = this.coordinator.decision(f.host)?.state;
    if (state === 'fencing' || state === 'recovering') {
      this.log('warn', 'forget from a peer not applied: the host is being fenced or recovered', { host: f.host, by: f.by, state });
      return;
    }
    this.forgetHost(f, now);
  }

  private decide(now: number): void {
    const voters = this.voters(now);
    const watch = { ...this.hostsUnderWatch(), left: this.leftForDecision(voters) };
    this.coordinator.decide(now, voters, watch, this.out, (h) => this.tracks.get(h)?.lastHeardAt ?? null);
  }

  private setMaintenance(mark: MaintenanceMark, now: number, local: boolean): void {
    const prev = this.maintenance.get(mark.host);
    if (prev && prev.atMs >= mark.atMs) return;
    this.maintenance.set(mark.host, mark);
    this.maintenanceVersion++;
    this.track(mark.host, now);
    if (!prev || prev.on !== mark.on) {
      this.emit({ type: 'host.maintenance', at: now, host: mark.host, on: mark.on, by: mark.by });
      if (local) this.log('info', mark.on ? 'host in maintenance' : 'host out of maintenance', { host: mark.host, by: mark.by });
    }
  }

  private onTick(now: number): void {
    this.detectOwnPause(now);
    this.judgeHosts(now);
    this.followMembership(now);
    const acting = this.acting(now);
    if (acting) {
      if (++this.ticksSinceDecide >= decideEveryTicks(this.nonUp.length)) {
        this.ticksSinceDecide = 0;
        this.decide(now);
      }
      if (this.settings.recovery.autoUnfence.enabled) {
        this.autoUnfence.review(
          now,
          this.coordinator.decisionList().filter((d) => d.state === 'evacuated'),
          (h) => this.tracks.get(h),
          this.out,
        );
      }
    }
    this.computeDown.review(now, acting, this.tracks.size, this.computeNotUp, (h) => this.computeView(h), this.out);
    this.warnAboutOwnLink(now);
    if (this.viewDirty || now - this.lastBroadcastAt >= this.settings.peerIntervalMs) this.broadcast(now, acting);
  }

  /** A host as the compute-down rule sees it: live only when up here with no decision and no maintenance. */
  private computeView(host: HostId): { live: boolean; novaCompute: 'up' | 'down' | 'unknown' } | undefined {
    const t = this.tracks.get(host);
    if (!t) return undefined;
    const live = t.heard && t.verdict === 'up' && !this.coordinator.decision(host) && this.maintenance.get(host)?.on !== true;
    return { live, novaCompute: t.novaCompute };
  }

  /** Timers run late after a GC pause or a frozen VM; the silence we caused ourselves is not the hosts'. */
  private detectOwnPause(now: number): void {
    const last = this.lastTickAt ?? now;
    this.lastTickAt = now;
    const lateMs = now - last - this.settings.tickMs;
    if (lateMs <= this.settings.pauseThresholdMs) return;
    for (const t of this.tracks.values()) t.lastHeardAt = Math.min(now, t.lastHeardAt + lateMs);
    for (const p of this.membership.peers.values()) p.lastHeardAt = Math.min(now, p.lastHeardAt + lateMs);
    this.pausedUntil = now + this.settings.pauseGraceMs;
    this.viewDirty = true;
    this.log('warn', 'this monitor stalled; judgements stretched and convictions suspended', {
      stalledMs: lateMs + this.settings.tickMs,
      graceMs: this.settings.pauseGraceMs,
    });
  }

  /** Judges every host; remembers the few that are not up, so the rest of the tick skips the many. */
  private judgeHosts(now: number): void {
    const paused = this.paused(now);
    const nonUp: HostTrack[] = [];
    const computeNotUp: HostId[] = [];
    for (const t of this.tracks.values()) {
      let verdict: LocalVerdict = judge(t, now);
      if (paused && verdict === 'dead') verdict = 'suspect';
      if (verdict !== t.verdict) {
        t.verdict = verdict;
        this.viewDirty = true;
      }
      if (verdict !== 'up') nonUp.push(t);
      if (t.novaCompute !== 'up') computeNotUp.push(t.host);
    }
    this.nonUp = nonUp;
    this.computeNotUp = computeNotUp;
  }

  private followMembership(now: number): void {
    const quorate = this.membership.quorate(now);
    const votes = this.membership.hears(now);
    if (quorate !== this.wasQuorate) {
      const ev = { at: now, votes: votes.length, needed: this.membership.needed, members: votes };
      this.emit(quorate ? { type: 'cluster.quorum_regained', ...ev } : { type: 'cluster.quorum_lost', ...ev });
      this.log(quorate ? 'info' : 'warn', quorate ? 'quorum regained' : 'quorum lost: declaring nothing until it returns', {
        votes: votes.length,
        needed: this.membership.needed,
      });
      this.wasQuorate = quorate;
    }
    const acting = this.acting(now);
    if (acting && !this.wasActing) {
      for (const e of this.coordinator.takeOver(
        now,
        this.membership.livePeers(now).map((p) => p.beat),
      ))
        this.out.push(e);
      this.log('info', 'acting as coordinator', { epoch: this.coordinator.epoch });
    } else if (!acting && this.wasActing) {
      for (const e of this.coordinator.stepDown()) this.out.push(e);
      this.autoUnfence.reset(this.out);
      this.computeDown.reset();
      this.guests.reset();
      this.log('warn', 'no longer coordinator', {});
    }
    this.wasActing = acting;
    // Peers must learn a changed vote at once: a stale vote is what lets two coordinators overlap.
    const vote = this.membership.vote(now, acting);
    if (vote !== this.lastVote || acting !== this.wasActingBroadcast) this.viewDirty = true;
    this.lastVote = vote;
    this.wasActingBroadcast = acting;
    const coordinator = this.membership.coordinator(now, acting);
    if (coordinator !== this.lastCoordinator) {
      this.emit({ type: 'cluster.coordinator_changed', at: now, coordinator, previous: this.lastCoordinator });
      this.lastCoordinator = coordinator;
    }
  }

  private verdicts(now: number): HostVerdict[] {
    const out: HostVerdict[] = [];
    const paused = this.paused(now);
    for (const t of this.nonUp) {
      // A heartbeat may have brought it back since the tick judged it.
      if (t.verdict === 'up') continue;
      out.push({ host: t.host, level: paused ? 'suspect' : t.verdict, bootId: t.bootId });
    }
    return out;
  }

  /** This monitor and its live peers, as voters on each host's fate. */
  private voters(now: number): VoterView[] {
    const selfVerdicts = new Map<HostId, HostVerdict>();
    for (const v of this.verdicts(now)) selfVerdicts.set(v.host, v);
    const self: VoterView = {
      id: this.settings.self,
      paused: this.paused(now),
      verdicts: selfVerdicts,
      knows: (h) => this.tracks.has(h),
      heardSinceStart: (h) => this.tracks.get(h)?.heard === true,
    };
    const peers = this.membership.livePeers(now).map((p): VoterView => {
      // What a peer still says about a host forgotten here is not a vote on it.
      const mentionsForgotten = !this.forgotten.empty && p.beat.verdicts.some((v) => this.forgotten.has(v.host));
      const verdicts = mentionsForgotten
        ? new Map(p.beat.verdicts.filter((v) => !this.forgotten.has(v.host)).map((v) => [v.host, v]))
        : verdictsByHost(p.beat.verdicts);
      // A peer that lists a host watches it; one that lists none of ours watches what we do (same config).
      return { id: p.id, paused: p.beat.paused, verdicts, knows: (h) => this.tracks.has(h) };
    });
    return [self, ...peers];
  }

  private hostsUnderWatch(): { count: number; maintenance: ReadonlySet<HostId> } {
    const maintenance = new Set<HostId>();
    for (const m of this.maintenance.values()) if (m.on) maintenance.add(m.host);
    return { count: this.tracks.size, maintenance };
  }

  /** A host this monitor cannot hear while its peers can points at this monitor's own link. */
  private warnAboutOwnLink(now: number): void {
    // A walk of every non-up host: in a mass silence, at the decision pass's cadence, not every tick.
    if (++this.ticksSinceLinkCheck < decideEveryTicks(this.nonUp.length)) return;
    this.ticksSinceLinkCheck = 0;
    const live = this.membership.livePeers(now);
    if (live.length === 0) return;
    // The peers' indexes once per tick, not per host: every tick walks all non-up hosts (10,000 in a mass silence).
    const theirs = live.map((p) => verdictsByHost(p.beat.verdicts));
    for (const t of this.nonUp) {
      if (t.verdict !== 'dead' || this.linkWarned.has(t.host)) continue;
      let peersHearIt = 0;
      for (const v of theirs) if (!v.has(t.host)) peersHearIt++;
      if (peersHearIt >= this.membership.needed - 1 && peersHearIt > 0) {
        this.linkWarned.add(t.host);
        this.log('warn', "host silent here but heard by peers: check this monitor's network link", { host: t.host, peersHearIt });
      }
    }
  }

  private broadcast(now: number, acting: boolean): void {
    this.viewDirty = false;
    // Done once the coordinator holds no decision for the host any more (or after a minute).
    for (const [host, c] of this.pendingClears) {
      if (!this.coordinator.decision(host) || now - c.atMs > 60_000) this.pendingClears.delete(host);
    }
    this.lastBroadcastAt = now;
    this.announcedSeq = this.coordinator.decisionSeq;
    const forgets = this.forgotten.toCarry(now);
    const beat: MonitorBeat = {
      from: this.settings.self,
      bootId: this.bootId,
      seq: ++this.seq,
      sentAtMs: now,
      hears: this.membership.hears(now),
      vote: this.membership.vote(now, acting),
      acting,
      epoch: this.coordinator.epoch,
      paused: this.paused(now),
      verdicts: this.verdicts(now),
      decisions: this.coordinator.decisionList(),
      decisionSeq: this.coordinator.decisionSeq,
      maintenance: [...this.maintenance.values()],
      ...(this.pendingClears.size > 0 ? { clears: [...this.pendingClears.values()] } : {}),
      ...(forgets.length > 0 ? { forgets } : {}),
      ...(this.leftHosts.size > 0 ? { left: this.leftMarks() } : {}),
    };
    this.out.push({ type: 'broadcast', beat });
  }

  private emit(event: ClusterEvent): void {
    this.out.push({ type: 'emit', event });
  }

  private log(level: 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown>): void {
    this.out.push({ type: 'log', level, msg, fields });
  }
}

/** Non-up hosts one tick's decision pass takes before ticks start to skip; the pass is O(hosts) (~1 µs each). */
export const DECIDE_HOSTS_PER_TICK = 4_000;
/** The slowest cadence of the decision pass: one tick in 3 (150 ms at the 50 ms tick), from 8,000 non-up hosts. */
export const DECIDE_MAX_TICKS = 3;

/**
 * The cadence of the coordinator's decision pass on ticks: every tick while at most
 * DECIDE_HOSTS_PER_TICK hosts are not up (so the documented detection bound holds as before);
 * above that, one tick in k, k growing with the count up to DECIDE_MAX_TICKS. A mass silence of
 * 10,000 hosts took 30 ms a tick in the pass, 60 % of the coordinator's loop, and status, peers and
 * beats waited behind it (bench:mass). Deterministic: it depends on the state, never on a clock of
 * the machine's load.
 */
export function decideEveryTicks(nonUp: number): number {
  return Math.min(DECIDE_MAX_TICKS, 1 + Math.floor(nonUp / DECIDE_HOSTS_PER_TICK));
}
