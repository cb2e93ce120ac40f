import type { ClusterEvent, HostId } from './events.js';
import type { ComputeDownMark, Effect } from './effects.js';

export type { ComputeDownMark };

export interface ComputeDownSettings {
  enabled: boolean;
  /** How long a live host must report nova-compute down, without a break, before its service is disabled. */
  graceMs: number;
  /** How long nova-compute must be back, without a break, before a service we disabled is enabled again. */
  quietPeriodMs: number;
  /** Backoff after a failed disable or enable: base doubling up to max. */
  retryBaseMs: number;
  retryMaxMs: number;
  /**
   * At most this fraction of the watched hosts (at least one host) is disabled by this rule at once:
   * a health check that is wrong everywhere (a slip in the beacons' config) must not take every
   * compute out of scheduling. Past it, hosts are held (not disabled) with an alarm.
   */
  maxFraction: number;
}

export const DEFAULT_COMPUTE_DOWN: ComputeDownSettings = {
  enabled: true,
  graceMs: 30_000,
  quietPeriodMs: 60_000,
  retryBaseMs: 5_000,
  retryMaxMs: 300_000,
  maxFraction: 0.5,
};

/**
 * The start of every disabled_reason instance-ha writes for this rule. The edge enables a service
 * again only while its reason still starts with it: an operator who disabled it (or re-disabled it
 * with a reason of their own since) keeps their disable.
 */
export const COMPUTE_DOWN_REASON_PREFIX = 'instance-ha: nova-compute down on a live host since ';

export function computeDownReason(sinceIso: string): string {
  return COMPUTE_DOWN_REASON_PREFIX + sinceIso;
}

/** What the rule needs to know of a host now. */
export interface ComputeView {
  /** Heard, judged up by this monitor's own detector, no cluster decision, not in maintenance. */
  live: boolean;
  novaCompute: 'up' | 'down' | 'unknown';
}

interface Watch {
  downSince: number | null;
  upSince: number | null;
  mark: ComputeDownMark | null;
  running: 'disable' | 'enable' | null;
  announced: boolean;
  failures: number;
  retryAt: number;
  lastError: string | null;
  failedAction: 'disable' | 'enable' | null;
}

/**
 * The rule for a dead nova-compute on a live host: a reversible, non-destructive disable, never a
 * fence and never an evacuation. A host that says (in its own authenticated heartbeats, fresh by this
 * monitor's detector) that its nova-compute is down for longer than the grace gets its compute
 * service disabled so nothing new is scheduled there; once nova-compute has been back for the quiet
 * period the service is enabled again, only if we disabled it. Every monitor keeps the watch (so a
 * successor coordinator knows what to undo); only the acting coordinator asks the edges.
 *
 * No quorum of monitors is asked for: the evidence is the host's own report, not a silence a broken
 * link could fake, and the action is undone by the same rule. The coordinator itself acts only while
 * it holds a quorum. A host that turns suspect or dead leaves this rule for the host-failure path.
 */
export class ComputeDown {
  private readonly watches = new Map<HostId, Watch>();
  /** Bumped when a mark changes: the core persists on change. */
  version = 0;
  /** Hosts past the grace but not marked because the limit was reached (as of the last review). */
  held: HostId[] = [];
  private limit = 1;
  private markCount = 0;

  constructor(private readonly s: ComputeDownSettings) {}

  restore(marks: readonly ComputeDownMark[]): void {
    for (const m of marks) this.watch(m.host).mark = { ...m };
  }

  marks(): ComputeDownMark[] {
    const out: ComputeDownMark[] = [];
    for (const w of this.watches.values()) if (w.mark) out.push({ ...w.mark });
    return out.sort((a, b) => a.host.localeCompare(b.host));
  }

  mark(host: HostId): ComputeDownMark | null {
    return this.watches.get(host)?.mark ?? null;
  }

  /** Hosts whose disable or enable keeps failing (for the status alarms). */
  failures(): Array<{ host: HostId; action: 'disable' | 'enable'; count: number; error: string }> {
    const out = [];
    for (const [host, w] of this.watches)
      if (w.failedAction && w.failures > 0) out.push({ host, action: w.failedAction, count: w.failures, error: w.lastError ?? '' });
    return out;
  }

  /**
   * One pass over the hosts that need it: those reporting nova-compute not up, and those marked.
   * `view` is undefined for a host no longer tracked.
   */
  review(
    now: number,
    acting: boolean,
    watched: number,
    candidates: Iterable<HostId>,
    view: (h: HostId) => ComputeView | undefined,
    out: Effect[],
  ): void {
    const hosts = new Set(candidates);
    for (const h of this.watches.keys()) hosts.add(h);
    this.limit = Math.max(1, Math.floor(this.s.maxFraction * watched));
    this.markCount = 0;
    // Hosts whose nova-compute is back (waiting out the quiet period) do not count against the limit.
    for (const w of this.watches.values()) if (w.mark && w.upSince === null) this.markCount++;
    const wasHeld = this.held.length;
    this.held = [];
    for (const host of hosts) this.reviewHost(host, now, acting, view(host), out);
    if (this.held.length > 0 && wasHeld === 0)
      log(out, 'warn', 'nova-compute down on more hosts than compute_down.max_fraction allows: the rest are not disabled', {
        held: this.held.slice(0, 20),
        limit: this.limit,
      });
  }

