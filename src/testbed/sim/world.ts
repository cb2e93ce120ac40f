/**
 * A simulated cluster for the decision core: N monitors, M hosts' beacons, a lossy network with
 * partitions, crashes, stalls and a fencer, all on simulated time driven by one seeded RNG.
 * Nothing here touches a socket or a real clock, so a failing seed replays exactly.
 */
import type { Effect, PersistedState } from '../../core/effects.js';
import { MonitorCore } from '../../core/monitor-core.js';
import { defaultCoreSettings, type CoreSettings } from '../../core/settings.js';
import type { ClusterEvent } from '../../core/events.js';
import type { MonitorBeat } from '../../core/messages.js';
import { Rng } from './rng.js';
import { EventQueue } from './queue.js';

export interface NetFaults {
  loss: number;
  duplicate: number;
  minDelayMs: number;
  maxDelayMs: number;
}

export interface Scenario {
  seed: number;
  monitors: number;
  hosts: number;
  durationMs: number;
  beaconIntervalMs: number;
  net: NetFaults;
  /** [from, to, startMs, endMs]; from/to are node names (monitor ids or host names). */
  cuts: Array<[string, string, number, number]>;
  /** Beacon stops for good (host dies) at this time. */
  hostDeaths: Array<[string, number]>;
  /** Host reboots: beacon silent from start to end, then a new boot id. */
  hostReboots: Array<[string, number, number]>;
  monitorCrashes: Array<[string, number, number]>;
  /** Monitor event loop stalls: no tick, no delivery from start to end. */
  monitorStalls: Array<[string, number, number]>;
  fenceFailProbability: number;
  settings: (s: CoreSettings) => void;
}

export interface Declaration {
  at: number;
  by: string;
  host: string;
}

interface MonitorNode {
  id: string;
  core: MonitorCore | null;
  disk: PersistedState | undefined;
  stalledUntil: number;
  boot: number;
  /** Last time a message from each peer was delivered to this monitor. */
  heardFrom: Map<string, number>;
  pending: Array<() => void>;
}

interface HostNode {
  name: string;
  bootId: string;
  seq: number;
  alive: boolean;
  lastSentAt: number | null;
  poweredOffAt: number | null;
  deadForGood: boolean;
}

export class World {
  readonly rng: Rng;
  readonly q = new EventQueue();
  readonly monitors = new Map<string, MonitorNode>();
  readonly hosts = new Map<string, HostNode>();
  readonly monitorIds: string[];
  readonly settings: CoreSettings;
  readonly events: Array<{ by: string; event: ClusterEvent }> = [];
  readonly declarations: Declaration[] = [];
  readonly violations: string[] = [];
  /** Per monitor, intervals during which it was acting coordinator. */
  readonly actingSince = new Map<string, number>();
  readonly overlaps: Array<{ at: number; actors: string[] }> = [];
  readonly fenced = new Set<string>();
  now = 0;

  constructor(readonly sc: Scenario) {
    this.rng = new Rng(sc.seed);
    this.monitorIds = Array.from({ length: sc.monitors }, (_, i) => `m${i + 1}`);
    this.settings = defaultCoreSettings('m1', this.monitorIds);
    this.settings.fencing = { enabled: true, retryBaseMs: 2000, retryMaxMs: 8000 };
    this.settings.recovery = { enabled: true };
    sc.settings(this.settings);
    for (const id of this.monitorIds) {
      this.monitors.set(id, { id, core: null, disk: undefined, stalledUntil: 0, boot: 0, heardFrom: new Map(), pending: [] });
    }
    for (let i = 1; i <= sc.hosts; i++) {
      const name = `h${String(i).padStart(3, '0')}`;
      this.hosts.set(name, { name, bootId: `${name}-b0`, seq: 0, alive: true, lastSentAt: null, poweredOffAt: null, deadForGood: false });
    }
  }

