/**
 * A simulated cluster that runs the product: N real MonitorDaemon instances and M real Beacons (real
 * codec, admission, replay guard, state store interface, monitor-to-monitor encoding) on virtual time
 * and an in-memory network, with partitions, crashes, stalls and a flaky fencer, all driven by one
 * seeded RNG. Nothing here touches a socket or a real clock, so a failing seed replays exactly.
 *
 * The world only schedules faults and observes: it has no effect loop of its own. What it checks as
 * things happen (and invariants.ts after the run) is recorded in `violations`.
 */
import { createHash } from 'node:crypto';
import { Beacon, LEAVING_GAP_MS, LEAVING_REPEATS } from '../../daemon/beacon.js';
import { encodeBeacon, encodeMonitor } from '../../wire/codec.js';
import { deriveHostKey, type MonitorKeys } from '../../wire/keys.js';
import { EventBus } from '../../daemon/event-bus.js';
import { MonitorDaemon, type MonitorSettings } from '../../daemon/monitor.js';
import type { PersistedState } from '../../core/effects.js';
import type { ClusterEvent, FenceRecord, RecoverySummary } from '../../core/events.js';
import type { PowerReading } from '../../core/ports.js';
import { quorumNeeded } from '../../core/membership.js';
import { defaultCoreSettings, type CoreSettings } from '../../core/settings.js';
import type { StateStore } from '../../daemon/state-store.js';
import { silentLogger } from '../../log.js';
import { SimProcess, VirtualTime } from '../clock/virtual-time.js';
import { MemoryNetwork, type LinkFaults } from '../net/memory-network.js';
import { Rng } from './rng.js';

export type NetFaults = LinkFaults;

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
  /**
   * A clean stop of a host's beacon (SIGTERM: it sends its leaving, then exits) at a time, and when it
   * starts again (a new boot id), or null for never: the host must not be declared failed meanwhile.
   */
  hostStops?: Array<[string, number, number | null]>;
  monitorCrashes: Array<[string, number, number]>;
  /** Monitor event loop stalls: no tick, no delivery from start to end. */
  monitorStalls: Array<[string, number, number]>;
  /** Set by a mass-silence scenario: `silent` hosts stop together at `atMs` (the guard must hold them). */
  massSilence?: { atMs: number; silent: number };
  /** A monitor's state disk refuses every write from start to end (full, or failing), then works again. */
  diskFailures?: Array<[string, number, number]>;
  /** Times at which the operator runs `ack-mass-failure` on whichever monitor acts then. */
  massFailureAcks?: number[];
  fenceFailProbability: number;
  settings: (s: CoreSettings) => void;
  /**
   * A compromised compute host: it holds `host`'s key (and no other) and, from `startMs`, sends every
   * monitor sealed datagrams each `intervalMs`: heartbeats claiming other hosts (fresh boot ids), and
   * monitor heartbeats claiming real monitors (votes for themselves, dead verdicts, decisions to fence).
   */
  adversary?: { host: string; startMs: number; intervalMs: number };
  /** A host's wall clock jumps: [host, atMs, offsetMs from true time from then on]. */
  clockJumps?: Array<[string, number, number]>;
}

export interface Declaration {
  at: number;
  by: string;
  host: string;
}

/**
 * A monitor's disk: what the daemon last saved survives its crash, and nothing more. While
 * `failing()` says so, every save throws as a full disk does (the scenario's diskFailures).
 */
export class MemoryStateStore implements StateStore {
  readonly where = 'memory';
  state: PersistedState | undefined;
  failedWrites = 0;

  constructor(private readonly failing: () => boolean = () => false) {}

  load(): PersistedState | undefined {
    return this.state && structuredClone(this.state);
  }

  save(state: PersistedState): void {
    if (this.failing()) {
      this.failedWrites++;
      throw new Error('ENOSPC: no space left on device, write');
    }
    this.state = structuredClone(state);
  }
}

interface MonitorNode {
  id: string;
  proc: SimProcess;
  daemon: MonitorDaemon | null;
  store: StateStore;
  boot: number;
  /** Last time a datagram from each peer was handed to this monitor. */
  heardFrom: Map<string, number>;
  /** Inside a mass-failure hold this monitor itself raised, and has not yet cleared or stepped down from. */
  holding: boolean;
  /**
   * Hosts this monitor, in any of its incarnations, held a decision to fence (made or adopted), or
   * fenced: what it must never decide afresh after a restart.
   */
  fenceDecided: Set<string>;
  /** Coordinator version last scanned for fenceDecided (the scan is skipped while it is unchanged). */
  scannedVersion: number;
}

