import type { HostId } from '../core/events.js';
import type { PowerReading } from '../core/ports.js';
import type { Alarm, StatusSnapshot } from '../core/status-snapshot.js';

/**
 * The early power checks' outcomes, for status and metrics (core/power-checks.ts decides when to ask;
 * this only keeps score). A check that could not read a silent host's fence devices is the first sign
 * its fence will fail the same way, and the host may come back before anyone fences it: so it is an
 * alarm, never only a log line. The alarm names the most recent such host and lasts an hour after it,
 * unless a later check reads that host, a fence of it succeeds (its devices answer after all) or it
 * is forgotten (decommissioned).
 */
export const POWER_CHECK_ALARM_MS = 3_600_000;

/** The devices' readings kept for the alarm: one per first-level device, each error cut short. */
const DETAIL_MAX_CHARS = 500;

type Counts = NonNullable<StatusSnapshot['counters']['powerChecks']>;

export class PowerCheckRecord {
  private readonly counts: Counts = { off: 0, on: 0, unread: 0 };
  private lastUnread: { host: HostId; at: number; wallAt: number; detail: string } | null = null;

  /** One check's answer; `now` monotonic, `wallNow` for the alarm's `since`. */
  note(host: HostId, r: PowerReading, now: number, wallNow: number): void {
    if (!r.read) {
      this.counts.unread++;
      const detail = r.detail.length > DETAIL_MAX_CHARS ? `${r.detail.slice(0, DETAIL_MAX_CHARS)}…` : r.detail;
      this.lastUnread = { host, at: now, wallAt: wallNow, detail };
      return;
    }
    this.counts[r.off ? 'off' : 'on']++;
    this.clear(host);
  }

  /** Its devices answered (a fence, a later check), or it is forgotten: the alarm about it is over. */
  clear(host: HostId): void {
    if (this.lastUnread?.host === host) this.lastUnread = null;
  }

  snapshot(): Counts {
    return { ...this.counts };
  }

  alarms(now: number): Alarm[] {
    const u = this.lastUnread;
    if (!u || now - u.at >= POWER_CHECK_ALARM_MS) return [];
    const others = this.counts.unread > 1 ? ` (${this.counts.unread} unread checks since start)` : '';
    return [
      {
        kind: 'power_check_failed',
        message:
          `could not read the power state of silent host ${u.host}: ${u.detail}${others}; ` +
          `its fence may fail the same way: check its fence devices (instance-ha fence ${u.host} --config FILE --action status)`,
        since: new Date(u.wallAt).toISOString(),
      },
    ];
  }
}