  run(): void {
    const sc = this.sc;
    for (const id of this.monitorIds) this.startMonitor(id, 0);
    for (const h of this.hosts.values()) {
      const phase = this.rng.int(sc.beaconIntervalMs);
      this.q.at(phase, () => this.beacon(h));
    }
    for (const [host, at] of sc.hostDeaths) {
      this.q.at(at, () => {
        this.hosts.get(host)!.deadForGood = true;
        this.killHost(host);
      });
    }
    for (const [host, start, end] of sc.hostReboots) {
      this.q.at(start, () => this.killHost(host));
      this.q.at(end, () => this.bootHost(host));
    }
    for (const [id, start, end] of sc.monitorCrashes) {
      this.q.at(start, () => this.crashMonitor(id));
      this.q.at(end, () => this.startMonitor(id, end));
    }
    for (const [id, start, end] of sc.monitorStalls) {
      this.q.at(start, () => {
        const m = this.monitors.get(id)!;
        m.stalledUntil = Math.max(m.stalledUntil, end);
        this.actingSince.delete(id); // a frozen process acts on nothing
      });
      this.q.at(end, () => this.unstall(id));
    }
    while (!this.q.empty()) {
      const next = this.q.pop()!;
      if (next.at > sc.durationMs) break;
      this.now = next.at;
      next.run();
    }
  }

  private startMonitor(id: string, at: number): void {
    const m = this.monitors.get(id)!;
    const settings = { ...this.settings, self: id };
    m.boot++;
    // Like a configured `hosts:` list: every monitor watches every host from its first start.
    const disk = m.disk ?? { knownHosts: [...this.hosts.keys()], maintenance: [], decisions: [], epoch: 0 };
    m.core = new MonitorCore(settings, `${id}-boot${m.boot}`, at, disk);
    m.heardFrom.clear();
    m.pending = [];
    const boot = m.boot;
    // Like node's timers: a stalled loop skips ticks, and the first thing it runs after is a tick.
    const tick = (): void => {
      if (m.boot !== boot || !m.core) return;
      if (this.now >= m.stalledUntil) this.apply(m, m.core.step({ type: 'tick', at: this.now }));
      this.q.at(this.now + this.settings.tickMs + this.rng.int(5), tick);
    };
    this.q.at(at + this.rng.int(this.settings.tickMs), tick);
  }

  private crashMonitor(id: string): void {
    const m = this.monitors.get(id)!;
    if (m.core) m.disk = m.core.persisted();
    m.core = null;
    m.boot++;
    this.actingSince.delete(id);
  }

  /** A stalled monitor does nothing; its inbox piles up and is processed when it resumes. */
  private whenRunning(m: MonitorNode, fn: () => void): void {
    if (this.now < m.stalledUntil) {
      if (m.pending.length < 100_000) m.pending.push(fn);
      return;
    }
    fn();
  }

  private unstall(id: string): void {
    const m = this.monitors.get(id)!;
    if (this.now < m.stalledUntil) return;
    const pending = m.pending;
    m.pending = [];
    if (m.core) this.apply(m, m.core.step({ type: 'tick', at: this.now }));
    for (const fn of pending) fn();
  }

  /** Called when a host dies, with the time of its last heartbeat (for latency measurements). */
  onHostDeath: (host: string, lastSentAt: number | null) => void = () => {};

  private killHost(name: string): void {
    const h = this.hosts.get(name)!;
    if (h.alive) this.onHostDeath(name, h.lastSentAt);
    h.alive = false;
  }

  private bootHost(name: string): void {
    const h = this.hosts.get(name)!;
    if (h.poweredOffAt !== null || h.deadForGood) return; // fenced or dead hosts stay off in this world
    if (h.alive) return;
    h.alive = true;
    h.bootId = `${name}-b${this.now}`;
    h.seq = 0;
    this.q.at(this.now + this.rng.int(this.sc.beaconIntervalMs), () => this.beacon(h));
  }

  private beacon(h: HostNode): void {
    if (!h.alive) return;
    const bootId = h.bootId;
    h.seq++;
    h.lastSentAt = this.now;
    const beat = { host: h.name, bootId, seq: h.seq, sentAtMs: this.now, intervalMs: this.sc.beaconIntervalMs, novaCompute: 'up' as const };
    for (const id of this.monitorIds) {
      this.send(h.name, id, () => {
        const m = this.monitors.get(id)!;
        const core = m.core;
        if (!core) return;
        this.whenRunning(m, () => {
          if (m.core === core) this.apply(m, core.step({ type: 'beacon', at: this.now, beat }));
        });
      });
    }
    this.q.at(this.now + this.sc.beaconIntervalMs, () => {
      if (h.bootId === bootId) this.beacon(h);
    });
  }

