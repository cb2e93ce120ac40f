import { randomBytes } from 'node:crypto';
import type { MonitorConfig } from './monitor-config.js';
import { formatHostPort } from '../config/address.js';
import type { Effect, Input } from '../core/effects.js';
import type { ClusterEvent, FenceRecord, HostId } from '../core/events.js';
import { MonitorCore } from '../core/monitor-core.js';
import type { OperatorInput } from '../core/operator-refusal.js';
import type { ComputeServiceControl, Fencer, GuestRestarter, PowerReading, Recoverer, Unfencer } from '../core/ports.js';
import { computeDownReason } from '../core/compute-down.js';
import type { Alarm, DropReason, StatusSnapshot } from '../core/status-snapshot.js';
import { componentLogger, type Logger } from '../log.js';
import { VERSION } from '../version.js';
import { Admission } from '../wire/admission.js';
import { seal } from '../wire/codec.js';
import { KeyRing } from '../wire/keys.js';
import { ViewPager } from '../wire/view-pager.js';
import type { Datagram, DatagramTransport } from '../wire/transport.js';
import type { Clock } from './clock.js';
import { ClockOffsets, type ClockOffset } from './clock-offsets.js';
import type { EventBus } from './event-bus.js';
import type { StateStore } from './state-store.js';
import { buildSnapshot } from './status.js';
import { HeldActions, isActing } from './held-actions.js';
import { PowerCheckRecord } from './power-check-record.js';
import { receiveBufferAlarm } from './receive-buffer.js';
import { PROTOCOL_MAJOR, PROTOCOL_MINOR } from '../wire/monitor-format.js';

/** A peer of another major stays alarmed this long after its last datagram (it may have been stopped). */
const INCOMPATIBLE_ALARM_MS = 30_000;
const MAX_INCOMPATIBLE_PEERS = 32;

/** The part of the monitor's configuration the driver itself uses; the edges take their own sections. */
export type MonitorSettings = Pick<MonitorConfig, 'id' | 'listen' | 'monitors' | 'keys' | 'hosts' | 'maxClockSkewMs' | 'core'> &
  Partial<Pick<MonitorConfig, 'warnings'>>;

export interface MonitorDeps {
  settings: MonitorSettings;
  clock: Clock;
  transport: DatagramTransport;
  store: StateStore;
  /** Every event goes here; the monitor subscribes its own recent-events list and log to it. */
  bus: EventBus;
  log: Logger;
  /** Optional edges: a monitor with no fencer declares failures and stops there (it never recovers an unfenced host). */
  fencer?: Fencer;
  recoverer?: Recoverer;
  unfencer?: Unfencer;
  /** Disables/enables a live host's compute service for a dead nova-compute (compute_down). */
  computeControl?: ComputeServiceControl;
  /** Hard-reboots a crashed guest's server (tagged, on the reporting host) through Nova. */
  guestRestarter?: GuestRestarter;
  /** A fixed boot id (the simulation's, for replayable runs); random otherwise. */
  bootId?: string;
  /** Status of the edges (notifications, recovery): shown in status, with their alarms. */
  edgeStatus?: () => { alarms: Array<{ kind: string; message: string }>; sections: Record<string, unknown> };
}

const RECENT_EVENTS = 200;
/** Learned hosts (no decision changed) are written at most this often: 10,000 may arrive at once. */
const LAZY_PERSIST_MS = 1000;
/** View pages sent to each peer per tick at most (64 × 1,400 bytes = 90 KB a tick, 1.8 MB/s at the 50 ms tick). */
const VIEW_PAGES_PER_TICK = 64;

/**
 * The monitor daemon: a thin driver around MonitorCore, built from injected parts (clock, datagram
 * transport, state store, edges, event bus), so the simulation runs this very class on virtual time
 * and an in-memory network. It feeds the core one input at a time and carries out the effects it
 * returns. Nothing thrown by an effect, a codec or a sink escapes its loop: it is contained, counted
 * and shown as an alarm, and heartbeating goes on. Nothing is acted on (fence, recover, unfence)
 * while the state it was decided in is not on disk: such an effect waits (held-actions.ts, alarm
 * `action_held`) until a write succeeds, so a restart can never make the same decision twice.
 */
