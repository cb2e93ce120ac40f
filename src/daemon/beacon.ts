import { randomBytes } from 'node:crypto';
import type { BeaconConfig } from '../config/beacon-config.js';
import type { Logger } from '../log.js';
import { encodeBeacon } from '../wire/codec.js';
import { UdpTransport } from '../wire/udp-transport.js';
import { HealthCheck } from './health-check.js';

/**
 * The compute host's beacon: one authenticated heartbeat to every monitor each interval. A fresh
 * boot id per start tells monitors "this is a new life" (after a reboot or a beacon restart).
 */
export class Beacon {
  readonly bootId = randomBytes(16).toString('hex');
  private seq = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly transport: UdpTransport;
  private readonly health: HealthCheck;

  constructor(
    private readonly cfg: BeaconConfig,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.transport = new UdpTransport(log.child({ component: 'udp' }), now);
    this.health = new HealthCheck(cfg.health, log.child({ component: 'health' }));
  }

  start(): void {
    this.health.start();
    this.beat();
    this.timer = setInterval(() => this.beat(), this.cfg.intervalMs);
    this.log.info({ host: this.cfg.host, bootId: this.bootId, monitors: this.cfg.monitors.length, intervalMs: this.cfg.intervalMs }, 'beacon started');
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.health.stop();
    this.transport.close();
  }

  get counters(): { sent: number; sendErrors: number; seq: number } {
    return { ...this.transport.counters, seq: this.seq };
  }

  private beat(): void {
    this.seq = (this.seq + 1) >>> 0;
    const buf = encodeBeacon(
      { host: this.cfg.host, bootId: this.bootId, seq: this.seq, sentAtMs: this.now(), intervalMs: this.cfg.intervalMs, novaCompute: this.health.current },
      this.cfg.clusterKey,
    );
    for (const m of this.cfg.monitors) this.transport.send(buf, m);
  }
}
