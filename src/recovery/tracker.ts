import type { MigrationPhase, MigrationView, ServerView } from '../core/evacuation-step.js';
import type { Logger } from '../log.js';
import type { ComputeClient } from '../openstack/compute.js';
import { FAILED_MIGRATION, IN_FLIGHT_MIGRATION, SUCCEEDED_MIGRATION, type Migration, type Server } from '../openstack/types.js';
import { INCIDENT_CLOCK_MARGIN_MS } from './incident.js';

export type TrackerCompute = Pick<ComputeClient, 'listChangedServers' | 'listMigrations' | 'getServer'>;

/** One look at Nova for one server, as the evacuation step reads it (src/core/evacuation-step.ts). */
export interface TrackedView {
  /** undefined: no listing has shown this server yet (the step then asks again); null: deleted. */
  server: ServerView | null | undefined;
  migrations: MigrationView[];
}

export interface TrackingCadence {
  /** Right after an evacuate is accepted, and while the listings show changes. */
  fastMs: number;
  /** The slowest cadence, reached by doubling while nothing changes (recovery.poll_interval). */
  slowMs: number;
  /** Least time between the starts of two polls, whatever asks for one (a burst of Nova notifications). */
  minGapMs: number;
}

export interface TrackerDeps {
  compute: TrackerCompute;
  log: Logger;
  cadence: TrackingCadence;
  now?: () => number;
}

/**
 * Bounds: tracked servers (all recoveries of this monitor), direct reads of never-listed servers per
 * poll, and the extra polls one kick may bring while a server sits between Nova's rebuild end and its
 * host change (each min_poll_gap after the last: 0.8 s in all at 100 ms, since Nova moves the host
 * only once it holds the destination's resource lock, which the next server's claim may hold), and
 * the servers a kicked poll reads one by one instead of listing (more than that, it lists).
 */
export const TRACKER_LIMITS = { maxTracked: 100_000, directReadsPerPoll: 8, followUpsPerKick: 8, directKickReads: 2 };
/**
 * Nova's notifications count as flowing this long after the last one about a tracked server: polls
 * no kick asks for then come at the slow cadence (a kick brings the poll an end needs). Longer than
 * most rebuilds, which are silent between their start and their end.
 */
export const NOTIFICATIONS_FLOWING_MS = 30_000;
/** Nova writes updated_at inside its transaction: re-read a little behind the newest time seen (seconds-precise times). */
const CURSOR_MARGIN_MS = 2_000;

interface Tracked {
  sourceHost: string;
  sinceMs: number;
  /** Polls since the server was last seen in a listing (a never-listed one is read directly). */
  unseenPolls: number;
  view: ServerView | null | undefined;
  migrations: Map<number, MigrationView>;
  /** Bumped on every change of the view or a migration: a waiter wakes when it moved. */
  version: number;
  /** The version its observer was last shown: a change it has not seen wakes it at once. */
  delivered: number;
  /** Someone has asked for this server's view (before that, not being listed is no sign of anything). */
  observed: boolean;
  /** The listings may be missing a migration of this server: shown as not read until a direct read fills it in. */
  incomplete: boolean;
}

