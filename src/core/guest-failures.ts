import type { ClusterEvent, HostId } from './events.js';
import type { Effect } from './effects.js';

/** A guest event as a beacon reports it (wire kind 7), after authentication under its host's own key. */
export interface GuestEventBeat {
  host: HostId;
  bootId: string;
  /** The beacon's guest-event number (per boot id): repeats of one event carry the same. */
  seq: number;
  sentAtMs: number;
  /** libvirt's time of the event (wall clock, ms since the epoch). */
  atMs: number;
  /** The Nova instance UUID (the libvirt domain's UUID). */
  instance: string;
  /** The guest stayed down (crashed, failed, paused, powered off): a restart candidate. */
  down: boolean;
  /** Events the beacon's rate limit left out before this one. */
  dropped: number;
  event: string;
  action: string;
  detail: string;
  domain: string;
}

export interface GuestRestartSettings {
  /** Restart tagged servers whose guest crashed and stayed down; off: notify only. */
  enabled: boolean;
  /** At most this many restarts of one server in `windowMs`; past it, only notifications. */
  maxRestarts: number;
  windowMs: number;
  /** One restart covers the events of one failure (a watchdog `pause` is also a `Suspended Watchdog`). */
  settleMs: number;
  /** Guest events taken from one host per minute at most: a storm from one host cannot fill the journal. */
  maxEventsPerHostPerMinute: number;
}

export const DEFAULT_GUEST_RESTART: GuestRestartSettings = {
  enabled: true,
  maxRestarts: 3,
  windowMs: 3_600_000,
  settleMs: 30_000,
  maxEventsPerHostPerMinute: 60,
};

/** What the coordinator does about one guest failure (the `recovery` field of guest_failed). */
export type GuestRecovery =
  | 'restart' // a hard reboot is asked of Nova (for a server tagged automatic-recovery)
  | 'none' // the guest did not stay down (its watchdog reset it, or the event is notify-only)
  | 'disabled' // guest_restart.enabled is off
  | 'budget_exhausted' // maxRestarts in the window already: notify only, the crash loop stays visible
  | 'already_restarting' // a restart for the same failure is in flight or just done
  | 'host_not_live'; // the host is suspect, failed or being recovered: the host-failure path owns its servers

/** How a restart ended at the compute API edge. */
export type GuestRestartOutcome =
  | 'restarted'
  | 'not_tagged'
  | 'not_on_host'
  | 'gone'
  | 'failed'
  // Nova's action history shows max_restarts reboots in the window (an earlier coordinator's): not restarted.
  | 'budget_exhausted';

/**
 * One guest failure as the coordinator took it: what the host reported (`eventAtMs`: libvirt's time)
 * and what it decided. The instance.guest_failed event and the status record are both this.
 */
export interface GuestFailure {
  at: number;
  host: HostId;
  instance: string;
  domain: string;
  event: string;
  detail: string;
  action: string;
  eventAtMs: number;
  recovery: GuestRecovery;
}

/** A failure kept for status; a restart's end is added to it when the compute API answers. */
export interface GuestFailureRecord extends GuestFailure {
  outcome?: GuestRestartOutcome;
  reason?: string;
}

/** Bounds on what the rule remembers. */
const SEEN_PER_HOST = 64;
const MAX_HOSTS_SEEN = 20_000;
const RECENT = 50;
const MAX_SERVERS = 10_000;

interface Seen {
  bootId: string;
  seqs: number[];
  windowStart: number;
  inWindow: number;
}

/**
 * A guest OS failure inside a live host. Every failure the host reports about its own guests becomes
 * `instance.guest_failed`; a guest that crashed and stayed down (not reset by its own watchdog action)
 * is restarted through Nova, if its server is tagged `automatic-recovery` (the edge checks the tag and
 * that the server is on the reporting host), at most `maxRestarts` times per server in `windowMs`, so
 * a crash loop turns into notifications, not a hidden loop. Only the acting coordinator notifies and
 * restarts; every monitor keeps the record for status. The host is never fenced for this.
 */
