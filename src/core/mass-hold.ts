import type { ClusterEvent, HostId } from './events.js';
import type { Effect } from './effects.js';
import { massVerdict, type MassGuardSettings } from './guard.js';

/** The hosts the guard holds: none of them is declared until an operator acknowledges or they return. */
export interface MassHold {
  sinceMs: number;
  hosts: HostId[];
  limit: string;
}

/** What the coordinator knows about the hosts at one decide, as the guard needs it. */
export interface GuardView {
  /** Undecided hosts (not in maintenance) that a quorum sees suspect or dead now. */
  failing: readonly HostId[];
  /** Those of `failing` that are quorum-dead and stable: the ones the coordinator would declare now. */
  ready: readonly HostId[];
  /** Hosts under watch (not in maintenance). */
  watched: number;
  /** A quorum hears it up again: fresh heartbeats, whatever its boot id. */
  returned(host: HostId): boolean;
  inMaintenance(host: HostId): boolean;
  /** It carries a decision whose incident is still in progress (failed, fencing, fence_failed, fenced, recovering). */
  inProgress(host: HostId): boolean;
}

export type AckResult = { ok: true; released: HostId[]; stillHeld: HostId[] } | { ok: false; reason: string };

/**
 * The mass-failure guard's state in the coordinator (docs/operations.md "The mass-failure guard").
 *
 * It counts the hosts failing NOW: those a quorum sees suspect or dead and not yet declared, plus the
 * incidents declared within the window that are still in progress. A finished incident (recovered:
 * powered off and evacuated; or returned to service) is not a failure in progress and does not count;
 * a host fenced and still being evacuated does, like one whose fence failed (it may well be alive).
 *
 * Once held, time never releases a host: only an operator's acknowledgement (which releases exactly
 * the hosts held when it was given) or the host itself returning (a quorum hears it up) takes it out
 * of the hold, and a host failing during the hold joins it. A host released by an ack is declared
 * when it is ready, whatever the guard says; every other failure is judged afresh.
 */
export class MassGuard {
  hold: MassHold | null = null;
  /** Declared hosts and when, for the window; a host leaves once its incident is over. */
  private readonly declaredAt = new Map<HostId, number>();
  /** Hosts an operator released from a hold, until they are declared or stop failing. */
  private readonly released = new Map<HostId, string>();
  /** Hosts that left the current hold by coming back, for the event that ends it. */
  private returnedDuringHold: HostId[] = [];

  constructor(private readonly settings: MassGuardSettings) {}

  declared(host: HostId, atMs: number): void {
    this.declaredAt.set(host, atMs);
  }

  /** A new coordinator counts each decision it took over from when it was made, or now if that is later (clock skew). */
  takeOver(decisions: ReadonlyArray<{ host: HostId; sinceMs: number }>, now: number): void {
    this.declaredAt.clear();
    for (const d of decisions) this.declaredAt.set(d.host, Math.min(d.sinceMs, now));
  }

  /** No longer coordinator: a hold and any release are this coordinator's; a successor judges afresh. */
  reset(): void {
    this.hold = null;
    this.released.clear();
    this.returnedDuringHold = [];
  }

  /** A host forgotten by the operator leaves every list (a later beat brings it back as a new host). */
  forget(host: HostId): void {
    this.declaredAt.delete(host);
    this.released.delete(host);
    if (this.hold) this.hold.hosts = this.hold.hosts.filter((h) => h !== host);
  }