interface HostNode {
  name: string;
  proc: SimProcess;
  beacon: Beacon | null;
  boot: number;
  alive: boolean;
  lastSentAt: number | null;
  poweredOffAt: number | null;
  deadForGood: boolean;
}

const MONITOR_KEY = Buffer.from('simulation-monitor-key-of-32-bytes!!', 'utf8');
const BEACON_MASTER_KEY = Buffer.from('simulation-beacon-master-key-32-bytes', 'utf8');
const KEYS: MonitorKeys = {
  monitor: MONITOR_KEY,
  monitorNext: null,
  sealWith: 'current',
  beaconMaster: BEACON_MASTER_KEY,
  beaconMasterNext: null,
  legacyCluster: null,
};
/** The network name of the adversary's process (a compute host that is not one of the watched hosts). */
export const ADVERSARY_NODE = 'mallory';
/** One logger for every simulated process: the simulation reads events, not logs. */
const QUIET = silentLogger();

/** Boot ids are 16 bytes on the wire: a stable hash of the node and its boot count. */
function bootIdFor(node: string, boot: number): string {
  return createHash('sha256').update(`${node}#${boot}`).digest('hex').slice(0, 32);
}

/** Host names of the simulation: h001, h002, … (h10000 at scale). */
export function hostName(i: number): string {
  return `h${String(i).padStart(3, '0')}`;
}

export class World {
  readonly rng: Rng;
  readonly time = new VirtualTime();
  readonly net: MemoryNetwork;
  readonly monitors = new Map<string, MonitorNode>();
  readonly hosts = new Map<string, HostNode>();
  readonly monitorIds: string[];
  readonly settings: CoreSettings;
  readonly events: Array<{ by: string; event: ClusterEvent }> = [];
  readonly declarations: Declaration[] = [];
  readonly violations: string[] = [];
  /** Per monitor, since when it has been acting coordinator. */
  readonly actingSince = new Map<string, number>();
  readonly overlaps: Array<{ at: number; actors: string[] }> = [];
  readonly fenced = new Set<string>();
  /** Every call of a fence device, in order: a host fenced twice under two decisions shows here. */
  readonly fenceCalls: Array<{ at: number; by: string; host: string }> = [];
  /**
   * Hosts declared failed again after a fence powered them off, by any monitor (the strict, cluster-wide
   * form of "no decision repeated"), an invariant since decisions are fenced only once a quorum
   * holds them (docs/wire-format.md "Decision versions"; 4,000 seeds clean).
   */
  readonly repeatedDecisions: string[] = [];
  /** Failures the daemons contained in their loops (an encode that threw, a sink, …), by monitor. */
  readonly contained = new Map<string, string[]>();
  /** Set when a callback resolved a promise: the run loop lets the microtasks run before going on. */
  private asyncWork = false;
  /**
   * The BMCs' power readings draw from their own stream, so that adding them left every other
   * draw of a seed (network, fences, scenario) where it was.
   */
  private readonly powerRng: Rng;
  /** Hosts whose death cut their power (a BMC reads OFF), since when; the other deaths are crashes with power on. */
  private readonly lostPower = new Map<string, number>();

  /**
   * Each monitor's disk; by default a MemoryStateStore that fails during the scenario's diskFailures.
   * A test may pass its own (any StateStore) to fail in other ways.
   */
  constructor(
    readonly sc: Scenario,
    makeStore?: (id: string, world: World) => StateStore,
  ) {
    this.rng = new Rng(sc.seed);
    this.powerRng = new Rng(Math.imul(sc.seed, 0x9e3779b1) ^ 0x5bd1e995);
    this.net = new MemoryNetwork(this.time, this.rng, sc.net, (from, to, at) => this.cut(from, to, at));
    this.monitorIds = Array.from({ length: sc.monitors }, (_, i) => `m${i + 1}`);
    this.settings = defaultCoreSettings('m1', this.monitorIds);
    this.settings.fencing = { enabled: true, retryBaseMs: 2000, retryMaxMs: 8000, powerCheck: { maxInFlight: 4 } };
    this.settings.recovery = { enabled: true, autoUnfence: { enabled: false, quietPeriodMs: 0 } };
    sc.settings(this.settings);
    for (const id of this.monitorIds) {
      const proc = new SimProcess(id, this.time, () => this.rng.int(5));
      const store = makeStore?.(id, this) ?? new MemoryStateStore(() => this.diskFailing(id));
      const node = {
        id,
        proc,
        daemon: null,
        store,
        boot: 0,
        heardFrom: new Map(),
        holding: false,
        fenceDecided: new Set<string>(),
        scannedVersion: -1,
      };
      this.monitors.set(id, node);
      proc.afterRun = () => this.checkActing(id);
    }
    for (let i = 1; i <= sc.hosts; i++) {
      const name = hostName(i);
      this.hosts.set(name, {
        name,
        proc: new SimProcess(name, this.time),
        beacon: null,
        boot: 0,
        alive: false,
        lastSentAt: null,
        poweredOffAt: null,
        deadForGood: false,
      });
    }
  }