export class MonitorDaemon {
  readonly core: MonitorCore;
  private readonly admission: Admission;
  private readonly clockOffsets = new ClockOffsets();
  private readonly keyRing: KeyRing;
  private readonly settings: MonitorSettings;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly peers: Array<{ id: string; address: { host: string; port: number } }>;
  private readonly inflight = new Map<HostId, AbortController>();
  /** Early power checks running (core/power-checks.ts bounds how many); aborted by stop(). */
  private readonly powerChecks = new Set<AbortController>();
  private readonly powerRecord = new PowerCheckRecord();
  /** Compute-service changes apart from fencing's slot: a disable in flight must never hold up a fence. */
  private readonly computeInflight = new Set<HostId>();
  private readonly recent: ClusterEvent[] = [];
  private readonly dropped: Record<DropReason, number> = {
    oversized: 0,
    malformed: 0,
    bad_mac: 0,
    replay: 0,
    clock_skew: 0,
    unknown_sender: 0,
    forged: 0,
    incompatible: 0,
  };
  private accepted = 0;
  /** Senders of authenticated monitor datagrams of another protocol major, and when last (peer_incompatible). */
  private readonly incompatiblePeers = new Map<string, { version: string; at: number }>();
  private cancelTick: (() => void) | null = null;
  private persistDue = false;
  private lastPersistAttemptAt = -Infinity;
  private persistFailure: { since: number; error: string; count: number } | null = null;
  /** Fences, recoveries, unfences waiting for their decision to reach the disk (held-actions.ts). */
  private readonly held = new HeldActions();
  private stopped = false;
  /** Failures contained in the loop, by where they happened (e.g. `broadcast`, `core`). */
  private readonly loopFailures = new Map<string, { count: number; lastError: string }>();
  private readonly startedAt: number;
  private readonly pager: ViewPager;
  /** Whether this tick's step already sent a header (and with it the view pages due). */
  private beatSent = false;
  /** The largest monitor datagram this monitor has sent (each must be ≤ 1,400 bytes): shown in status. */
  private largestMonitorDatagram = 0;
  boundAddresses: string[] = [];

  constructor(private readonly deps: MonitorDeps) {
    const { settings, clock } = deps;
    this.settings = settings;
    this.clock = clock;
    this.log = componentLogger(deps.log, 'monitor');
    const restored = deps.store.load();
    this.startedAt = clock.wallNow();
    this.core = new MonitorCore(settings.core, deps.bootId ?? randomBytes(16).toString('hex'), clock.now(), {
      knownHosts: [...new Set([...(restored?.knownHosts ?? []), ...settings.hosts])],
      maintenance: restored?.maintenance ?? [],
      decisions: restored?.decisions ?? [],
      epoch: restored?.epoch ?? 0,
      // Without it a restarted monitor would think its copy of the decisions older than it is.
      decisionSeq: restored?.decisionSeq ?? 0,
      ...(restored?.computeDown ? { computeDown: restored.computeDown } : {}),
      // Hosts that left cleanly stay left across a restart: their silence must not be fenced after it.
      ...(restored?.left ? { left: restored.left } : {}),
    });
    this.keyRing = new KeyRing(settings.keys);
    this.admission = new Admission({
      self: settings.id,
      monitors: settings.monitors.map((m) => m.id),
      keys: this.keyRing,
      maxClockSkewMs: settings.maxClockSkewMs,
      peerViewStaleMs: settings.core.peerTimeoutMs,
    });
    this.peers = settings.monitors.filter((m) => m.id !== settings.id);
    this.pager = new ViewPager({
      from: settings.id,
      bootId: this.core.bootId,
      pagesPerTick: VIEW_PAGES_PER_TICK,
      // Twice per peer timeout: one lost page heals before the receiver stops counting the view's dead verdicts.
      refreshMs: settings.core.peerTimeoutMs / 2,
      // A large view changing every tick (a mass silence unfolding) is re-paged at most every 100 ms.
      minVersionGapMs: Math.max(settings.core.tickMs, settings.core.peerIntervalMs / 2),
      seal: (kind, body) => seal(kind, body, this.keyRing.monitorSealKey()),
    });
    deps.bus.subscribe('monitor', { publish: (ev) => this.record(ev) });
  }

