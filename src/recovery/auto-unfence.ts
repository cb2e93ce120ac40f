import type { Logger } from '../log.js';
import type { UnfenceConfig } from './config.js';
import type { UnfenceResult } from './unfence.js';

export interface AutoUnfenceDeps {
  cfg: UnfenceConfig;
  /** Runs the unfence (unfenceHost bound to the compute client and fence device). */
  unfence: (host: string, signal: AbortSignal) => Promise<UnfenceResult>;
  log: Logger;
}

/**
 * The opt-in `unfence.auto`: once a fenced-and-recovered host's beacon has been healthy for
 * `quiet_period` without interruption, return it to service. The daemon feeds it beacon health;
 * any unhealthy report restarts the quiet period. Does nothing when `auto` is false.
 */
export class AutoUnfencer {
  private readonly fenced = new Set<string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Map<string, AbortController>();

  constructor(private readonly deps: AutoUnfenceDeps) {}

  /** The host was fenced and recovered: it may come back later. */
  markFenced(host: string): void {
    this.fenced.add(host);
  }

  /** The operator returned it by hand (or it was removed): stop watching. */
  forget(host: string): void {
    this.fenced.delete(host);
    this.cancel(host);
  }

  hostHealthy(host: string): void {
    if (!this.deps.cfg.auto || !this.fenced.has(host) || this.timers.has(host) || this.running.has(host)) return;
    this.timers.set(host, setTimeout(() => void this.fire(host), this.deps.cfg.quietPeriodMs));
  }

  hostUnhealthy(host: string): void {
    this.cancel(host);
  }

  stop(): void {
    for (const h of [...this.timers.keys(), ...this.running.keys()]) this.cancel(h);
  }

  private cancel(host: string): void {
    clearTimeout(this.timers.get(host));
    this.timers.delete(host);
    this.running.get(host)?.abort(new Error('host unhealthy again'));
    this.running.delete(host);
  }

  private async fire(host: string): Promise<void> {
    this.timers.delete(host);
    const ac = new AbortController();
    this.running.set(host, ac);
    try {
      const res = await this.deps.unfence(host, ac.signal);
      if (res.ok) this.fenced.delete(host);
      else this.deps.log.warn({ host, reason: res.reason }, 'automatic unfence did not complete');
    } catch (err) {
      if (!ac.signal.aborted) this.deps.log.error({ host, err }, 'automatic unfence failed');
    } finally {
      if (this.running.get(host) === ac) this.running.delete(host);
    }
  }
}