  private reviewHost(host: HostId, now: number, acting: boolean, v: ComputeView | undefined, out: Effect[]): void {
    let w = this.watches.get(host);
    if (!v) {
      if (w && !w.mark) this.watches.delete(host);
      return;
    }
    if (!v.live || v.novaCompute === 'unknown') {
      // Not ours to judge now (the host-failure path, maintenance) or no verdict: start again later.
      if (w) {
        w.downSince = null;
        w.upSince = null;
        if (!w.mark && !w.running) this.watches.delete(host);
      }
      return;
    }
    if (v.novaCompute === 'down') {
      if (!this.s.enabled && !w?.mark) return;
      w ??= this.watch(host);
      w.downSince ??= now;
      w.upSince = null;
      if (!w.mark && now - w.downSince > this.s.graceMs) {
        if (this.markCount >= this.limit) {
          this.held.push(host);
          return;
        }
        w.mark = { host, sinceMs: w.downSince, service: 'pending' };
        this.markCount++;
        this.version++;
      }
      if (!acting || !w.mark || w.mark.service !== 'pending' || w.running || now < w.retryAt) return;
      if (!w.announced) {
        w.announced = true;
        this.emit(out, { type: 'host.compute_down', at: now, host, sinceMs: w.mark.sinceMs, downForMs: now - w.mark.sinceMs });
        log(out, 'warn', 'nova-compute down on a live host past the grace: disabling its compute service (no fence, no evacuation)', {
          host,
          downForMs: now - w.mark.sinceMs,
          graceMs: this.s.graceMs,
        });
      }
      w.running = 'disable';
      out.push({ type: 'disable_compute', host, sinceMs: w.mark.sinceMs });
      return;
    }
    // nova-compute up
    if (!w) return;
    w.downSince = null;
    if (!w.mark) {
      if (!w.running) this.watches.delete(host);
      return;
    }
    w.upSince ??= now;
    if (!acting && !w.running && now - w.upSince >= 2 * this.s.quietPeriodMs) {
      // A monitor that does not act forgets the episode a quiet period after the coordinator should
      // have ended it; until then it stays ready to enable the service itself if it takes over.
      this.watches.delete(host);
      this.version++;
      return;
    }
    if (!acting || w.running || now < w.retryAt || now - w.upSince < this.s.quietPeriodMs) return;
    if (w.mark.service === 'already_disabled') {
      // Someone else's disable: not ours to lift. The episode is over.
      this.finish(host, w, now, false, 'the service was disabled by someone else: left disabled', out);
      return;
    }
    w.running = 'enable';
    log(out, 'info', 'nova-compute back for the quiet period: enabling the compute service instance-ha disabled', {
      host,
      quietPeriodMs: this.s.quietPeriodMs,
    });
    out.push({ type: 'enable_compute', host });
  }

  /** The disable finished: `already` when the service was found disabled by someone else (left as it was). */
  disabled(host: HostId, now: number, r: { ok: true; already: boolean } | { ok: false; reason: string }, out: Effect[]): void {
    const w = this.watches.get(host);
    if (!w || w.running !== 'disable') return;
    w.running = null;
    if (!r.ok) return this.failed(w, host, 'disable', r.reason, now, out);
    this.succeeded(w);
    if (w.mark) {
      w.mark.service = r.already ? 'already_disabled' : 'disabled';
      this.version++;
    }
    log(out, 'info', r.already ? 'compute service already disabled by someone else: left as it is' : 'compute service disabled', { host });
  }

  /** The enable finished: `enabled` false when the edge left it (not ours any more, or already enabled). */
  enableDone(
    host: HostId,
    now: number,
    r: { ok: true; enabled: boolean; note: string } | { ok: false; reason: string },
    out: Effect[],
  ): void {
    const w = this.watches.get(host);
    if (!w || w.running !== 'enable') return;
    w.running = null;
    if (!r.ok) return this.failed(w, host, 'enable', r.reason, now, out);
    this.succeeded(w);
    this.finish(host, w, now, r.enabled, r.note, out);
  }

  /** A forgotten host leaves every watch. */
  forget(host: HostId): void {
    if (this.watches.get(host)?.mark) this.version++;
    this.watches.delete(host);
  }

  /** This monitor stopped acting: what was running is no longer awaited; a successor announces afresh. */
  reset(): void {
    for (const w of this.watches.values()) {
      w.running = null;
      w.announced = false;
    }
  }

  private finish(host: HostId, w: Watch, now: number, serviceEnabled: boolean, note: string, out: Effect[]): void {
    const sinceMs = w.mark?.sinceMs ?? now;
    this.watches.delete(host);
    this.version++;
    this.emit(out, { type: 'host.compute_up', at: now, host, downForMs: now - sinceMs, serviceEnabled, note });
  }

  private failed(w: Watch, host: HostId, action: 'disable' | 'enable', reason: string, now: number, out: Effect[]): void {
    w.failures++;
    w.failedAction = action;
    w.lastError = reason;
    const retryInMs = Math.min(this.s.retryMaxMs, this.s.retryBaseMs * 2 ** Math.min(w.failures - 1, 20));
    w.retryAt = now + retryInMs;
    log(out, 'warn', `could not ${action} the compute service; retrying`, { host, reason, failures: w.failures, retryInMs });
  }

  private succeeded(w: Watch): void {
    w.failures = 0;
    w.failedAction = null;
    w.lastError = null;
    w.retryAt = 0;
  }

  private watch(host: HostId): Watch {
    let w = this.watches.get(host);
    if (!w) {
      w = {
        downSince: null,
        upSince: null,
        mark: null,
        running: null,
        announced: false,
        failures: 0,
        retryAt: 0,
        lastError: null,
        failedAction: null,
      };
      this.watches.set(host, w);
    }
    return w;
  }

  private emit(out: Effect[], event: ClusterEvent): void {
    out.push({ type: 'emit', event });
  }
}

function log(out: Effect[], level: 'info' | 'warn', msg: string, fields: Record<string, unknown>): void {
  out.push({ type: 'log', level, msg, fields });
}