  async start(): Promise<void> {
    const bound = await this.deps.transport.listen(this.settings.listen, (d) => this.onDatagram(d));
    this.boundAddresses = bound.map(formatHostPort);
    this.cancelTick = this.clock.every(this.settings.core.tickMs, () => this.onTick());
    for (const w of this.settings.warnings ?? []) this.log.warn({ warning: w.kind }, `CONFIGURATION WARNING: ${w.message}`);
    this.log.info(
      {
        listen: this.boundAddresses,
        monitors: this.settings.monitors.map((m) => m.id),
        expectedVotes: this.settings.core.expectedVotes,
        fencing: !!this.deps.fencer,
        recovery: !!this.deps.recoverer,
      },
      'monitor started',
    );
  }

  stop(): void {
    this.stopped = true;
    this.cancelTick?.();
    this.cancelTick = null;
    for (const c of this.inflight.values()) c.abort();
    for (const c of this.powerChecks) c.abort();
    this.deps.transport.close();
    this.persist();
  }

  /** Operator commands from the control channel. */
  command(
    input: Extract<Input, { type: 'maintenance' | 'ack_mass_failure' | 'clear' | 'forget' | 'confirm_fenced' | 'retry_recovery' }>,
  ): void {
    this.step(input);
  }

  /** Why the core would refuse an operator command now (null: it goes ahead), for the control channel's answer. */
  refusal(input: OperatorInput): string | null {
    return this.core.refusal(input);
  }

  /** The host is listed under `hosts:` in this monitor's config (so a restart watches it again). */
  configuresHost(host: HostId): boolean {
    return this.settings.hosts.includes(host);
  }

  nowMs(): number {
    return this.clock.now();
  }

  /** Fences, recoveries and unfences still running (SIGTERM waits a grace for them). */
  inflightCount(): number {
    return this.inflight.size;
  }

  acting(): boolean {
    return this.core.acting(this.clock.now());
  }

  /** The sender whose clock is furthest from ours (metrics: an early warning before max_clock_skew). */
  clockOffset(): ClockOffset | null {
    return this.clockOffsets.worst(this.clock.wallNow());
  }

  snapshot(): StatusSnapshot {
    const addresses = new Map(this.settings.monitors.map((m) => [m.id, formatHostPort(m.address)]));
    const edges = this.deps.edgeStatus?.() ?? { alarms: [], sections: {} };
    const t = this.deps.transport.counters;
    const snap = buildSnapshot({
      core: this.core,
      now: this.clock.now(),
      wallNow: this.clock.wallNow(),
      startedAt: this.startedAt,
      version: VERSION,
      addresses,
      counters: {
        received: t.received,
        accepted: this.accepted,
        dropped: { ...this.dropped },
        sent: t.sent,
        sendErrors: t.sendErrors,
        largestMonitorDatagramBytes: this.largestMonitorDatagram,
        powerChecks: this.powerRecord.snapshot(),
      },
      recentEvents: this.recent,
      extraAlarms: [...this.ownAlarms(), ...edges.alarms],
      hostKeys: this.admission.keyInUse,
    });
    return { ...snap, keys: this.keysSection(), ...edges.sections };
  }

  /** Which keys this monitor accepts and seals with, and how many senders use each: never a key itself. */
  private keysSection(): NonNullable<StatusSnapshot['keys']> {
    const k = this.settings.keys;
    const accepts: string[] = [];
    if (k.monitor || k.beaconMaster) accepts.push('current');
    if (k.monitorNext || k.beaconMasterNext) accepts.push('next');
    if (k.legacyCluster) accepts.push('legacy');
    const hosts: Record<string, number> = {};
    const monitors: Record<string, string> = {};
    const peerIds = new Set(this.settings.monitors.map((m) => m.id));
    for (const [sender, slot] of this.admission.keyInUse) {
      if (peerIds.has(sender)) monitors[sender] = slot;
      else hosts[slot] = (hosts[slot] ?? 0) + 1;
    }
    return { sealsWith: k.sealWith, accepts, hostsSealing: hosts, monitorsSealing: monitors, legacyAccepted: k.legacyCluster !== null };
  }