  cut(from: string, to: string, at: number): boolean {
    return this.sc.cuts.some(([f, t, s, e]) => f === from && t === to && at >= s && at < e);
  }

  private send(from: string, to: string, deliver: () => void): void {
    const { loss, duplicate, minDelayMs, maxDelayMs } = this.sc.net;
    if (this.cut(from, to, this.now)) return;
    if (this.rng.chance(loss)) return;
    const copies = this.rng.chance(duplicate) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      this.q.at(this.now + minDelayMs + this.rng.int(maxDelayMs - minDelayMs + 1), deliver);
    }
  }

  private broadcast(m: MonitorNode, beat: MonitorBeat): void {
    for (const id of this.monitorIds) {
      if (id === m.id) continue;
      this.send(m.id, id, () => {
        const peer = this.monitors.get(id)!;
        const core = peer.core;
        if (!core) return;
        this.whenRunning(peer, () => {
          if (peer.core !== core) return;
          peer.heardFrom.set(m.id, this.now);
          this.apply(peer, core.step({ type: 'peer', at: this.now, beat }));
        });
      });
    }
  }

  private apply(m: MonitorNode, effects: Effect[]): void {
    const core = m.core!;
    this.checkActing(m.id, core.acting(this.now));
    for (const e of effects) {
      switch (e.type) {
        case 'broadcast':
          this.broadcast(m, e.beat);
          break;
        case 'emit':
          this.events.push({ by: m.id, event: e.event });
          if (e.event.type === 'host.failed') this.onDeclared(m, e.event.host);
          break;
        case 'fence':
          this.onFence(m, e.host);
          break;
        case 'recover':
          this.onRecover(m, e.host);
          break;
        case 'abandon':
        case 'log':
          break;
      }
    }
  }

  private checkActing(id: string, acting: boolean): void {
    if (acting && !this.actingSince.has(id)) this.actingSince.set(id, this.now);
    if (!acting) this.actingSince.delete(id);
    if (this.actingSince.size > 1) this.overlaps.push({ at: this.now, actors: [...this.actingSince.keys()] });
  }

  private onDeclared(m: MonitorNode, host: string): void {
    this.declarations.push({ at: this.now, by: m.id, host });
    // Invariant 2: a monitor without quorum declares nothing (ground truth: peers actually heard).
    const needed = Math.floor(this.settings.expectedVotes / 2) + 1;
    let heard = 1;
    for (const [, at] of m.heardFrom) if (this.now - at <= this.settings.peerTimeoutMs) heard++;
    if (heard < needed) this.violations.push(`t=${this.now} ${m.id} declared ${host} failed hearing only ${heard}/${needed} monitors`);
  }

  private onFence(m: MonitorNode, host: string): void {
    const core = m.core!;
    const h = this.hosts.get(host)!;
    const fails = this.rng.chance(this.sc.fenceFailProbability);
    const delay = 50 + this.rng.int(500);
    this.q.at(this.now + delay, () => {
      if (!fails) {
        h.alive = false;
        if (h.poweredOffAt === null) h.poweredOffAt = this.now;
        this.fenced.add(host);
      }
      if (m.core !== core) return;
      const record = { ok: !fails, durationMs: delay, attempts: [], by: m.id, ...(fails ? { error: 'simulated BMC failure' } : {}) };
      this.whenRunning(m, () => {
        if (m.core === core) this.apply(m, core.step({ type: 'fence_done', at: this.now, host, record }));
      });
    });
  }

  private onRecover(m: MonitorNode, host: string): void {
    // Never recover a host that is not confirmed off.
    if (!this.fenced.has(host)) this.violations.push(`t=${this.now} ${m.id} recovers ${host} which was never fenced`);
    const core = m.core!;
    this.q.at(this.now + 100 + this.rng.int(1000), () => {
      if (m.core !== core) return;
      this.whenRunning(m, () => {
        if (m.core === core) this.apply(m, core.step({ type: 'recovery_done', at: this.now, host, summary: { selected: 1, evacuated: 1, failed: 0, notified: 0 } }));
      });
    });
  }
}
