/**
 * A scripted cluster for golden traces: real `MonitorCore`s, beacons that beat on a virtual clock,
 * links that can be cut one way or both, monitors that crash, restart or stall. Every effect a core
 * returns is printed as one line (`<time> <monitor> <effect>`), except broadcasts, which the cluster
 * delivers to the other monitors instead (print them with `show broadcast on`).
 *
 * Time only moves with `tick`, in steps of the monitors' tickMs; within a step hosts beat first, then
 * every running monitor ticks in configured order, and each broadcast is delivered before the next
 * monitor ticks. Nothing depends on wall-clock time or randomness, so a trace replays exactly.
 */
import { MonitorCore } from '../../src/core/monitor-core.js';
import { defaultCoreSettings, type CoreSettings } from '../../src/core/settings.js';
import type { Effect, Input, PersistedState } from '../../src/core/effects.js';
import type { MonitorBeat } from '../../src/core/messages.js';
import { formatEffect, formatFields } from './trace-format.js';

export interface SimHost {
  name: string;
  boot: number;
  bootId: string;
  seq: number;
  beating: boolean;
  intervalMs: number;
  nextBeatAt: number;
  /** What its beacon says of its nova-compute (`compute <host> up|down`). */
  novaCompute: 'up' | 'down' | 'unknown';
}

export interface SimMonitor {
  id: string;
  settings: CoreSettings;
  core: MonitorCore | null;
  boots: number;
  /** What it had persisted when it crashed, for its restart. */
  disk: PersistedState | undefined;
  stalledUntil: number;
  stalled: boolean;
  /** Inputs that arrived while it was stalled, processed right after its first (late) tick. */
  inbox: Input[];
}

export class TraceCluster {
  now = 0;
  readonly hosts = new Map<string, SimHost>();
  readonly monitors = new Map<string, SimMonitor>();
  /** Cut links as `from->to`; a host's link to a monitor is `host->monitor`. */
  readonly cuts = new Set<string>();
  showBroadcast = false;
  /** Which monitor last asked for each host's fence or recovery: the default target of its result. */
  readonly workerOf = new Map<string, string>();
  private readonly queue: Array<{ to: string; input: Input }> = [];
  private lines: string[] = [];

  /** Collects the lines printed while `fn` runs. */
  capture(fn: () => void): string[] {
    this.lines = [];
    fn();
    return this.lines;
  }

  print(line: string): void {
    this.lines.push(line);
  }

  addHosts(names: readonly string[], intervalMs: number): void {
    for (const name of names) {
      if (this.hosts.has(name) || this.monitors.has(name)) throw new Error(`'${name}' already exists`);
      this.hosts.set(name, {
        name,
        boot: 1,
        bootId: `${name}-b1`,
        seq: 0,
        beating: true,
        intervalMs,
        nextBeatAt: this.now,
        novaCompute: 'up',
      });
    }
  }

  addMonitors(ids: readonly string[], configure: (s: CoreSettings) => void): void {
    if (this.monitors.size > 0) throw new Error('monitors are configured once per trace');
    for (const id of ids) {
      const settings = defaultCoreSettings(id, ids);
      configure(settings);
      settings.self = id;
      const m: SimMonitor = { id, settings, core: null, boots: 0, disk: undefined, stalledUntil: -Infinity, stalled: false, inbox: [] };
      this.monitors.set(id, m);
    }
    for (const m of this.monitors.values()) this.start(m);
  }

  tickMs(): number {
    const first = this.monitors.values().next().value;
    if (!first) throw new Error('no monitors yet');
    return first.settings.tickMs;
  }

  host(name: string): SimHost {
    const h = this.hosts.get(name);
    if (!h) throw new Error(`unknown host '${name}'`);
    return h;
  }

  monitor(id: string): SimMonitor {
    const m = this.monitors.get(id);
    if (!m) throw new Error(`unknown monitor '${id}'`);
    return m;
  }

  /** Like a configured `hosts:` list, every monitor watches the hosts declared before it starts. */
  start(m: SimMonitor): void {
    m.boots++;
    const disk = m.disk ?? { knownHosts: [...this.hosts.keys()], maintenance: [], decisions: [], epoch: 0 };
    m.core = new MonitorCore(m.settings, `${m.id}-${m.boots}`, this.now, disk);
    m.stalled = false;
    m.stalledUntil = -Infinity;
    m.inbox = [];
  }

