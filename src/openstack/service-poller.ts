import type { Logger } from '../log.js';
import type { ComputeService } from './types.js';

/** What `status` shows of Nova's own view of each compute service (the `nova` section). */
export interface NovaServicesStatus {
  /** Last successful poll (ISO), null until one answers. */
  polledAt: string | null;
  intervalMs: number;
  /** The last poll's failure, cleared by the next success. */
  error: string | null;
  /** Failed polls since the last success. */
  failures: number;
  services: Record<string, { state: 'up' | 'down'; status: 'enabled' | 'disabled'; forcedDown: boolean; disabledReason: string | null }>;
}

export interface ServicePollerOptions {
  list: (signal: AbortSignal) => Promise<ComputeService[]>;
  log: Logger;
  /** One os-services call per interval, whatever the number of hosts or of status readers. */
  intervalMs?: number;
  /** A poll taking longer is abandoned (and counted as failed). */
  timeoutMs?: number;
  wallNow?: () => number;
}

/** Bounds: a call every 30 s by default (10 s at least, 10 min at most), 10 s timeout, 20,000 services kept. */
export const SERVICE_POLL = {
  defaultIntervalMs: 30_000,
  minIntervalMs: 10_000,
  maxIntervalMs: 600_000,
  timeoutMs: 10_000,
  maxServices: 20_000,
};
/** Failed polls in a row before `status` raises an alarm (one blip is not worth waking anyone). */
export const SERVICE_POLL_ALARM_AFTER = 3;

/**
 * A cached view of Nova's compute services for the status surfaces, refreshed at the edge on a timer:
 * `status` reads the cache, never Nova, so a thousand status calls cost one os-services request per
 * interval. It decides nothing — what fences and evacuates stays in the core.
 */
export class NovaServicePoller {
  private readonly intervalMs: number;
  private readonly timeoutMs: number;
  private readonly wallNow: () => number;
  private timer: NodeJS.Timeout | null = null;
  private inflight: AbortController | null = null;
  private state: NovaServicesStatus;

  constructor(private readonly o: ServicePollerOptions) {
    this.intervalMs = Math.min(
      SERVICE_POLL.maxIntervalMs,
      Math.max(SERVICE_POLL.minIntervalMs, o.intervalMs ?? SERVICE_POLL.defaultIntervalMs),
    );
    this.timeoutMs = o.timeoutMs ?? SERVICE_POLL.timeoutMs;
    this.wallNow = o.wallNow ?? Date.now;
    this.state = { polledAt: null, intervalMs: this.intervalMs, error: null, failures: 0, services: {} };
  }

  start(): void {
    if (this.timer) return;
    void this.poll();
    this.timer = setInterval(() => void this.poll(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.inflight?.abort();
  }

  status(): NovaServicesStatus {
    return this.state;
  }

  /** Alarms for `status`: Nova's view unreadable for several polls in a row. */
  alarms(): Array<{ kind: string; message: string }> {
    const s = this.state;
    if (s.failures < SERVICE_POLL_ALARM_AFTER) return [];
    return [
      {
        kind: 'compute_services_unreadable',
        message:
          `cannot read Nova's compute services (${s.failures} polls in a row failed: ${s.error ?? '?'}); ` +
          `NOVA SAYS is ${s.polledAt ? `as of ${s.polledAt}` : 'unknown'}`,
      },
    ];
  }

  /** One poll; a poll still running when the next is due is left to finish (never two at once). */
  async poll(): Promise<void> {
    if (this.inflight) return;
    const ctl = new AbortController();
    this.inflight = ctl;
    const timer = setTimeout(() => ctl.abort(new Error(`os-services did not answer within ${this.timeoutMs / 1000}s`)), this.timeoutMs);
    try {
      const list = await this.o.list(ctl.signal);
      const services: NovaServicesStatus['services'] = {};
      for (const sv of list.slice(0, SERVICE_POLL.maxServices))
        services[sv.host] = { state: sv.state, status: sv.status, forcedDown: sv.forcedDown, disabledReason: sv.disabledReason };
      this.state = { polledAt: new Date(this.wallNow()).toISOString(), intervalMs: this.intervalMs, error: null, failures: 0, services };
    } catch (err) {
      const error = ctl.signal.aborted && ctl.signal.reason instanceof Error ? ctl.signal.reason.message : (err as Error).message;
      if (this.state.failures === 0) this.o.log.warn({ err }, 'cannot read the compute services from Nova (status shows the last view)');
      this.state = { ...this.state, error, failures: this.state.failures + 1 };
    } finally {
      clearTimeout(timer);
      this.inflight = null;
    }
  }
}
