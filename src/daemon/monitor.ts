import { randomBytes } from 'node:crypto';
import type { MonitorConfig } from '../config/monitor-config.js';
import { formatHostPort } from '../config/address.js';
import type { ClusterEvent, FenceRecord, HostId } from '../core/events.js';
import type { Effect, Input } from '../core/effects.js';
import { MonitorCore } from '../core/monitor-core.js';
import type { Logger } from '../log.js';
import { decode, encodeMonitor, type DropReason } from '../wire/codec.js';
import { ReplayGuard } from '../wire/replay-guard.js';
import { UdpTransport, type Datagram } from '../wire/udp-transport.js';
import { monotonicNowMs } from './clock.js';
import type { EventSink, Fencer, Recoverer } from '../core/ports.js';
import { StateStore } from './state-store.js';
import { buildSnapshot } from './status.js';
import type { StatusSnapshot } from '../core/status-snapshot.js';
import { VERSION } from '../version.js';

export interface MonitorDeps {
  config: MonitorConfig;
  log: Logger;
  fencer?: Fencer;
  recoverer?: Recoverer;
  sinks?: EventSink[];
  /** Monotonic ms for the core; wall-clock ms for replay windows and display. */
  now?: () => number;
  wallNow?: () => number;
  /** Status of the edges (notifications, recovery): shown in status, with their alarms. */
  edgeStatus?: () => { alarms: Array<{ kind: string; message: string }>; sections: Record<string, unknown> };
}

const RECENT_EVENTS = 200;

/**
 * The monitor daemon: a thin driver around MonitorCore. It owns the sockets, the tick, the state
 * file and the edges, feeds the core inputs one at a time, and carries out the effects it returns.
 */
export class MonitorDaemon {
  readonly core: MonitorCore;
  private readonly transport: UdpTransport;
  /** One guard per kind of sender: keyed by the bare name, no per-datagram string building. */
  private readonly hostReplay: ReplayGuard;
  private readonly peerReplay: ReplayGuard;
  private readonly store: StateStore;
  private readonly now: () => number;
  private readonly wallNow: () => number;
  private readonly log: Logger;
  private readonly peers: Array<{ id: string; address: { host: string; port: number } }>;
  private readonly inflight = new Map<HostId, AbortController>();
  private readonly recent: ClusterEvent[] = [];
  private readonly dropped: Record<DropReason, number> = { oversized: 0, malformed: 0, bad_mac: 0, replay: 0, clock_skew: 0, unknown_sender: 0 };
  private accepted = 0;
  private timer: NodeJS.Timeout | null = null;
  private stateDirty = true;
  private lastPersistAt = -Infinity;
  private readonly startedAt: number;
  boundAddresses: string[] = [];

  constructor(private readonly deps: MonitorDeps) {
    const { config } = deps;
    this.now = deps.now ?? monotonicNowMs;
    this.wallNow = deps.wallNow ?? Date.now;
    this.log = deps.log.child({ component: 'monitor' });
    this.store = new StateStore(config.stateDir);
    const restored = this.store.load();
    const bootId = randomBytes(16).toString('hex');
    this.startedAt = this.wallNow();
    this.core = new MonitorCore(config.core, bootId, this.now(), {
      knownHosts: [...new Set([...(restored?.knownHosts ?? []), ...config.hosts])],
      maintenance: restored?.maintenance ?? [],
      decisions: restored?.decisions ?? [],
      epoch: restored?.epoch ?? 0,
    });
    this.hostReplay = new ReplayGuard(config.maxClockSkewMs);
    this.peerReplay = new ReplayGuard(config.maxClockSkewMs);
    this.transport = new UdpTransport(this.log.child({ component: 'udp' }), this.now, (d) => this.onDatagram(d));
    this.peers = config.monitors.filter((m) => m.id !== config.id);
  }