  private ownAlarms(): Alarm[] {
    const alarms: Alarm[] = [];
    for (const w of this.settings.warnings ?? []) alarms.push({ kind: w.kind, message: w.message });
    alarms.push(...this.admission.alarms(this.clock.now()));
    alarms.push(...this.powerRecord.alarms(this.clock.now()));
    alarms.push(...receiveBufferAlarm(this.deps.transport.receiveBufferBytes, this.core.tracks.size));
    const f = this.persistFailure;
    if (f) {
      alarms.push({
        kind: 'state_write_failed',
        message: `cannot write the monitor state to ${this.deps.store.where} (${f.count} tries): ${f.error}; retrying every ${LAZY_PERSIST_MS / 1000}s`,
        since: new Date(f.since).toISOString(),
      });
    }
    if (this.held.size > 0) {
      alarms.push({
        kind: 'action_held',
        message: `${this.held.describe()}: waits for the state write to ${this.deps.store.where} (nothing is acted on before its decision is on disk)`,
        since: new Date(this.held.oldestSince() ?? this.clock.wallNow()).toISOString(),
      });
    }
    for (const [where, l] of this.loopFailures)
      alarms.push({ kind: 'loop_error', message: `${l.count} failure(s) contained in ${where}: ${l.lastError}` });
    const p = this.pager.stats;
    if (p.refusedEntries + p.cutEntries > 0)
      alarms.push({
        kind: 'view_truncated',
        message: `${p.refusedEntries} view entries could not be encoded (host name over 255 bytes), ${p.cutEntries} cut (view over its page bound)`,
      });
    const now = this.clock.now();
    for (const [from, p] of this.incompatiblePeers) {
      if (now - p.at > INCOMPATIBLE_ALARM_MS) continue;
      alarms.push({
        kind: 'peer_incompatible',
        message:
          `the monitor at ${from} speaks ${p.version}, this one ${PROTOCOL_MAJOR}.${PROTOCOL_MINOR}: ` +
          'it is not counted towards quorum until both run one major (docs/operations.md "Rolling upgrades")',
      });
    }
    for (const s of this.deps.bus.sinkFailures())
      alarms.push({ kind: 'event_sink_failed', message: `event sink '${s.sink}' failed ${s.count} time(s): ${s.lastError}` });
    return alarms;
  }

  private onTick(): void {
    this.beatSent = false;
    this.step({ type: 'tick', at: this.clock.now() });
    // A view of many pages goes out over several ticks, between headers too.
    if (!this.beatSent) {
      try {
        for (const page of this.pager.pump(this.clock.now(), false)) this.sendToPeers(page);
      } catch (err) {
        this.contain('view_pages', err);
      }
    }
    if ((this.persistDue || this.persistFailure) && this.clock.now() - this.lastPersistAttemptAt >= LAZY_PERSIST_MS) this.persist();
  }

  private onDatagram(d: Datagram): void {
    try {
      const wallNow = this.clock.wallNow();
      const a = this.admission.admit(d.buf, d.receivedAt, wallNow, d.from);
      if (!a.ok) {
        if (a.forgedCount) this.log.warn({ from: d.from, claimed: a.claimed, count: a.forgedCount }, 'forged datagram dropped');
        // Said plainly, once per power of two like every drop: the peer is not counted until both run one major.
        if (a.reason === 'incompatible') this.noteIncompatible(d.from, a.claimed ?? 'another protocol');
        if (a.reason === 'incompatible' && ((this.dropped.incompatible + 1) & this.dropped.incompatible) === 0)
          this.log.error(
            { from: d.from, peer: a.claimed, ours: `${PROTOCOL_MAJOR}.${PROTOCOL_MINOR}` },
            'monitor datagram of another protocol major dropped: ' +
              'upgrade or downgrade so every monitor runs the same major (docs/operations.md "Rolling upgrades")',
          );
        return this.drop(a.reason, d);
      }
      this.accepted++;
      if (!a.input) return; // a view page, or a header whose view is still on its way
      const sender = a.input.type === 'peer' ? a.input.beat.from : a.input.beat.host;
      this.clockOffsets.observe(sender, wallNow - a.input.beat.sentAtMs, wallNow);
      this.step(a.input);
    } catch (err) {
      this.contain('receive', err);
    }
  }

