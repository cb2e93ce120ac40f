import { OpenStackApiError, OpenStackTransportError } from '../openstack/errors.js';

/**
 * Backoff while the compute API (or Keystone) does not answer: doubled from MIN to MAX, jittered to
 * 50–100 %. A recovery never ends because a dependency blinked: it waits, for as long as its incident
 * is open (until the recovery is aborted: the monitor stops acting, or the host is returned).
 */
export const UNREACHABLE_RETRY_MIN_MS = 1_000;
export const UNREACHABLE_RETRY_MAX_MS = 10_000;

export function unreachableBackoffMs(failures: number, jitter: number): number {
  const ms = Math.min(UNREACHABLE_RETRY_MAX_MS, UNREACHABLE_RETRY_MIN_MS * 2 ** Math.max(0, Math.min(failures, 20)));
  return ms * (0.5 + jitter / 2);
}

/** The call got no usable answer: no connection, a reset or timeout, or a 5xx after the client's retries. */
export function isUnreachable(err: unknown): boolean {
  if (err instanceof OpenStackTransportError) return true;
  return err instanceof OpenStackApiError && (err.status >= 500 || err.status === 429);
}

/** Which service did not answer: a token request is Keystone's, anything else the compute API's. */
export function unreachableService(err: unknown): 'keystone' | 'compute' {
  const url = err instanceof OpenStackTransportError || err instanceof OpenStackApiError ? err.url : '';
  return /\/auth\/tokens(\?|$)/.test(url) ? 'keystone' : 'compute';
}

interface Outage {
  sinceMs: number;
  failures: number;
  lastError: string;
}

export interface ReachabilityAlarm {
  kind: 'compute_api_unreachable' | 'keystone_unreachable';
  message: string;
  since: string;
}

/**
 * What the recovery edge knows of its dependencies right now, for status (alarms), the status API
 * and metrics (instance_ha_alarms{kind}). Cleared by the first answer.
 */
export class Reachability {
  private readonly outages = new Map<'keystone' | 'compute', Outage>();
  /** Hosts whose recovery is waiting on the outage. */
  private readonly waiting = new Set<string>();

  failed(err: unknown, host: string, nowMs: number): number {
    const svc = unreachableService(err);
    const o = this.outages.get(svc) ?? { sinceMs: nowMs, failures: 0, lastError: '' };
    o.failures++;
    o.lastError = err instanceof Error ? err.message : String(err);
    this.outages.set(svc, o);
    this.waiting.add(host);
    return o.failures;
  }

  /** Any answer from Nova: a token was issued and the compute API answered. */
  answered(host: string): void {
    this.outages.clear();
    this.waiting.delete(host);
  }

  done(host: string): void {
    this.waiting.delete(host);
    if (this.waiting.size === 0) this.outages.clear();
  }

  alarms(): ReachabilityAlarm[] {
    const hosts = [...this.waiting].sort().join(', ') || 'a host';
    const out: ReachabilityAlarm[] = [];
    for (const [svc, o] of this.outages) {
      const since = new Date(o.sinceMs).toISOString();
      const what = svc === 'keystone' ? 'Keystone (token) unreachable' : 'compute API unreachable';
      out.push({
        kind: svc === 'keystone' ? 'keystone_unreachable' : 'compute_api_unreachable',
        since,
        message:
          `recovering — ${what} since ${since} (${o.failures} failed call(s), last: ${o.lastError}); recovery of ${hosts} ` +
          `waits and retries every ${UNREACHABLE_RETRY_MIN_MS / 1000}–${UNREACHABLE_RETRY_MAX_MS / 1000} s`,
      });
    }
    return out;
  }
}
