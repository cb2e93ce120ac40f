import { randomBytes } from 'node:crypto';
import type { BeaconConfig } from '../config/beacon-config.js';
import type { ComputeHealth } from '../core/messages.js';
import type { Logger } from '../log.js';
import { encodeBeacon, encodeLeaving, seal } from '../wire/codec.js';
import type { DatagramTransport } from '../wire/transport.js';
import type { Clock } from './clock.js';

/** The part of the beacon's configuration the beacon itself uses (the health check takes its own). */
export type BeaconSettings = Pick<BeaconConfig, 'host' | 'monitors' | 'intervalMs' | 'key'>;

/** A cached verdict on the local nova-compute (health-check.ts in production). */
export interface HealthSource {
  readonly current: ComputeHealth;
  start(): void;
  stop(): void;
}

export interface BeaconDeps {
  settings: BeaconSettings;
  clock: Clock;
  transport: DatagramTransport;
  health: HealthSource;
  log: Logger;
  /** A fixed boot id (the simulation's, for replayable runs); random otherwise. */
  bootId?: string;
}

/**
 * A clean stop sends the leaving this many times, this far apart (codec kind 5; docs/operations.md
 * "Stopping a beacon"): one or two lost datagrams must not turn a clean stop into a fence, and a stop
 * takes at most LEAVING_REPEATS × LEAVING_GAP_MS (150 ms) longer. Fixed, not configured: nothing
 * an operator would tune, and any monitor copy is enough (monitors share it in their views).
 */
export const LEAVING_REPEATS = 3;
export const LEAVING_GAP_MS = 50;

/**
 * The compute host's beacon: one heartbeat to every monitor each interval, sealed with this host's
 * own key (keys.ts), which is good for this host's name only. A fresh
 * boot id per start tells monitors "this is a new life" (after a reboot or a beacon restart).
 */
export class Beacon {
  readonly bootId: string;
  private seq = 0;
  private cancelTimer: (() => void) | null = null;
  private encodeErrors = 0;
  private key: Buffer;

  constructor(private readonly deps: BeaconDeps) {
    this.bootId = deps.bootId ?? randomBytes(16).toString('hex');
    this.key = deps.settings.key;
  }

  /**
   * Seals from the next heartbeat on with another key (a key rollover, on SIGHUP): same boot id, same
   * sequence, no gap, so no monitor has a reason to suspect the host while it switches.
   */
  rekey(key: Buffer): void {
    this.key = key;
  }

  start(): void {
    const s = this.deps.settings;
    this.deps.health.start();
    this.beat();
    this.cancelTimer = this.deps.clock.every(s.intervalMs, () => this.beat());
    // The daemon's root logger names the host already (cli/commands/beacon.ts).
    this.deps.log.info({ bootId: this.bootId, monitors: s.monitors.length, intervalMs: s.intervalMs }, 'beacon started');
  }

  /**
   * A clean stop's last words (SIGTERM): heartbeats stop and the leaving goes out LEAVING_REPEATS times,
   * each with the next sequence number of this boot, sealed with this host's key like a heartbeat. The
   * monitors then show the host `left` and do not fence its silence. Resolves once the last one is handed
   * to the socket and a gap has passed (a socket closed at once may drop it); call stop() after.
   */
  leave(): Promise<void> {
    this.cancelTimer?.();
    this.cancelTimer = null;
    return new Promise((resolve) => {
      let sent = 0;
      const once = (): void => {
        this.send(encodeLeaving);
        sent++;
        this.deps.clock.after(LEAVING_GAP_MS, sent >= LEAVING_REPEATS ? resolve : once);
      };
      once();
    });
  }

  stop(): void {
    this.cancelTimer?.();
    this.cancelTimer = null;
    this.deps.health.stop();
    this.deps.transport.close();
  }

  /**
   * Sends a body of another kind a compute host may send (a guest event, wire kind 7) to every
   * monitor, sealed with this host's key in use: the same key as the heartbeats, good for this host only.
   */
  sendSealed(kind: number, body: Buffer): void {
    const buf = seal(kind, body, this.key);
    for (const m of this.deps.settings.monitors) this.deps.transport.send(buf, m);
  }

  get counters(): { sent: number; sendErrors: number; seq: number; encodeErrors: number } {
    const t = this.deps.transport.counters;
    return { sent: t.sent, sendErrors: t.sendErrors, seq: this.seq, encodeErrors: this.encodeErrors };
  }

  private beat(): void {
    this.send(encodeBeacon);
  }

  private send(encode: typeof encodeBeacon): void {
    const s = this.deps.settings;
    this.seq = (this.seq + 1) >>> 0;
    let buf: Buffer;
    try {
      buf = encode(
        {
          host: s.host,
          bootId: this.bootId,
          seq: this.seq,
          sentAtMs: this.deps.clock.wallNow(),
          intervalMs: s.intervalMs,
          novaCompute: this.deps.health.current,
        },
        this.key,
      );
    } catch (err) {
      // The configuration is checked at start, so this is a bug: report it, keep the timer running.
      this.encodeErrors++;
      if ((this.encodeErrors & (this.encodeErrors - 1)) === 0)
        this.deps.log.error({ err, count: this.encodeErrors }, 'could not encode a heartbeat');
      return;
    }
    for (const m of s.monitors) this.deps.transport.send(buf, m);
  }
}