  /** Bounded: only authenticated senders get here, at most a few dozen addresses kept. */
  private noteIncompatible(from: string, version: string): void {
    if (!this.incompatiblePeers.has(from) && this.incompatiblePeers.size >= MAX_INCOMPATIBLE_PEERS) {
      const oldest = [...this.incompatiblePeers].sort((x, y) => x[1].at - y[1].at)[0]![0];
      this.incompatiblePeers.delete(oldest);
    }
    this.incompatiblePeers.set(from, { version, at: this.clock.now() });
  }

  private drop(reason: DropReason, d: Datagram): void {
    this.dropped[reason]++;
    // Rate-limited by powers of two: a flood must not turn into a log flood.
    const n = this.dropped[reason];
    if ((n & (n - 1)) === 0) this.log.warn({ reason, from: d.from, count: n }, 'datagram dropped');
  }

  private step(input: Input): void {
    let effects: Effect[];
    try {
      effects = this.core.step(input);
    } catch (err) {
      // A bug in the core must not kill the monitor; the input is dropped and the bug reported.
      this.contain('core', err, { input: input.type });
      return;
    }
    for (const e of effects) {
      try {
        // An action whose decision is not on disk waits for the write (retried each second).
        if (isActing(e) && this.persistFailure) this.holdAction(e);
        else this.apply(e);
      } catch (err) {
        this.contain(e.type, err);
      }
    }
  }

  private contain(where: string, err: unknown, fields: Record<string, unknown> = {}): void {
    const l = this.loopFailures.get(where) ?? { count: 0, lastError: '' };
    l.count++;
    l.lastError = err instanceof Error ? err.message : String(err);
    this.loopFailures.set(where, l);
    if ((l.count & (l.count - 1)) === 0) this.log.error({ err, where, count: l.count, ...fields }, 'failure contained in the monitor loop');
  }

  private apply(e: Effect): void {
    switch (e.type) {
      case 'broadcast': {
        // The view's pages first, then the header announcing it: on a clean network a peer holds the
        // whole view when the header arrives.
        this.beatSent = true;
        this.pager.offer(e.beat);
        for (const page of this.pager.pump(this.clock.now(), true)) this.sendToPeers(page);
        this.sendToPeers(this.pager.header({ ...e.beat, sentAtMs: this.clock.wallNow() }));
        return;
      }
      case 'emit':
        this.deps.bus.publish(e.event);
        return;
      case 'persist':
        if (e.mustSync) this.persist();
        else this.persistDue = true;
        return;
      case 'fence':
        return this.runFence(e.host);
      case 'check_power':
        return this.runPowerCheck(e.host);
      case 'recover':
        return this.runRecovery(e.host, e.record);
      case 'unfence':
        return this.runUnfence(e.host);
      case 'disable_compute':
        return this.runComputeChange(e.host, 'disable', e.sinceMs);
      case 'enable_compute':
        return this.runComputeChange(e.host, 'enable', 0);
      case 'restart_guest':
        return this.runGuestRestart(e.host, e.instance);
      case 'abandon':
        this.held.drop(e.host);
        this.inflight.get(e.host)?.abort();
        this.inflight.delete(e.host);
        return;
      case 'log':
        this.log[e.level](e.fields, e.msg);
        return;
      default: {
        const never: never = e;
        throw new Error(`unknown effect ${JSON.stringify(never)}`);
      }
    }
  }

  private sendToPeers(buf: Buffer): void {
    if (buf.length > this.largestMonitorDatagram) this.largestMonitorDatagram = buf.length;
    for (const p of this.peers) this.deps.transport.send(buf, p.address);
  }

  /** Events of the bus, this monitor's own and the edges': kept for status, and logged. */
  private record(ev: ClusterEvent): void {
    this.recent.push(ev);
    if (this.recent.length > RECENT_EVENTS) this.recent.shift();
    if (ev.type === 'host.fenced' || ev.type === 'host.forgotten') this.powerRecord.clear(ev.host);
    const level =
      ev.type === 'host.failed' ||
      ev.type === 'host.fence_failed' ||
      ev.type === 'cluster.mass_failure' ||
      ev.type === 'cluster.quorum_lost'
        ? 'warn'
        : 'info';
    this.log[level]({ event: ev }, ev.type);
  }

