/**
 * One real MonitorCore (m1 of m1..m3) with scripted surroundings: peers whose heartbeats say what a
 * test wants, beacons that beat every 500 ms while alive, and a clock that ticks every tickMs. For the
 * rules of monitor-core.ts, where the peers' side is the input under test.
 */
import type { Effect, Input, PersistedState } from '../../src/core/effects.js';
import type { MonitorBeat } from '../../src/core/messages.js';
import { MonitorCore } from '../../src/core/monitor-core.js';
import type { CoreSettings } from '../../src/core/settings.js';
import { coreSettings, peerBeat } from './fixtures.js';

export class CoreRig {
  now = 0;
  readonly core: MonitorCore;
  readonly settings: CoreSettings;
  /** What each live peer says in its heartbeats (peers not listed are silent). */
  readonly peers = new Map<string, Partial<MonitorBeat>>();
  /** Hosts whose beacons beat, with their boot id. */
  readonly beating = new Map<string, string>();
  /** What a host's beacon says of its nova-compute (up when not listed). */
  readonly novaCompute = new Map<string, 'up' | 'down' | 'unknown'>();
  private readonly peerSeq = new Map<string, number>();
  private readonly hostSeq = new Map<string, number>();
  private lastPeerAt = -Infinity;
  /**
   * When set, peers that do not script their own decisions carry m1's latest broadcast decisions and
   * epoch, as followers do: a new decision is fenced only once a quorum holds it.
   */
  echoDecisions = false;
  private lastBroadcast: MonitorBeat | undefined;

  constructor(opts: { edit?: (s: CoreSettings) => void; hosts?: string[]; restored?: Partial<PersistedState>; peers?: boolean } = {}) {
    this.settings = coreSettings(opts.edit);
    const hosts = opts.hosts ?? ['h1', 'h2', 'h3'];
    const restored: PersistedState = { knownHosts: hosts, maintenance: [], decisions: [], epoch: 0, ...opts.restored };
    this.core = new MonitorCore(this.settings, 'm1-boot', 0, restored);
    for (const h of hosts) this.beating.set(h, `${h}-b1`);
    if (opts.peers ?? true) for (const p of ['m2', 'm3']) this.peers.set(p, { vote: 'm1' });
  }

  step(input: Input): Effect[] {
    const out = this.core.step(input);
    for (const e of out) if (e.type === 'broadcast') this.lastBroadcast = e.beat;
    return out;
  }

  /** One heartbeat from a peer now, with the next sequence number. */
  peer(from: string, o: Partial<MonitorBeat> = {}): Effect[] {
    const seq = (this.peerSeq.get(from) ?? 0) + 1;
    this.peerSeq.set(from, seq);
    const echoed =
      this.echoDecisions && this.lastBroadcast && o.decisions === undefined
        ? { decisions: this.lastBroadcast.decisions, epoch: this.lastBroadcast.epoch }
        : {};
    return this.step({ type: 'peer', at: this.now, beat: peerBeat(from, { seq, sentAtMs: this.now, ...echoed, ...o }) });
  }

  beacon(host: string, bootId = this.beating.get(host) ?? `${host}-b1`): Effect[] {
    const seq = (this.hostSeq.get(`${host}/${bootId}`) ?? 0) + 1;
    this.hostSeq.set(`${host}/${bootId}`, seq);
    return this.step({
      type: 'beacon',
      at: this.now,
      beat: { host, bootId, seq, sentAtMs: this.now, intervalMs: 500, novaCompute: this.novaCompute.get(host) ?? 'up' },
    });
  }

  /** A beacon's leaving now (a clean stop), with the next sequence number of its boot unless `seq` is given. */
  leaving(host: string, bootId = this.beating.get(host) ?? `${host}-b1`, seq?: number): Effect[] {
    const key = `${host}/${bootId}`;
    const next = (this.hostSeq.get(key) ?? 0) + 1;
    if (seq === undefined) this.hostSeq.set(key, next);
    return this.step({
      type: 'leaving',
      at: this.now,
      beat: { host, bootId, seq: seq ?? next, sentAtMs: 1_700_000_000_000 + this.now, intervalMs: 500, novaCompute: 'up' },
    });
  }

  tick(): Effect[] {
    return this.step({ type: 'tick', at: this.now });
  }

  /** Lets `ms` pass in ticks; beacons beat every 500 ms and peers every peerIntervalMs. */
  run(ms: number): Effect[] {
    const out: Effect[] = [];
    const end = this.now + ms;
    while (this.now < end) {
      this.now = Math.min(end, this.now + this.settings.tickMs);
      if (this.now % 500 === 0) for (const h of this.beating.keys()) out.push(...this.beacon(h));
      if (this.now - this.lastPeerAt >= this.settings.peerIntervalMs) {
        this.lastPeerAt = this.now;
        for (const [p, o] of this.peers) out.push(...this.peer(p, o));
      }
      out.push(...this.tick());
    }
    return out;
  }

  /** Runs until m1 acts as coordinator (peers vote for it); fails if it never does. */
  untilActing(): Effect[] {
    const out = this.run(300);
    if (!this.core.acting(this.now)) throw new Error('m1 did not become coordinator');
    return out;
  }

  broadcasts(out: readonly Effect[]): MonitorBeat[] {
    return out.flatMap((e) => (e.type === 'broadcast' ? [e.beat] : []));
  }
}