export class GuestFailures {
  private readonly seen = new Map<HostId, Seen>();
  private readonly restarts = new Map<string, number[]>();
  private readonly inflight = new Map<string, number>();
  private readonly lastRestartAt = new Map<string, number>();
  readonly recent: GuestFailureRecord[] = [];
  readonly counts = { failures: 0, restarted: 0, restartFailed: 0, budgetExhausted: 0, droppedByBeacons: 0, droppedHere: 0 };
  /** The last failed restart and the last exhausted budget (status alarms). */
  lastRestartFailure: GuestFailureRecord | null = null;
  lastBudgetExhausted: GuestFailureRecord | null = null;

  constructor(private readonly s: GuestRestartSettings) {}

  /** Hosts whose libvirt watch is not running, as they last said (event `watch`), and when. */
  readonly watchDown = new Map<HostId, { why: string; at: number }>();

  /** `hostLive`: the reporting host is up here with no failure decision (a restart would race its evacuation otherwise). */
  onEvent(g: GuestEventBeat, now: number, acting: boolean, out: Effect[], hostLive = true): void {
    if (!this.fresh(g, now)) return;
    if (g.event === 'watch') {
      // Not a guest failure: the host's own watch stopped (or runs again), so failures there go unseen.
      const was = this.watchDown.has(g.host);
      if (g.down) this.watchDown.set(g.host, { why: g.detail, at: now });
      else this.watchDown.delete(g.host);
      if (was !== g.down && acting)
        log(
          out,
          g.down ? 'warn' : 'info',
          g.down ? 'a host cannot watch its guests: libvirt event watch stopped' : 'guest watch running again',
          {
            host: g.host,
            why: g.detail,
          },
        );
      if (this.watchDown.size > MAX_HOSTS_SEEN) this.watchDown.clear();
      return;
    }
    this.counts.droppedByBeacons += g.dropped;
    this.counts.failures++;
    const rec: GuestFailureRecord = {
      at: now,
      host: g.host,
      instance: g.instance,
      domain: g.domain,
      event: g.event,
      detail: g.detail,
      action: g.action,
      eventAtMs: g.atMs,
      recovery: !acting ? 'none' : g.down && !hostLive ? 'host_not_live' : this.recoveryFor(g, now),
    };
    this.remember(rec);
    if (!acting) return;
    const restartsInWindow = this.inWindow(g.instance, now).length;
    // A copy of the record as it is now (no restart outcome yet): the record changes later, the event never.
    this.emit(out, { type: 'instance.guest_failed', ...rec, restartsInWindow });
    if (g.dropped > 0)
      log(out, 'warn', 'a host left guest events out (its rate limit): some guest failures were not reported', {
        host: g.host,
        dropped: g.dropped,
      });
    if (rec.recovery === 'budget_exhausted') {
      this.counts.budgetExhausted++;
      this.lastBudgetExhausted = rec;
      log(out, 'warn', 'guest crashed again past its restart budget: notified only', {
        host: g.host,
        instance: g.instance,
        maxRestarts: this.s.maxRestarts,
        windowMs: this.s.windowMs,
      });
    }
    if (rec.recovery !== 'restart') return;
    if (this.inflight.size >= MAX_SERVERS) return;
    this.inflight.set(g.instance, now);
    log(out, 'warn', 'guest crashed and stayed down: restarting its server through Nova (hard reboot, if tagged)', {
      host: g.host,
      instance: g.instance,
      event: g.event,
      detail: g.detail,
    });
    out.push({ type: 'restart_guest', host: g.host, instance: g.instance });
  }