  /**
   * Runs one piece of edge work for a host, at most one at a time per host, and feeds its outcome
   * back as an input. Work abandoned (this monitor stopped acting) reports nothing: a successor
   * carries the decision on.
   */
  private runEdge(host: HostId, work: (signal: AbortSignal) => Promise<Input>, reportWhenAborted: boolean): void {
    if (this.inflight.has(host)) return;
    const ctl = new AbortController();
    this.inflight.set(host, ctl);
    void work(ctl.signal).then((input) => {
      if (this.inflight.get(host) === ctl) this.inflight.delete(host);
      if (ctl.signal.aborted && !reportWhenAborted) return;
      this.step(input);
    });
  }

  private runFence(host: HostId): void {
    const fencer = this.deps.fencer;
    if (!fencer) {
      this.log.error({ host }, 'fence requested but no fencer configured');
      return;
    }
    const started = this.clock.now();
    // A fence result always goes back to the core, which ignores it if this monitor no longer acts.
    this.runEdge(
      host,
      (signal) =>
        fencer
          .fence(host, signal)
          .catch((err: unknown): FenceRecord => ({
            ok: false,
            durationMs: this.clock.now() - started,
            attempts: [],
            error: `fencer error: ${String(err)}`,
            by: this.settings.id,
          }))
          .then((record): Input => ({ type: 'fence_done', at: this.clock.now(), host, record })),
      true,
    );
  }

  /**
   * Early power check: not an edge of runEdge (one piece of work per host), since the fence it may
   * bring forward must never wait behind it. Always answered (the core counts checks in flight);
   * after stop() the answer is dropped like any other.
   */
  private runPowerCheck(host: HostId): void {
    const check = this.deps.fencer?.checkPower?.bind(this.deps.fencer);
    const answer = (r: PowerReading): void => {
      if (this.stopped) return;
      this.powerRecord.note(host, r, this.clock.now(), this.clock.wallNow());
      this.step({ type: 'power_checked', at: this.clock.now(), host, off: r.off, detail: r.detail });
    };
    if (!check) {
      void Promise.resolve({ off: false, read: false, detail: 'no fencer with a power check' }).then(answer);
      return;
    }
    const ctl = new AbortController();
    this.powerChecks.add(ctl);
    void check(host, ctl.signal)
      .catch((err: unknown): PowerReading => ({ off: false, read: false, detail: `power check error: ${String(err)}` }))
      .then((r) => {
        this.powerChecks.delete(ctl);
        answer(r);
      });
  }

  private runRecovery(host: HostId, record: FenceRecord): void {
    const recoverer = this.deps.recoverer;
    if (!recoverer) return;
    this.runEdge(
      host,
      (signal) =>
        recoverer
          .recover(host, record, signal)
          .catch((err: unknown) => ({ selected: 0, evacuated: 0, failed: 0, notified: 0, error: String(err) }))
          .then((summary): Input => ({ type: 'recovery_done', at: this.clock.now(), host, summary })),
      false,
    );
  }

  private runUnfence(host: HostId): void {
    const unfencer = this.deps.unfencer;
    if (!unfencer) {
      this.log.error({ host }, 'automatic unfence requested but no unfencer configured');
      return;
    }
    this.runEdge(
      host,
      (signal) =>
        unfencer
          .unfence(host, signal)
          .catch((err: unknown) => ({ ok: false as const, reason: String(err) }))
          .then((r): Input => ({ type: 'unfence_done', at: this.clock.now(), host, ok: r.ok, ...(r.ok ? {} : { reason: r.reason }) })),
      false,
    );
  }

  private holdAction(e: Parameters<HeldActions['hold']>[0]): void {
    if (this.held.hold(e, this.clock.wallNow()))
      this.log.error(
        { host: e.host, action: e.type, file: this.deps.store.where },
        'action held: its decision could not be written to disk',
      );
  }