  async run(): Promise<void> {
    const sc = this.sc;
    for (const id of this.monitorIds) this.time.at(this.rng.int(this.settings.tickMs), () => this.startMonitor(id));
    for (const h of this.hosts.values()) this.time.at(this.rng.int(sc.beaconIntervalMs), () => this.bootHost(h.name, true));
    for (const [host, at] of sc.hostDeaths) {
      this.time.at(at, () => {
        this.hosts.get(host)!.deadForGood = true;
        // A second death of a dead host changes nothing: its power went off (or not) at the first.
        if (this.powerRng.chance(0.5) && !this.lostPower.has(host)) this.lostPower.set(host, at);
        this.killHost(host);
      });
    }
    for (const [host, start, end] of sc.hostReboots) {
      this.time.at(start, () => this.killHost(host));
      this.time.at(end, () => this.bootHost(host, false));
    }
    for (const [host, at, again] of sc.hostStops ?? []) {
      this.time.at(at, () => this.stopBeacon(host));
      if (again !== null) this.time.at(again, () => this.bootHost(host, false));
    }
    for (const [id, start, end] of sc.monitorCrashes) {
      this.time.at(start, () => this.crashMonitor(id));
      this.time.at(end, () => this.startMonitor(id));
    }
    for (const [id, start, end] of sc.monitorStalls) {
      this.time.at(start, () => {
        const m = this.monitors.get(id)!;
        m.proc.stall(end);
        this.actingSince.delete(id); // a frozen process acts on nothing
      });
    }
    for (const at of sc.massFailureAcks ?? []) this.time.at(at, () => this.ackMassFailure());
    for (const [host, at, offsetMs] of sc.clockJumps ?? []) this.time.at(at, () => (this.hosts.get(host)!.proc.wallOffsetMs = offsetMs));
    if (sc.adversary) this.startAdversary(sc.adversary);
    while (this.time.runNext(sc.durationMs)) {
      if (this.asyncWork) {
        this.asyncWork = false;
        // Promise callbacks (a fence result, a daemon's start) run now, at the same virtual time.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
  }

  diskFailing(id: string): boolean {
    const now = this.time.now;
    return (this.sc.diskFailures ?? []).some(([m, s, e]) => m === id && now >= s && now < e);
  }

  cut(from: string, to: string, at: number): boolean {
    return this.sc.cuts.some(([f, t, s, e]) => f === from && t === to && at >= s && at < e);
  }

  /** Called when a host dies, with the time of its last heartbeat (for latency measurements). */
  onHostDeath: (host: string, lastSentAt: number | null) => void = () => {};

  private monitorSettings(id: string): MonitorSettings {
    return {
      id,
      listen: [MemoryNetwork.address(id)],
      monitors: this.monitorIds.map((m) => ({ id: m, address: MemoryNetwork.address(m) })),
      keys: KEYS,
      // Like a configured `hosts:` list: every monitor watches every host from its first start.
      hosts: [...this.hosts.keys()],
      maxClockSkewMs: 60_000,
      core: { ...this.settings, self: id },
    };
  }

  private startMonitor(id: string): void {
    const m = this.monitors.get(id)!;
    m.boot++;
    m.proc.restart();
    m.heardFrom.clear();
    m.holding = false;
    m.scannedVersion = -1;
    const endpoint = this.net.endpoint(id, (deliver) => m.proc.run(deliver));
    endpoint.onHeard = (from) => from !== ADVERSARY_NODE && m.heardFrom.set(from, this.time.now);
    const bus = new EventBus(QUIET);
    bus.subscribe('world', { publish: (ev) => this.onEvent(m, ev) });
    const daemon = new MonitorDaemon({
      settings: this.monitorSettings(id),
      clock: m.proc.clock(),
      transport: endpoint,
      store: m.store,
      bus,
      log: QUIET,
      bootId: bootIdFor(id, m.boot),
      fencer: { fence: (host) => this.fence(m, host), checkPower: (host) => this.checkPower(m, host) },
      recoverer: { recover: (host, record) => this.recover(m, host, record) },
    });
    m.daemon = daemon;
    this.asyncWork = true;
    void daemon.start();
  }

  private crashMonitor(id: string): void {
    const m = this.monitors.get(id)!;
    if (m.daemon) this.noteContained(m);
    m.proc.crash();
    m.daemon = null;
    this.actingSince.delete(id);
  }

  private ackMassFailure(): void {
    for (const m of this.monitors.values()) {
      if (m.daemon && !m.proc.stalled() && m.daemon.acting()) {
        const d = m.daemon;
        m.proc.run(() => d.command({ type: 'ack_mass_failure', at: this.time.now, by: 'sim-operator' }));
      }
    }
  }

  private killHost(name: string): void {
    const h = this.hosts.get(name)!;
    if (h.alive) this.onHostDeath(name, h.lastSentAt);
    this.powerOff(h);
  }

  /** SIGTERM to the beacon: its leavings go out on its own clock, then the process ends (the host is not dead). */
  private stopBeacon(name: string): void {
    const h = this.hosts.get(name)!;
    const beacon = h.beacon;
    if (!h.alive || !beacon) return;
    h.proc.run(() => void beacon.leave());
    this.time.after(LEAVING_REPEATS * LEAVING_GAP_MS + 1, () => {
      if (h.beacon === beacon) this.powerOff(h);
    });
  }

  private powerOff(h: HostNode): void {
    h.alive = false;
    h.proc.crash();
    h.beacon = null;
  }

  private bootHost(name: string, first: boolean): void {
    const h = this.hosts.get(name)!;
    if (h.poweredOffAt !== null || h.deadForGood) return; // fenced or dead hosts stay off in this world
    if (h.alive) return;
    h.alive = true;
    h.boot++;
    h.proc.restart();
    const endpoint = this.net.endpoint(name, (deliver) => h.proc.run(deliver));
    const clock = h.proc.clock();
    const beacon = new Beacon({
      settings: {
        host: name,
        monitors: this.monitorIds.map((m) => MemoryNetwork.address(m)),
        intervalMs: this.sc.beaconIntervalMs,
        key: this.hostKey(name),
      },
      clock: { ...clock, wallNow: () => (h.lastSentAt = this.time.now) + h.proc.wallOffsetMs },
      transport: endpoint,
      health: { current: 'up', start() {}, stop() {} },
      log: QUIET,
      bootId: bootIdFor(name, h.boot),
    });
    h.beacon = beacon;
    // A rebooted host's beacon starts at a random point of its interval, like a real boot.
    if (first) beacon.start();
    else this.time.after(this.rng.int(this.sc.beaconIntervalMs), () => h.beacon === beacon && h.proc.run(() => beacon.start()));
  }

  private readonly hostKeys = new Map<string, Buffer>();

  /** What `instance-ha keys host NAME` gives the host (derived once per host, as the monitors do). */
  private hostKey(name: string): Buffer {
    let k = this.hostKeys.get(name);
    if (!k) this.hostKeys.set(name, (k = deriveHostKey(BEACON_MASTER_KEY, name)));
    return k;
  }

  /** Forged datagrams the monitors dropped, summed over the running ones. */
  forgedDropped(): number {
    let n = 0;
    for (const m of this.monitors.values()) if (m.daemon) n += m.daemon.snapshot().counters.dropped.forged;
    return n;
  }

  readonly adversarySent = { beacon: 0, monitor: 0 };

  private startAdversary(a: NonNullable<Scenario['adversary']>): void {
    const key = this.hostKey(a.host);
    const endpoint = this.net.endpoint(ADVERSARY_NODE, (deliver) => deliver());
    const others = [...this.hosts.keys()].filter((h) => h !== a.host);
    let seq = 0;
    const send = (): void => {
      seq++;
      const wallNow = this.time.now;
      const boot = bootIdFor(`${ADVERSARY_NODE}-${seq}`, seq);
      const bufs: Buffer[] = [];
      if (others.length > 0) {
        const victim = this.rng.pick(others);
        bufs.push(encodeBeacon({ host: victim, bootId: boot, seq, sentAtMs: wallNow, intervalMs: 500, novaCompute: 'up' }, key));
        this.adversarySent.beacon++;
      }
      const impersonated = this.rng.pick(this.monitorIds);
      const target = others.length > 0 ? this.rng.pick(others) : a.host;
      bufs.push(
        encodeMonitor(
          {
            from: impersonated,
            bootId: boot,
            seq,
            sentAtMs: wallNow,
            hears: [...this.monitorIds],
            vote: impersonated,
            acting: true,
            epoch: 1_000_000 + seq,
            paused: false,
            verdicts: [{ host: target, level: 'dead', bootId: boot }],
            decisions: [{ host: target, state: 'fencing', bootId: boot, sinceMs: 0, fenceAttempts: 0 }],
            maintenance: [],
          },
          key,
        ),
      );
      this.adversarySent.monitor++;
      for (const id of this.monitorIds) for (const b of bufs) endpoint.send(b, MemoryNetwork.address(id));
    };
    this.time.at(a.startMs, () => {
      send();
      const again = (): void => {
        send();
        this.time.after(a.intervalMs, again);
      };
      this.time.after(a.intervalMs, again);
    });
  }

  private onEvent(m: MonitorNode, event: ClusterEvent): void {
    this.events.push({ by: m.id, event });
    if (event.type === 'cluster.mass_failure') m.holding = true;
    if (event.type === 'cluster.mass_failure_cleared') m.holding = false;
    if (event.type === 'host.failed') this.onDeclared(m, event.host, event.votes);
    if (event.type === 'host.failed') this.notRepeated(m, event.host, event.bootId);
  }

  private checkActing(id: string): void {
    const m = this.monitors.get(id)!;
    this.noteDecisions(m);
    const acting = !!m.daemon && m.daemon.acting();
    if (acting && !this.actingSince.has(id)) this.actingSince.set(id, this.time.now);
    if (!acting) {
      this.actingSince.delete(id);
      m.holding = false; // a monitor that steps down drops its hold; a successor judges afresh
    }
    if (this.actingSince.size > 1) this.overlaps.push({ at: this.time.now, actors: [...this.actingSince.keys()] });
  }

  /**
   * Checked at the moment of each declaration, against ground truth and against the declaring
   * monitor's own view (the rules of coordinator.ts, restated):
   *  - it heard a quorum of monitors (datagrams actually handed to it);
   *  - a quorum of monitors voted the host dead;
   *  - no live monitor still heard the host (it is non-up here, and listed by every live peer);
   *  - it was not inside a mass-failure hold of its own.
   */
  private onDeclared(m: MonitorNode, host: string, votes: string[]): void {
    const now = this.time.now;
    this.declarations.push({ at: now, by: m.id, host });
    const needed = quorumNeeded(this.settings.expectedVotes);
    let heard = 1;
    for (const [, at] of m.heardFrom) if (now - at <= this.settings.peerTimeoutMs) heard++;
    if (heard < needed) this.violations.push(`t=${now} ${m.id} declared ${host} failed hearing only ${heard}/${needed} monitors`);
    if (new Set(votes).size < needed)
      this.violations.push(
        `t=${now} ${m.id} declared ${host} failed on ${votes.length} dead vote(s) (${votes.join(',')}); quorum is ${needed}`,
      );
    const core = m.daemon!.core;
    if (core.tracks.get(host)?.verdict === 'up')
      this.violations.push(`t=${now} ${m.id} declared ${host} failed while it hears the host itself`);
    for (const p of core.membership.livePeers(now)) {
      if (!p.beat.verdicts.some((v) => v.host === host))
        this.violations.push(`t=${now} ${m.id} declared ${host} failed while live peer ${p.id} still hears it`);
    }
    if (m.holding) this.violations.push(`t=${now} ${m.id} declared ${host} failed inside its own mass-failure hold`);
  }

  /**
   * No decision repeated after a restart: a host a fence has powered off stays off in this world, so
   * a monitor declaring it failed again, after it (in this or an earlier incarnation) held a decision
   * to fence it or fenced it, lost that decision, e.g. by acting before the decision was on disk and
   * restarting without it. Its fence would then run a second time under a new decision.
   */
  private notRepeated(m: MonitorNode, host: string, bootId: string): void {
    const off = this.hosts.get(host)!.poweredOffAt;
    if (off === null || off >= this.time.now) return;
    this.repeatedDecisions.push(`t=${this.time.now} ${m.id} declared ${host} failed again after a fence powered it off at t=${off}`);
    if (m.fenceDecided.has(host))
      this.violations.push(
        `t=${this.time.now} ${m.id} declared ${host} (boot ${bootId.slice(0, 8) || 'unknown'}) failed again ` +
          `after a fence powered it off at t=${off}: a decision it held was lost and made again`,
      );
  }

  /** Records the hosts a monitor holds a fence decision for (made or adopted), across its restarts. */
  private noteDecisions(m: MonitorNode): void {
    const c = m.daemon?.core.coordinator;
    if (!c || c.version === m.scannedVersion) return;
    m.scannedVersion = c.version;
    for (const d of c.decisionList()) if (d.state !== 'failed' && d.state !== 'fence_failed') m.fenceDecided.add(d.host);
  }

  private noteContained(m: MonitorNode): void {
    const alarms = m.daemon!.snapshot().alarms.filter((a) => a.kind === 'loop_error' || a.kind === 'event_sink_failed');
    if (alarms.length) this.contained.set(m.id, [...(this.contained.get(m.id) ?? []), ...alarms.map((a) => a.message)]);
  }

  /** Failures the daemons contained, crashed incarnations' and running ones' (bugs, to the simulation). */
  collectContained(): Map<string, string[]> {
    const all = new Map([...this.contained].map(([id, msgs]) => [id, [...msgs]]));
    for (const m of this.monitors.values()) {
      if (!m.daemon) continue;
      const alarms = m.daemon.snapshot().alarms.filter((a) => a.kind === 'loop_error' || a.kind === 'event_sink_failed');
      if (alarms.length) all.set(m.id, [...(all.get(m.id) ?? []), ...alarms.map((a) => a.message)]);
    }
    return all;
  }

  /** The simulated fence devices: power off after a while, or fail; the answer reaches the daemon when it runs. */
  private fence(m: MonitorNode, host: string): Promise<FenceRecord> {
    const h = this.hosts.get(host)!;
    this.fenceCalls.push({ at: this.time.now, by: m.id, host });
    m.fenceDecided.add(host);
    const fails = this.rng.chance(this.sc.fenceFailProbability);
    const delay = 50 + this.rng.int(500);
    return new Promise((resolve) => {
      this.time.after(delay, () => {
        if (!fails) {
          this.powerOff(h);
          if (h.poweredOffAt === null) h.poweredOffAt = this.time.now;
          this.fenced.add(host);
        }
        m.proc.run(() => {
          this.asyncWork = true;
          resolve({ ok: !fails, durationMs: delay, attempts: [], by: m.id, ...(fails ? { error: 'simulated BMC failure' } : {}) });
        });
      });
    });
  }

  /**
   * The simulated BMCs' status: OFF only for a host whose power is off (a death that cut it, or a
   * fence), never for a live host behind a cut link, a reboot or a stopped beacon (power on). One
   * BMC in ten does not answer in time.
   */
  /** When the host's power went off (its death cut it, or a fence), or null while it is on. */
  powerCutAt(host: string): number | null {
    const fenced = this.hosts.get(host)!.poweredOffAt;
    const lost = this.lostPower.get(host) ?? null;
    return lost === null ? fenced : fenced === null ? lost : Math.min(lost, fenced);
  }

  private checkPower(m: MonitorNode, host: string): Promise<PowerReading> {
    const delay = 20 + this.powerRng.int(300);
    const unanswered = this.powerRng.chance(0.1);
    return new Promise((resolve) => {
      this.time.after(delay, () => {
        const off = !unanswered && this.powerCutAt(host) !== null;
        m.proc.run(() => {
          this.asyncWork = true;
          resolve({ off, read: !unanswered, detail: unanswered ? 'bmc=failed (timed out)' : `bmc=${off ? 'off' : 'on'}` });
        });
      });
    });
  }

  private recover(m: MonitorNode, host: string, _record: FenceRecord): Promise<RecoverySummary> {
    // Never recover a host that is not confirmed off.
    if (!this.fenced.has(host)) this.violations.push(`t=${this.time.now} ${m.id} recovers ${host} which was never fenced`);
    return new Promise((resolve) => {
      this.time.after(100 + this.rng.int(1000), () =>
        m.proc.run(() => {
          this.asyncWork = true;
          resolve({ selected: 1, evacuated: 1, failed: 0, notified: 0 });
        }),
      );
    });
  }
}