  async start(): Promise<void> {
    const bound = await this.transport.listen(this.deps.config.listen);
    this.boundAddresses = bound.map(formatHostPort);
    this.timer = setInterval(() => this.step({ type: 'tick', at: this.now() }), this.deps.config.core.tickMs);
    this.log.info({ listen: this.boundAddresses, monitors: this.deps.config.monitors.map((m) => m.id), expectedVotes: this.deps.config.core.expectedVotes, fencing: !!this.deps.fencer, recovery: !!this.deps.recoverer }, 'monitor started');
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const c of this.inflight.values()) c.abort();
    this.transport.close();
    this.persist();
  }

  /** Operator commands from the control channel. */
  command(input: Extract<Input, { type: 'maintenance' | 'ack_mass_failure' | 'clear' }>): void {
    this.step(input);
  }

  nowMs(): number {
    return this.now();
  }

  /** area/ops: fences and recoveries still running (SIGTERM waits a grace for them). */
  inflightCount(): number {
    return this.inflight.size;
  }

  acting(): boolean {
    return this.core.acting(this.now());
  }

  snapshot(): StatusSnapshot {
    const addresses = new Map(this.deps.config.monitors.map((m) => [m.id, formatHostPort(m.address)]));
    const edges = this.deps.edgeStatus?.() ?? { alarms: [], sections: {} };
    const snap = buildSnapshot({
      core: this.core,
      now: this.now(),
      wallNow: this.wallNow(),
      startedAt: this.startedAt,
      version: VERSION,
      addresses,
      counters: { received: this.transport.counters.received, accepted: this.accepted, dropped: { ...this.dropped }, sent: this.transport.counters.sent, sendErrors: this.transport.counters.sendErrors },
      recentEvents: this.recent,
      extraAlarms: edges.alarms,
    });
    return { ...snap, ...edges.sections };
  }

  private onDatagram(d: Datagram): void {
    const msg = decode(d.buf, this.deps.config.clusterKey);
    if (!msg.ok) return this.drop(msg.reason, d);
    if (msg.kind === 'beacon') {
      const v = this.hostReplay.check(msg.beat.host, msg.beat.bootId, msg.beat.seq, msg.beat.sentAtMs, this.wallNow());
      if (v !== 'ok') return this.drop(v, d);
      this.accepted++;
      const known = this.core.tracks.size;
      this.step({ type: 'beacon', at: d.receivedAt, beat: msg.beat });
      if (this.core.tracks.size !== known) this.stateDirty = true;
      return;
    }
    if (!this.deps.config.monitors.some((m) => m.id === msg.beat.from) || msg.beat.from === this.deps.config.id) return this.drop('unknown_sender', d);
    const v = this.peerReplay.check(msg.beat.from, msg.beat.bootId, msg.beat.seq, msg.beat.sentAtMs, this.wallNow());
    if (v !== 'ok') return this.drop(v, d);
    this.accepted++;
    this.step({ type: 'peer', at: d.receivedAt, beat: msg.beat });
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
      this.log.error({ err, input: input.type }, 'decision core rejected an input');
      return;
    }
    let decided = false;
    for (const e of effects) {
      if (e.type === 'emit') decided = true;
      this.apply(e);
    }
    // Decisions are written at once; newly learned hosts at most once a second (10,000 may arrive).
    if (this.stateDirty && (decided || this.now() - this.lastPersistAt >= 1000)) this.persist();
  }

  private apply(e: Effect): void {
    switch (e.type) {
      case 'broadcast': {
        const buf = encodeMonitor({ ...e.beat, sentAtMs: this.wallNow() }, this.deps.config.clusterKey);
        for (const p of this.peers) this.transport.send(buf, p.address);
        return;
      }
      case 'emit':
        this.onEvent(e.event);
        return;
      case 'fence':
        this.runFence(e.host);
        return;
      case 'recover':
        this.runRecovery(e.host, e.record);
        return;
      case 'abandon':
        this.inflight.get(e.host)?.abort();
        this.inflight.delete(e.host);
        return;
      case 'log':
        this.log[e.level](e.fields, e.msg);
        return;
    }
  }

  /** Events reported by an edge (the recoverer's per-instance steps): shown, logged and published. */
  edgeEvent(ev: ClusterEvent): void {
    this.onEvent(ev);
  }

  private onEvent(ev: ClusterEvent): void {
    this.stateDirty = true;
    this.recent.push(ev);
    if (this.recent.length > RECENT_EVENTS) this.recent.shift();
    const level = ev.type === 'host.failed' || ev.type === 'host.fence_failed' || ev.type === 'cluster.mass_failure' || ev.type === 'cluster.quorum_lost' ? 'warn' : 'info';
    this.log[level]({ event: ev }, ev.type);
    for (const s of this.deps.sinks ?? []) {
      try {
        s.publish(ev);
      } catch (err) {
        this.log.error({ err, event: ev.type }, 'event sink failed');
      }
    }
  }

  private runFence(host: HostId): void {
    const fencer = this.deps.fencer;
    if (!fencer) {
      this.log.error({ host }, 'fence requested but no fencer configured');
      return;
    }
    if (this.inflight.has(host)) return;
    const ctl = new AbortController();
    this.inflight.set(host, ctl);
    const started = this.now();
    void fencer
      .fence(host, ctl.signal)
      .catch((err: unknown): FenceRecord => ({ ok: false, durationMs: this.now() - started, attempts: [], error: `fencer error: ${String(err)}`, by: this.deps.config.id }))
      .then((record) => {
        if (this.inflight.get(host) === ctl) this.inflight.delete(host);
        this.step({ type: 'fence_done', at: this.now(), host, record });
      });
  }

  private runRecovery(host: HostId, record: FenceRecord): void {
    const recoverer = this.deps.recoverer;
    if (!recoverer) return;
    if (this.inflight.has(host)) return;
    const ctl = new AbortController();
    this.inflight.set(host, ctl);
    void recoverer
      .recover(host, record, ctl.signal)
      .catch((err: unknown) => ({ selected: 0, evacuated: 0, failed: 0, notified: 0, error: String(err) }))
      .then((summary) => {
        if (this.inflight.get(host) === ctl) this.inflight.delete(host);
        if (ctl.signal.aborted) return;
        this.step({ type: 'recovery_done', at: this.now(), host, summary });
      });
  }

  private persist(): void {
    this.stateDirty = false;
    this.lastPersistAt = this.now();
    try {
      this.store.save(this.core.persisted());
    } catch (err) {
      this.log.error({ err, file: this.store.file }, 'could not write monitor state');
    }
  }
}