  crash(m: SimMonitor): void {
    if (!m.core) throw new Error(`'${m.id}' is not running`);
    m.disk = m.core.persisted();
    m.core = null;
    m.inbox = [];
  }

  stall(m: SimMonitor, ms: number): void {
    m.stalled = true;
    m.stalledUntil = this.now + ms;
  }

  linked(from: string, to: string): boolean {
    return !this.cuts.has(`${from}->${to}`);
  }

  /** Moves time on by `ms`, one monitor tick at a time. */
  advance(ms: number): void {
    const end = this.now + ms;
    const step = this.tickMs();
    while (this.now < end) this.step(Math.min(this.now + step, end));
  }

  /** One heartbeat from a host, to every monitor it is linked to (or just `only`). */
  beat(h: SimHost, only?: string): void {
    const beat = { host: h.name, bootId: h.bootId, seq: ++h.seq, sentAtMs: this.now, intervalMs: h.intervalMs, novaCompute: h.novaCompute };
    for (const m of this.monitors.values()) {
      if (only !== undefined && m.id !== only) continue;
      if (this.linked(h.name, m.id)) this.deliver(m, { type: 'beacon', at: this.now, beat });
    }
    this.drain();
  }

  /** Hands an input to a monitor now (queued if it is stalled, lost if it is down) and runs what follows. */
  input(m: SimMonitor, input: Input): void {
    this.deliver(m, input);
    this.drain();
  }

  private step(t: number): void {
    this.now = t;
    for (const h of this.hosts.values()) {
      if (!h.beating || h.nextBeatAt > t) continue;
      this.beat(h);
      while (h.nextBeatAt <= t) h.nextBeatAt += h.intervalMs;
    }
    for (const m of this.monitors.values()) {
      if (!m.core || t < m.stalledUntil) continue;
      this.apply(m, m.core.step({ type: 'tick', at: t }));
      this.drain();
      if (m.stalled) {
        // Like a process thawing: the late tick runs first, then the datagrams that queued meanwhile.
        m.stalled = false;
        const inbox = m.inbox;
        m.inbox = [];
        for (const input of inbox) this.deliver(m, { ...input, at: t });
        this.drain();
      }
    }
  }

  private deliver(m: SimMonitor, input: Input): void {
    if (!m.core) return;
    if (m.stalled) {
      m.inbox.push(input);
      return;
    }
    this.apply(m, m.core.step(input));
  }

  private drain(): void {
    // Bounded, so that a core that answered every peer beat with a broadcast would fail loudly.
    for (let n = 0; this.queue.length > 0; n++) {
      if (n > 100_000) throw new Error('message storm: broadcasts answered by broadcasts');
      const { to, input } = this.queue.shift()!;
      this.deliver(this.monitor(to), input);
    }
  }

  private apply(m: SimMonitor, effects: readonly Effect[]): void {
    for (const e of effects) {
      if (e.type === 'broadcast') {
        if (this.showBroadcast) this.print(`${this.now} ${m.id} broadcast ${summariseBeat(e.beat)}`);
        for (const peer of this.monitors.keys()) {
          if (peer !== m.id && this.linked(m.id, peer)) this.queue.push({ to: peer, input: { type: 'peer', at: this.now, beat: e.beat } });
        }
        continue;
      }
      if (e.type === 'fence' || e.type === 'recover' || e.type === 'disable_compute' || e.type === 'enable_compute')
        this.workerOf.set(e.host, m.id);
      this.print(`${this.now} ${m.id} ${formatEffect(e as Effect & Record<string, unknown>, this.now)}`);
    }
  }
}

function summariseBeat(b: MonitorBeat): string {
  return formatFields({
    seq: b.seq,
    hears: b.hears,
    vote: b.vote,
    acting: b.acting,
    epoch: b.epoch,
    paused: b.paused,
    verdicts: b.verdicts.map((v) => `${v.host}:${v.level}`),
    decisions: b.decisions.map((d) => `${d.host}:${d.state}`),
    maintenance: b.maintenance.filter((x) => x.on).map((x) => x.host),
  });
}