  restartDone(host: HostId, instance: string, outcome: GuestRestartOutcome, reason: string, now: number, out: Effect[]): void {
    if (!this.inflight.delete(instance)) return;
    if (outcome === 'restarted') {
      this.counts.restarted++;
      const times = this.inWindow(instance, now);
      times.push(now);
      if (this.restarts.size >= MAX_SERVERS && !this.restarts.has(instance)) this.prune(now);
      this.restarts.set(instance, times);
      this.lastRestartAt.set(instance, now);
    } else if (outcome === 'failed') {
      this.counts.restartFailed++;
    } else if (outcome === 'budget_exhausted') {
      // Nova's record, not ours, says the budget is spent: count it spent here for a whole window
      // from now (later than Nova's restarts free it: the cautious side), so the next crash of this
      // server is notified only without asking Nova again.
      this.counts.budgetExhausted++;
      if (this.restarts.size >= MAX_SERVERS && !this.restarts.has(instance)) this.prune(now);
      this.restarts.set(
        instance,
        Array.from({ length: this.s.maxRestarts }, () => now),
      );
    }
    const rec = [...this.recent].reverse().find((r) => r.instance === instance && r.recovery === 'restart' && !r.outcome);
    if (rec) {
      rec.outcome = outcome;
      rec.reason = reason;
      if (outcome === 'failed') this.lastRestartFailure = rec;
      if (outcome === 'budget_exhausted') this.lastBudgetExhausted = rec;
    }
    this.emit(out, { type: 'instance.guest_restarted', at: now, host, instance, outcome, reason });
    log(out, outcome === 'failed' ? 'warn' : 'info', `guest restart: ${outcome}`, { host, instance, reason });
  }

  /** This monitor stopped acting: restarts in flight are not awaited any more. */
  reset(): void {
    this.inflight.clear();
  }

  private recoveryFor(g: GuestEventBeat, now: number): GuestRecovery {
    if (!g.down) return 'none';
    if (!this.s.enabled) return 'disabled';
    const last = this.lastRestartAt.get(g.instance);
    if (this.inflight.has(g.instance) || (last !== undefined && now - last < this.s.settleMs)) return 'already_restarting';
    if (this.inWindow(g.instance, now).length >= this.s.maxRestarts) return 'budget_exhausted';
    return 'restart';
  }

  /** Not a repeat of an event already taken, and within the host's rate. */
  private fresh(g: GuestEventBeat, now: number): boolean {
    let s = this.seen.get(g.host);
    if (!s || s.bootId !== g.bootId) {
      if (!s && this.seen.size >= MAX_HOSTS_SEEN) this.seen.clear();
      s = { bootId: g.bootId, seqs: [], windowStart: now, inWindow: 0 };
      this.seen.set(g.host, s);
    }
    if (s.seqs.includes(g.seq)) return false;
    s.seqs.push(g.seq);
    if (s.seqs.length > SEEN_PER_HOST) s.seqs.shift();
    if (now - s.windowStart >= 60_000) {
      s.windowStart = now;
      s.inWindow = 0;
    }
    if (++s.inWindow > this.s.maxEventsPerHostPerMinute) {
      this.counts.droppedHere++;
      return false;
    }
    return true;
  }

  private inWindow(instance: string, now: number): number[] {
    return (this.restarts.get(instance) ?? []).filter((t) => now - t < this.s.windowMs);
  }

  private prune(now: number): void {
    for (const [id, times] of this.restarts) if (!times.some((t) => now - t < this.s.windowMs)) this.restarts.delete(id);
    for (const [id, t] of this.lastRestartAt) if (now - t >= this.s.settleMs) this.lastRestartAt.delete(id);
  }

  private remember(rec: GuestFailureRecord): void {
    this.recent.push(rec);
    if (this.recent.length > RECENT) this.recent.shift();
  }

  private emit(out: Effect[], event: ClusterEvent): void {
    out.push({ type: 'emit', event });
  }
}

function log(out: Effect[], level: 'info' | 'warn', msg: string, fields: Record<string, unknown>): void {
  out.push({ type: 'log', level, msg, fields });
}