interface Waiter {
  id: string;
  /** When the waiter came (our clock). */
  since: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Tracks every evacuating server of every recovery with a few listing calls per poll instead of
 * one GET per server (issue #12): each poll is
 *   GET /servers/detail?all_tenants=1&changes-since=<cursor>     (api-ref "List Servers Detailed")
 *   GET /os-migrations?migration_type=evacuation&changes-since=… (api-ref "List Migrations", ≥2.59;
 *       https://docs.openstack.org/api-ref/compute/#list-migrations — below 2.59 the whole list,
 *       filtered here)
 * whatever the number of servers, and the views are cached per server. Polling stays the
 * authority: a server is done only when a listing shows it ACTIVE on another host (the step
 * decides that); a Nova notification only asks for the next poll sooner (kick).
 *
 * Cadence: fast right after an evacuate is accepted and while polls show changes; after two quiet
 * polls in a row, doubling per quiet poll up to the slow interval; never two polls closer than minGapMs. Polls run only while someone waits.
 *
 * A kicked poll lists the servers alone (one call), unless the migrations were last listed fastMs or
 * more ago: a server with no task on another host is evacuated whatever its migration last showed
 * (rule 4 of src/core/evacuation-step.ts), so notifications buy a shorter lag, not twice the calls.
 * Nova sends instance.rebuild.end before it moves the server's host (nova/compute/manager.py
 * rebuild_instance → resource_tracker.finish_evacuation), so a kicked poll that finds a server rebuilt
 * but still on its source host asks for another one a gap later, a few times at most.
 *
 * While Nova's notifications about tracked servers flow (one within NOTIFICATIONS_FLOWING_MS), the
 * polls no kick asks for come at the slow cadence: every end of an evacuation (rebuild.end, .error,
 * an instance.update with no task, a conductor's NoValidHost included) brings its kick, and the fast
 * cadence would only load nova-api in the hour it is busiest (on the 2-core harness cloud, 250 ms
 * polls made Nova's own rebuilds 0.4–0.8 s slower). Without notifications, the fast cadence as above.
 */
export class EvacuationTracker {
  private readonly tracked = new Map<string, Tracked>();
  private waiting: Waiter[] = [];
  private running = false;
  private timer: NodeJS.Timeout | null = null;
  private timerDue = 0;
  private lastStart = -Infinity;
  private intervalMs: number;
  private kicked = false;
  /**
   * The servers the kicks since the last poll were about; `null` when one named none (list them all).
   * Emptied as each poll starts; at most the tracked servers (kicks come only for those).
   */
  private kickedIds: Set<string> | null = new Set();
  /** Polls a kick brought after its first one (a server between its rebuild end and its host change). */
  private followUps = 0;
  private lastFullStart = -Infinity;
  /** When the last Nova notification about a tracked server came (our clock). */
  private lastHeard = -Infinity;
  private quietPolls = 0;
  private serverCursor: number | null = null;
  private migrationCursor: number | null = null;
  private readonly now: () => number;
  /** Polls and calls made, for tests, benches and metrics. */
  readonly counters = { polls: 0, serverOnlyPolls: 0, calls: 0, directReads: 0, kickedReads: 0, kicks: 0, heard: 0 };

  constructor(private readonly deps: TrackerDeps) {
    this.now = deps.now ?? Date.now;
    this.intervalMs = this.fastMs();
  }

  /** Starts tracking a server evacuated from sourceHost (idempotent). `sinceMs`: our clock when its recovery took it up. */
  track(id: string, sourceHost: string, sinceMs: number): void {
    if (this.tracked.has(id)) return;
    if (this.tracked.size >= TRACKER_LIMITS.maxTracked) throw new Error(`more than ${TRACKER_LIMITS.maxTracked} servers tracked at once`);
    this.tracked.set(id, {
      sourceHost,
      sinceMs,
      unseenPolls: 0,
      view: undefined,
      migrations: new Map(),
      incomplete: false,
      observed: false,
      version: 0,
      delivered: 0,
    });
  }

  untrack(id: string): void {
    this.tracked.delete(id);
    if (this.tracked.size === 0) {
      // Nothing left to follow: the next incident starts from its own fence time, not an old cursor.
      this.serverCursor = null;
      this.migrationCursor = null;
    }
  }

  isTracked(id: string): boolean {
    return this.tracked.has(id);
  }

  /** An evacuate was just accepted: look again soon, the server changes first in the next second or two. */
  hurry(): void {
    this.intervalMs = this.cadenceFastMs();
    this.quietPolls = 0;
    this.schedule();
  }

  /** A Nova notification about a tracked server came (any of the types read): they flow, see the cadence. */
  heard(): void {
    this.counters.heard++;
    this.lastHeard = this.now();
  }

  /**
   * Something (a Nova notification for a tracked server) says a change is there: poll as soon as the
   * gap allows. `id`: the server it is about, when it names one.
   */
  kick(id?: string): void {
    this.counters.kicks++;
    this.kicked = true;
    if (id === undefined) this.kickedIds = null;
    else this.kickedIds?.add(id);
    this.followUps = 0;
    this.schedule();
  }

  /**
   * The server as a later poll shows it: the first one (starting after this call) that shows a change
   * of it, or the first after poll_interval of waiting. Rejects when a poll fails.
   */
  async observe(id: string, signal: AbortSignal): Promise<TrackedView> {
    const mine = this.tracked.get(id);
    if (!mine) throw new Error(`server ${id} is not tracked`);
    mine.observed = true;
    // Always a poll that starts after this call: a view from before the caller's last action (an
    // evacuate just accepted) could show an earlier attempt's end as this one's.
    await new Promise<void>((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const onAbort = (): void => {
        this.waiting = this.waiting.filter((w) => w !== waiter);
        reject(signal.reason);
      };
      const waiter: Waiter = {
        id,
        since: this.now(),
        resolve: () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (err) => {
          signal.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
      this.schedule();
    });
    const t = this.tracked.get(id);
    if (!t) throw new Error(`server ${id} is no longer tracked`);
    if (t.incomplete) return { server: undefined, migrations: [] };
    t.delivered = t.version;
    return { server: t.view, migrations: [...t.migrations.values()] };
  }

  private fastMs(): number {
    return Math.min(this.deps.cadence.fastMs, this.deps.cadence.slowMs);
  }

  /** The cadence's fast end: the slow one while notifications flow (their kicks bring the polls that matter). */
  private cadenceFastMs(): number {
    return this.now() - this.lastHeard <= NOTIFICATIONS_FLOWING_MS ? this.deps.cadence.slowMs : this.fastMs();
  }

  private schedule(): void {
    if (this.running || this.waiting.length === 0) return;
    const c = this.deps.cadence;
    const gap = Math.min(c.minGapMs, this.fastMs());
    const due = this.lastStart + (this.kicked ? gap : this.intervalMs);
    if (this.timer && this.timerDue <= due) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerDue = due;
    this.timer = setTimeout(() => void this.poll(), Math.max(0, due - this.now()));
  }

  private async poll(): Promise<void> {
    this.timer = null;
    if (this.running) return;
    this.running = true;
    const kicked = this.kicked;
    this.kicked = false;
    // A kick about a server or two reads them (a GET each, about a third of a listing's time on the
    // harness cloud: the lag after Nova's rebuild.end); more, or one naming none, lists as usual.
    const ids = this.kickedIds;
    const direct =
      kicked && ids !== null && ids.size > 0 && ids.size <= TRACKER_LIMITS.directKickReads && [...ids].every((id) => this.tracked.has(id))
        ? [...ids]
        : null;
    this.kickedIds = new Set();
    this.lastStart = this.now();
    const full = !kicked || this.lastStart - this.lastFullStart >= this.fastMs();
    if (full) this.lastFullStart = this.lastStart;
    const waiters = this.waiting;
    this.waiting = [];
    try {
      const changed = await this.look(full, direct);
      const between = kicked && this.followUps < TRACKER_LIMITS.followUpsPerKick ? this.betweenRebuildAndMove() : [];
      if (between.length > 0) {
        this.followUps++;
        // The follow-up is about these servers, and about any a kick during this poll named.
        if (!this.kicked) this.kickedIds = new Set(between);
        else if (this.kickedIds) for (const id of between) this.kickedIds.add(id);
        this.kicked = true;
      }
      // Fast while polls show changes; after two quiet polls in a row, doubling up to the slow cadence
      // (one quiet poll amid a thousand rebuilds is chance, not calm).
      this.quietPolls = changed ? 0 : this.quietPolls + 1;
      this.intervalMs = this.quietPolls < 2 ? this.cadenceFastMs() : Math.min(this.deps.cadence.slowMs, this.intervalMs * 2);
      // Only a waiter whose server changed since it came is woken (or one that waited poll_interval,
      // so the step still sees its timeouts): a thousand unchanged servers cost nothing per poll.
      const now = this.now();
      for (const w of waiters) {
        const t = this.tracked.get(w.id);
        // (waited + the next interval > poll_interval: the next poll would come too late for it)
        if (!t || t.version !== t.delivered || t.incomplete || now - w.since + this.intervalMs > this.deps.cadence.slowMs) w.resolve();
        else this.waiting.push(w);
      }
    } catch (err) {
      // No view is made up from a failed poll: every waiter hears of it and decides (alarm, retry).
      for (const w of waiters) w.reject(err);
    } finally {
      this.running = false;
      this.schedule();
    }
  }

  /**
   * One poll: two listings for everyone, plus direct reads of the few servers no listing has shown;
   * or (`full` false) the servers' listing alone. `direct`: read these servers one by one instead of
   * listing the servers (the cursor stays where it is: the next listing covers everyone else).
   */
  private async look(full: boolean, direct: string[] | null): Promise<boolean> {
    this.counters.polls++;
    if (!full) this.counters.serverOnlyPolls++;
    if (this.tracked.size === 0) return false;
    let earliest = Infinity;
    for (const t of this.tracked.values()) earliest = Math.min(earliest, t.sinceMs - INCIDENT_CLOCK_MARGIN_MS);
    const serverSince = this.serverCursor ?? earliest;
    const migrationSince = this.migrationCursor ?? earliest;
    this.counters.calls += (direct ? direct.length : 1) + (full ? 1 : 0);
    if (direct) this.counters.kickedReads += direct.length;
    const [servers, read, migrations] = await Promise.all([
      direct ? Promise.resolve([]) : this.deps.compute.listChangedServers(isoSecond(serverSince)),
      direct ? Promise.all(direct.map(async (id) => ({ id, server: await this.deps.compute.getServer(id) }))) : Promise.resolve([]),
      full ? this.deps.compute.listMigrations({ changesSinceMs: migrationSince }) : Promise.resolve([]),
    ]);
    let changed = false;
    const seen = new Set<string>();
    for (const s of servers) {
      const t = this.tracked.get(s.id);
      if (!t) continue;
      seen.add(s.id);
      changed = this.setView(t, s.status === 'DELETED' ? null : toView(s)) || changed;
    }
    for (const m of migrations) {
      const t = this.tracked.get(m.instanceUuid);
      if (!t || m.sourceCompute !== t.sourceHost) continue;
      changed = this.setMigration(t, m) || changed;
    }
    for (const r of read) {
      const t = this.tracked.get(r.id);
      if (t) changed = this.setView(t, r.server ? toView(r.server) : null) || changed;
    }
    // Only a listing says who it did not show.
    if (!direct)
      for (const [id, t] of this.tracked) t.unseenPolls = seen.has(id) || t.view !== undefined || !t.observed ? 0 : t.unseenPolls + 1;
    // The direct reads judge a view against its migrations: only when those were just listed.
    if (full) changed = (await this.readUnlisted()) || changed;
    this.serverCursor = advance(
      this.serverCursor,
      servers.map((s) => s.updatedAt ?? null),
    );
    if (full)
      this.migrationCursor = advance(
        this.migrationCursor,
        migrations.map((m) => m.updatedAt),
      );
    return changed;
  }

  /** The servers someone waits on that Nova has rebuilt (no task) but not yet moved: still on their source host, a migration moving. */
  private betweenRebuildAndMove(): string[] {
    const ids: string[] = [];
    for (const [id, t] of this.tracked) {
      const v = t.view;
      if (!t.observed || !v || v.taskState !== null || v.host !== t.sourceHost) continue;
      if (v.status !== 'ACTIVE' && v.status !== 'SHUTOFF') continue;
      for (const m of t.migrations.values())
        if (m.phase === 'moving') {
          ids.push(id);
          break;
        }
      // More than a kicked poll reads one by one: it will list them, no need to know them all.
      if (ids.length > TRACKER_LIMITS.directKickReads) break;
    }
    return ids;
  }

  /**
   * A server whose listed view may be incomplete, or that no listing has shown for three polls (Nova's clock far behind ours, or a change the
   * window missed) is read directly, a few per poll: tracking never hangs on the cursor.
   */
  private async readUnlisted(): Promise<boolean> {
    // changes-since on os-migrations compares updated_at, so a record still `accepted` (never updated)
    // is not listed: a server mid-task with only a failed (older) migration in view has its migrations
    // read directly, or an earlier failed attempt would be taken for this one's end.
    for (const t of this.tracked.values()) {
      const ms = [...t.migrations.values()];
      t.incomplete = !!t.view?.taskState && ms.some((m) => m.phase === 'failed') && !ms.some((m) => m.phase === 'moving');
    }
    const stale = [...this.tracked.entries()].filter(([, t]) => t.incomplete || (t.view === undefined && t.unseenPolls >= 3));
    let changed = false;
    for (const [id, t] of stale.slice(0, TRACKER_LIMITS.directReadsPerPoll)) {
      this.counters.directReads++;
      this.counters.calls += 2;
      const [s, ms] = await Promise.all([
        this.deps.compute.getServer(id),
        this.deps.compute.listMigrations({ instanceUuid: id, sourceCompute: t.sourceHost }),
      ]);
      t.unseenPolls = 0;
      t.incomplete = false;
      changed = this.setView(t, s ? toView(s) : null) || changed;
      for (const m of ms) changed = this.setMigration(t, m) || changed;
    }
    return changed;
  }

  private setView(t: Tracked, v: ServerView | null): boolean {
    const same =
      t.view !== undefined &&
      (t.view === null || v === null
        ? t.view === v
        : t.view.host === v.host &&
          t.view.status === v.status &&
          t.view.vmState === v.vmState &&
          t.view.taskState === v.taskState &&
          (t.view.fault ?? null) === (v.fault ?? null));
    t.view = v;
    if (!same) t.version++;
    return !same;
  }

  private setMigration(t: Tracked, m: Migration): boolean {
    const before = t.migrations.get(m.id);
    if (before?.status === m.status) return false;
    t.migrations.set(m.id, { id: m.id, status: m.status, phase: phaseOf(m.status) });
    t.version++;
    return true;
  }
}

function toView(s: Server): ServerView {
  // The fault travels too: a step tells a hopeless failure (NoValidHost) and the operator's alarm by it.
  return { host: s.host, status: s.status, vmState: s.vmState, taskState: s.taskState, ...(s.fault ? { fault: s.fault } : {}) };
}

export function phaseOf(status: string): MigrationPhase {
  if (IN_FLIGHT_MIGRATION.has(status)) return 'moving';
  if (SUCCEEDED_MIGRATION.has(status)) return 'succeeded';
  return FAILED_MIGRATION.has(status) ? 'failed' : 'other';
}

/** Nova's times carry no zone (UTC) or a Z; epoch ms, NaN when unreadable. */
function novaMs(x: string | null): number {
  return x ? Date.parse(/Z$|[+-]\d\d:?\d\d$/.test(x) ? x : `${x}Z`) : NaN;
}

/** The next window starts a margin behind the newest change Nova showed (Nova's clock, not ours); never moves back. */
function advance(cursor: number | null, times: Array<string | null>): number | null {
  let newest = -Infinity;
  for (const x of times) {
    const t = novaMs(x);
    if (t > newest) newest = t;
  }
  if (!Number.isFinite(newest)) return cursor;
  const next = newest - CURSOR_MARGIN_MS;
  return cursor === null ? next : Math.max(cursor, next);
}

function isoSecond(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