  /** The state is on disk again: carry out what waited for it, if its decision still calls for it. */
  private releaseHeld(): void {
    // A stopping monitor acts on nothing more: the decisions are on disk now, a successor carries them on.
    const acting = !this.stopped && this.core.acting(this.clock.now());
    const { due, dropped } = this.held.release(acting, (h) => this.core.coordinator.decision(h));
    for (const e of dropped) this.log.warn({ host: e.host, action: e.type }, 'held action dropped: its decision changed while it waited');
    for (const e of due) {
      this.log.info({ host: e.host, action: e.type }, 'held action released: its decision is on disk');
      try {
        this.apply(e);
      } catch (err) {
        this.contain(e.type, err);
      }
    }
  }

  /**
   * Disables or enables a host's compute service (compute-down rule); the outcome always goes back to
   * the core (a disable that reached Nova is ours to undo, whoever acts by then).
   */
  private runComputeChange(host: HostId, action: 'disable' | 'enable', sinceMs: number): void {
    if (this.computeInflight.has(host)) return;
    const control = this.deps.computeControl;
    const ctl = new AbortController();
    this.computeInflight.add(host);
    const work = async (): Promise<Input> => {
      if (action === 'disable') {
        // The core's clock is monotonic; the reason shows the wall-clock time an operator reads.
        const since = new Date(this.clock.wallNow() - (this.clock.now() - sinceMs)).toISOString();
        const r = control
          ? await control.disable(host, computeDownReason(since), ctl.signal)
          : { ok: false as const, reason: 'no compute API configured (compute: section)' };
        return {
          type: 'compute_disabled',
          at: this.clock.now(),
          host,
          ...(r.ok ? { ok: true, already: r.already } : { ok: false, reason: r.reason }),
        };
      }
      const r = control
        ? await control.enableIfOurs(host, ctl.signal)
        : { ok: false as const, reason: 'no compute API configured (compute: section)' };
      return {
        type: 'compute_enable_done',
        at: this.clock.now(),
        host,
        ...(r.ok ? { ok: true, enabled: r.enabled, note: r.note } : { ok: false, reason: r.reason }),
      };
    };
    void work()
      .catch((err: unknown): Input => {
        const reason = err instanceof Error ? err.message : String(err);
        return action === 'disable'
          ? { type: 'compute_disabled', at: this.clock.now(), host, ok: false, reason }
          : { type: 'compute_enable_done', at: this.clock.now(), host, ok: false, reason };
      })
      .then((input) => {
        this.computeInflight.delete(host);
        this.step(input);
      });
  }

  /** A crashed guest's server restarted through Nova; the outcome always goes back to the core. */
  private runGuestRestart(host: HostId, instance: string): void {
    const restarter = this.deps.guestRestarter;
    const ctl = new AbortController();
    const work = restarter
      ? restarter.restart(host, instance, ctl.signal)
      : Promise.resolve({ outcome: 'failed' as const, reason: 'no compute API configured (compute: section)' });
    void work
      .catch((err: unknown) => ({ outcome: 'failed' as const, reason: err instanceof Error ? err.message : String(err) }))
      .then((r) => this.step({ type: 'guest_restart_done', at: this.clock.now(), host, instance, outcome: r.outcome, reason: r.reason }));
  }

  /** Writes the core's durable state; a failure keeps it due (retried each second) and raises an alarm. */
  private persist(): void {
    this.lastPersistAttemptAt = this.clock.now();
    try {
      this.deps.store.save(this.core.persisted());
      this.persistDue = false;
      if (this.persistFailure)
        this.log.info({ file: this.deps.store.where, tries: this.persistFailure.count }, 'monitor state written again');
      this.persistFailure = null;
      if (this.held.size > 0) this.releaseHeld();
    } catch (err) {
      this.persistDue = true;
      const f = this.persistFailure ?? { since: this.clock.wallNow(), error: '', count: 0 };
      f.count++;
      f.error = err instanceof Error ? err.message : String(err);
      this.persistFailure = f;
      if ((f.count & (f.count - 1)) === 0)
        this.log.error({ err, file: this.deps.store.where, count: f.count }, 'could not write monitor state');
    }
  }
}