  /** Which of `view.ready` may be declared now; raises, updates or ends the hold. */
  judge(now: number, view: GuardView, out: Effect[]): HostId[] {
    const failing = new Set(view.failing);
    // A released host that stopped failing (it came back, or was declared) is released no more.
    for (const h of this.released.keys()) if (!failing.has(h)) this.released.delete(h);
    const releasedReady = view.ready.filter((h) => this.released.has(h));
    const judged = view.failing.filter((h) => !this.released.has(h));

    if (this.hold) {
      this.reviewHold(now, view, judged, out);
      return releasedReady;
    }
    if (!view.ready.some((h) => !this.released.has(h))) return releasedReady;

    const windowStart = now - this.settings.windowMs;
    for (const [h, at] of this.declaredAt) if (at < windowStart || !view.inProgress(h)) this.declaredAt.delete(h);
    const verdict = massVerdict(this.declaredAt.size + failing.size, view.watched, this.settings, this.declaredAt.size);
    if (!verdict.hold) return [...view.ready];
    this.hold = { sinceMs: now, hosts: judged, limit: verdict.limit };
    this.returnedDuringHold = [];
    emit(out, { type: 'cluster.mass_failure', at: now, hosts: judged, limit: verdict.limit });
    out.push({
      type: 'log',
      level: 'error',
      msg: 'mass failure: declaring none of these hosts failed; waiting for the operator (instance-ha ack-mass-failure)',
      fields: { hosts: judged, limit: verdict.limit },
    });
    return releasedReady;
  }

  /**
   * An operator's acknowledgement. It releases the held hosts it names (all held hosts when it names
   * none) that are still held; with nothing held, or none of the named hosts held, it is refused and
   * changes nothing (an ack is never a blanket permission for failures still to come).
   */
  acknowledge(now: number, by: string, hosts: readonly HostId[] | undefined, out: Effect[]): AckResult {
    const hold = this.hold;
    if (!hold || hold.hosts.length === 0) {
      out.push({ type: 'log', level: 'warn', msg: 'mass-failure acknowledgement refused: nothing is held', fields: { by } });
      return { ok: false, reason: 'nothing is held by the mass-failure guard' };
    }
    const asked = hosts ? new Set(hosts) : null;
    const released = hold.hosts.filter((h) => !asked || asked.has(h));
    if (released.length === 0) {
      out.push({
        type: 'log',
        level: 'warn',
        msg: 'mass-failure acknowledgement refused: none of its hosts is held',
        fields: { by, hosts },
      });
      return { ok: false, reason: `none of ${[...(hosts ?? [])].join(', ')} is held; held now: ${hold.hosts.join(', ')}` };
    }
    for (const h of released) this.released.set(h, by);
    const stillHeld = hold.hosts.filter((h) => !this.released.has(h));
    out.push({
      type: 'log',
      level: 'warn',
      msg: 'mass failure acknowledged by operator: released hosts will be declared',
      fields: { by, hosts: released, stillHeld },
    });
    emit(out, { type: 'cluster.mass_failure_cleared', at: now, how: 'acknowledged', hosts: released, by });
    if (stillHeld.length > 0) hold.hosts = stillHeld;
    else this.hold = null;
    return { ok: true, released, stillHeld };
  }

  private reviewHold(now: number, view: GuardView, judged: readonly HostId[], out: Effect[]): void {
    const hold = this.hold!;
    const keep: HostId[] = [];
    for (const h of hold.hosts) {
      if (view.inMaintenance(h)) {
        out.push({ type: 'log', level: 'info', msg: 'held host put in maintenance: no longer held', fields: { host: h } });
      } else if (view.returned(h)) {
        this.returnedDuringHold.push(h);
        out.push({ type: 'log', level: 'info', msg: 'held host heard again: no longer held', fields: { host: h } });
      } else {
        keep.push(h);
      }
    }
    // A set, not keep.includes: with 10,000 hosts held this runs every tick (10^8 compares otherwise).
    const kept = new Set(keep);
    const joined = judged.filter((h) => !kept.has(h));
    if (joined.length > 0) {
      out.push({ type: 'log', level: 'warn', msg: 'more hosts failing during a mass-failure hold: held too', fields: { hosts: joined } });
    }
    hold.hosts = [...keep, ...joined];
    if (hold.hosts.length > 0) return;
    const returned = this.returnedDuringHold;
    emit(out, {
      type: 'cluster.mass_failure_cleared',
      at: now,
      how: returned.length > 0 ? 'hosts_returned' : 'maintenance',
      hosts: returned,
    });
    this.hold = null;
  }
}

function emit(out: Effect[], event: ClusterEvent): void {
  out.push({ type: 'emit', event });
}
