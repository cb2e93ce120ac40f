import type { Logger } from '../log.js';
import type { ComputeClient } from '../openstack/compute.js';

/**
 * Pre-authentication (issue #12): the first recovery after a monitor starts paid 0.6–0.8 s for the
 * Keystone token and the compute version discovery, later ones 0.02–0.05 s. Every monitor that may
 * become coordinator does both at start and then keeps the token fresh: a look every refresh period
 * renews it once it is within `compute.token_renew_before` of its expiry (KeystoneSession), so an
 * incident never waits for Keystone. A failure is the keystone_unreachable alarm (or
 * compute_api_unreachable for the version document) until the next success; recovery itself still
 * waits and retries as before.
 *
 * Once warm, it also lists the compute services once: the client keeps each host's service id, and
 * the first force-down of a host then needs no lookup (22 ms on the harness cloud, paid by every
 * host's first incident). Best effort: a failed listing leaves the lookups to the recovery.
 */
export type WarmCompute = Pick<ComputeClient, 'versions' | 'refreshToken'> & Partial<Pick<ComputeClient, 'listComputeServices'>>;

/** Bounds of the refresh look: half of token_renew_before, at least 1 s, at most 60 s; a failed look retries after 5 s at most. */
export const WARM_LIMITS = { minRefreshMs: 1_000, maxRefreshMs: 60_000, retryMs: 5_000 };

export interface WarmStatus {
  /** The token and microversions are in hand (a recovery starts without waiting for them). */
  warm: boolean;
  error: { service: 'keystone' | 'compute'; message: string; sinceMs: number } | null;
}

export class WarmSession {
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** The compute services were listed once (their ids known to the client). */
  private servicesListed = false;
  private readonly ac = new AbortController();
  readonly state: WarmStatus = { warm: false, error: null };
  readonly refreshMs: number;

  constructor(
    private readonly compute: WarmCompute,
    private readonly log: Logger,
    renewBeforeMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.refreshMs = Math.max(WARM_LIMITS.minRefreshMs, Math.min(WARM_LIMITS.maxRefreshMs, Math.floor(renewBeforeMs / 2)));
  }

  /** Authenticates and negotiates now; resolves when that first attempt ended (never rejects). */
  async start(): Promise<void> {
    await this.look();
  }

  stop(): void {
    this.stopped = true;
    this.ac.abort();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private async look(): Promise<void> {
    if (this.stopped) return;
    let ok = false;
    try {
      await this.compute.refreshToken(this.ac.signal);
      try {
        await this.compute.versions(this.ac.signal);
        ok = true;
      } catch (err) {
        this.failed('compute', err);
      }
    } catch (err) {
      this.failed('keystone', err);
    }
    if (ok) {
      if (!this.state.warm || this.state.error)
        this.log.info({ refreshMs: this.refreshMs }, 'compute API ready: token and microversions in hand');
      this.state.warm = true;
      this.state.error = null;
      if (!this.servicesListed && this.compute.listComputeServices) {
        try {
          const n = (await this.compute.listComputeServices(this.ac.signal)).length;
          this.servicesListed = true;
          this.log.debug({ services: n }, 'compute service ids known ahead of a force-down');
        } catch (err) {
          this.log.debug(
            { err: err instanceof Error ? err.message : String(err) },
            'compute services not listed; a force-down looks its host up',
          );
        }
      }
    }
    if (!this.stopped) {
      this.timer = setTimeout(() => void this.look(), ok ? this.refreshMs : Math.min(this.refreshMs, WARM_LIMITS.retryMs));
      this.timer.unref?.();
    }
  }

  private failed(service: 'keystone' | 'compute', err: unknown): void {
    if (this.stopped) return;
    const message = err instanceof Error ? err.message : String(err);
    if (!this.state.error) this.log.warn({ service, err: message }, 'pre-authentication failed; retrying (a recovery would wait for it)');
    this.state.error = { service, message, sinceMs: this.state.error?.sinceMs ?? this.now() };
  }

  alarms(): Array<{ kind: string; message: string; since: string }> {
    const e = this.state.error;
    if (!e) return [];
    const since = new Date(e.sinceMs).toISOString();
    return [
      {
        kind: e.service === 'keystone' ? 'keystone_unreachable' : 'compute_api_unreachable',
        since,
        message:
          e.service === 'keystone'
            ? `standby — Keystone token could not be renewed since ${since} (last: ${e.message}); a recovery would wait for it`
            : `standby — compute API version discovery failing since ${since} (last: ${e.message}); a recovery would wait for it`,
      },
    ];
  }
}
