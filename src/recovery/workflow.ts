import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { FenceRecord, HostId, RecoverySummary, ServerRef } from '../core/events.js';
import type { EventSink, Recoverer } from '../core/ports.js';
import type { Logger } from '../log.js';
import type { ComputeClient } from '../openstack/compute.js';
import { IN_FLIGHT_MIGRATION, type Aggregate, type Server } from '../openstack/types.js';
import type { RecoveryConfig, RecoveryMode } from './config.js';
import { recoverServer, type EvacuationDeps } from './evacuation.js';
import { Journal, JournalWriteError, type JournalRecord, type PlannedServer } from './journal.js';
import { JOURNAL_RETRY_MAX_MS, JOURNAL_RETRY_MIN_MS, JournalHealth } from './journal-health.js';
import { StateFileError } from '../errors.js';
import { Limiter, sleep } from './limiter.js';
import { byPriority, selectServer } from './selection.js';

export type RecoveryCompute = Pick<
  ComputeClient,
  | 'versions'
  | 'setForcedDown'
  | 'setServiceEnabled'
  | 'listServers'
  | 'listMigrations'
  | 'listAggregates'
  | 'getImageProperties'
  | 'evacuate'
  | 'getServer'
  | 'resetState'
>;

export interface NovaRecovererDeps {
  compute: RecoveryCompute;
  events: EventSink;
  log: Logger;
  cfg: RecoveryConfig;
  now?: () => number;
  /** Jitter source for retry backoff; Math.random by default. */
  random?: () => number;
  /** Called after each durable journal append (the crash tests kill the process here). */
  onJournalAppend?: (r: JournalRecord, index: number) => void;
}

/**
 * Recovers the instances of one fenced host through Nova: force-down, disable, select, evacuate,
 * track. Every step is journaled before it is acted on and re-derived from Nova on resume, so a
 * new coordinator finishes an interrupted recovery with each server evacuated exactly once.
 */
export class NovaRecoverer implements Recoverer {
  private readonly running = new Map<HostId, Promise<RecoverySummary>>();
  private readonly now: () => number;
  /** Journal write failures and corrupt journals, for status (journal_write_failed, journal_corrupt). */
  readonly journalHealth: JournalHealth;

  constructor(private readonly deps: NovaRecovererDeps) {
    this.now = deps.now ?? Date.now;
    this.journalHealth = new JournalHealth(this.now);
  }

  alarms(): Array<{ kind: string; message: string; since?: string }> {
    return this.journalHealth.alarms();
  }

  recover(host: HostId, fence: FenceRecord, signal: AbortSignal): Promise<RecoverySummary> {
    // Idempotent: a second call for a host already being recovered joins the first.
    let p = this.running.get(host);
    if (!p) {
      // Every in-flight call, sleep and queue slot listens on the signal: use our own linked one
      // with no listener limit rather than raising the limit on the caller's.
      const ac = new AbortController();
      setMaxListeners(0, ac.signal);
      const onAbort = (): void => ac.abort(signal.reason);
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      p = this.runRetryingJournal(host, fence, ac.signal).finally(() => {
        signal.removeEventListener('abort', onAbort);
        this.running.delete(host);
      });
      this.running.set(host, p);
    }
    return p;
  }

  modeOf(host: HostId): RecoveryMode {
    return this.deps.cfg.hostModes[host] ?? this.deps.cfg.mode;
  }

  /**
   * A journal write that failed means its step was not acted on: wait (backoff, bounded) and run
   * again, resuming from the journal as it is on disk, for as long as this monitor still acts on the
   * host. Nothing is lost or repeated: every step is journaled before it acts and re-derived on resume.
   */
  private async runRetryingJournal(host: HostId, fence: FenceRecord, signal: AbortSignal): Promise<RecoverySummary> {
    const log = this.deps.log.child({ component: 'recovery', host });
    for (let delay = JOURNAL_RETRY_MIN_MS; ; delay = Math.min(delay * 2, JOURNAL_RETRY_MAX_MS)) {
      try {
        const summary = await this.run(host, fence, signal);
        this.journalHealth.ended(host);
        return summary;
      } catch (err) {
        if (!(err instanceof JournalWriteError)) throw err;
        const tries = this.journalHealth.writeFailed(host, err.file, err.message);
        if ((tries & (tries - 1)) === 0)
          log.error({ err, tries, retryInMs: delay }, 'recovery journal write failed; recovery waits and resumes');
        try {
          await sleep(delay, signal);
        } catch {
          this.journalHealth.ended(host);
          return { selected: 0, evacuated: 0, failed: 0, notified: 0, error: 'aborted' };
        }
      }
    }
  }

  private async run(host: HostId, fence: FenceRecord, signal: AbortSignal): Promise<RecoverySummary> {
    const { cfg, compute } = this.deps;
    const log = this.deps.log.child({ component: 'recovery', host });
    if (!fence.ok) {
      // Evacuating from a host that may still run its guests would run them twice.
      log.error({ fenceError: fence.error }, 'refusing to recover a host whose fence was not verified');
      return { selected: 0, evacuated: 0, failed: 0, notified: 0, error: 'fence not verified' };
    }
    let journal: Journal;
    try {
      journal = Journal.open(cfg.journalDir, host, { now: this.now(), onAppend: this.deps.onJournalAppend });
      this.journalHealth.wrote(host);
    } catch (err) {
      // Without a durable journal a crash could evacuate twice: do not start.
      if (err instanceof JournalWriteError && !signal.aborted) throw err;
      if (err instanceof StateFileError) this.journalHealth.corruptFound(host, err.message);
      log.error({ err, journalDir: cfg.journalDir }, 'cannot open the recovery journal');
      return { selected: 0, evacuated: 0, failed: 0, notified: 0, error: `journal: ${(err as Error).message}` };
    }
    try {
      if (!journal.has('begin')) journal.append({ t: 'begin', at: this.now(), host, incident: randomUUID() });
      else log.info({ records: journal.records.length }, 'resuming an interrupted recovery from its journal');

      // 1. Force down THEN disable: disabling a service Nova believes up makes an RPC call to the
      //    dead compute that hangs (fence-agents PR #303). Both are idempotent: always re-sent.
      await compute.setForcedDown(host, true, signal);
      const firstForceDown = !journal.has('forced_down');
      if (firstForceDown) journal.append({ t: 'forced_down', at: this.now() });
      let disabledReason: string | null = null;
      try {
        const reason = `instance-ha: fenced by ${fence.by} at ${new Date(this.now()).toISOString()}`;
        if (!journal.has('disabled')) {
          await compute.setServiceEnabled(host, false, reason, signal);
          journal.append({ t: 'disabled', at: this.now() });
          disabledReason = reason;
        }
      } catch (err) {
        if (signal.aborted) throw err;
        log.warn({ err }, 'disabling the compute service failed; it is forced down, continuing');
      }
      // For the timeline (dashboard, history): once per incident, not again on a resumed recovery.
      if (firstForceDown) this.deps.events.publish({ type: 'host.forced_down', at: this.now(), host, disabledReason });

      // 2. Select once; the selection is frozen in the journal (evacuated servers leave the listing).
      let selected = journal.find('selected');
      const idleNow = new Map<string, Server>();
      if (!selected) {
        const listed = await this.select(host, signal);
        selected = listed.record;
        listed.idle.forEach((s) => idleNow.set(s.id, s));
        journal.append(selected);
      }
      if (!journal.has('notified')) {
        for (const n of selected.notify) {
          this.deps.events.publish({ type: 'instance.not_recovered', at: this.now(), host, server: n.ref, reason: n.reason, fence });
        }
        journal.append({ t: 'notified', at: this.now() });
      }

      // 3-4. Evacuate in priority order, bounded, and track each to its end.
      const targets = cfg.targetHosts.filter((h) => h !== host);
      let rr = 0;
      const d: EvacuationDeps = {
        host,
        compute,
        journal,
        events: this.deps.events,
        log,
        cfg,
        signal,
        now: this.now,
        random: this.deps.random ?? Math.random,
        requests: new Limiter(cfg.concurrency),
        inFlight: new Limiter(cfg.maxInFlight),
        target: () => (targets.length ? targets[rr++ % targets.length] : undefined),
        rankOf: () => 0,
        listedIdle: (id) => idleNow.get(id),
      };
      const planned = [...selected.planned].sort((a, b) => byPriority(key(a), key(b)));
      const rank = new Map(planned.map((p, i) => [p.ref.id, i]));
      d.rankOf = (id) => rank.get(id) ?? planned.length;
      // allSettled: no task may outlive this call and append to a closed journal.
      const results = await Promise.allSettled(planned.map((p) => this.recoverOne(p, d, log)));
      const broken = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (broken) throw broken.reason;
      const outcomes = results.map((r) => (r as PromiseFulfilledResult<{ ok: boolean }>).value);
      const summary: RecoverySummary = {
        selected: planned.length,
        evacuated: outcomes.filter((o) => o.ok).length,
        failed: outcomes.filter((o) => !o.ok).length,
        notified: selected.notify.length,
      };
      journal.append({ t: 'finished', at: this.now(), summary });
      log.info(summary, 'host recovery finished');
      return summary;
    } catch (err) {
      if (err instanceof JournalWriteError && !signal.aborted) throw err;
      log.error({ err }, 'host recovery interrupted');
      return { selected: 0, evacuated: 0, failed: 0, notified: 0, error: signal.aborted ? 'aborted' : (err as Error).message };
    } finally {
      journal.close();
    }
  }

  /**
   * recoverServer re-derives everything from the journal and Nova, so after an unexpected error
   * (Nova unreachable beyond the client's retries) it is simply run again, until the per-instance
   * timeout; it never throws past here, so no task outlives the journal.
   */
  private async recoverOne(p: PlannedServer, d: EvacuationDeps, log: Logger): Promise<{ ok: boolean }> {
    const deadline = this.now() + d.cfg.instanceTimeoutMs;
    for (;;) {
      try {
        return await recoverServer(p, d);
      } catch (err) {
        // A journal that cannot be written stops the whole recovery, which waits and resumes.
        if (d.signal.aborted || err instanceof JournalWriteError) throw err;
        if (this.now() > deadline) {
          const reason = `gave up: ${(err as Error).message}`;
          d.journal.append({ t: 'failed', at: this.now(), id: p.ref.id, attempt: 0, reason, final: true, migrationIds: [] });
          this.deps.events.publish({
            type: 'instance.evacuate_error',
            at: this.now(),
            host: d.host,
            server: p.ref,
            reason,
            attempt: 0,
            final: true,
          });
          return { ok: false };
        }
        log.warn({ err, server: p.ref.id }, 'server recovery hit an error; re-deriving its state from Nova');
        await sleep(Math.min(d.cfg.retryBackoffMs, 5_000), d.signal);
      }
    }
  }

  private async select(host: HostId, signal: AbortSignal): Promise<{ record: Extract<JournalRecord, { t: 'selected' }>; idle: Server[] }> {
    const { cfg, compute } = this.deps;
    // Listing and the migration baseline are independent: ask for both at once.
    const [listed, migrations] = await Promise.all([
      compute.listServers({ host }, signal),
      compute.listMigrations({ sourceCompute: host }, signal),
    ]);
    // Nova silently ignores `host` for non-admin tokens: never act on servers of other hosts.
    const servers = listed.filter((s) => s.host === host);
    if (servers.length !== listed.length) {
      this.deps.log.error(
        { host, ignored: listed.length - servers.length },
        'server listing returned servers of other hosts: the credentials lack the admin role?',
      );
    }
    const sel = cfg.select;
    if (Object.keys(sel.flavorExtraSpecs).length && Number((await compute.versions(signal)).servers.split('.')[1]) < 47) {
      // Embedded flavor extra specs need ≥2.47: the selector could never match on this cloud.
      this.deps.log.error({ host }, 'select.flavor_extra_specs needs compute microversion 2.47 or later; that selector is ignored');
    }
    const aggregates: Aggregate[] = Object.keys(sel.aggregateMetadata).length
      ? (await compute.listAggregates(signal)).filter((a) => a.hosts.includes(host))
      : [];
    const images = new Map<string, Record<string, string> | null>();
    if (Object.keys(sel.imageProperties).length) {
      for (const id of new Set(servers.map((s) => s.imageId).filter((x): x is string => !!x))) {
        images.set(id, await compute.getImageProperties(id, signal));
      }
    }
    const planned: PlannedServer[] = [];
    const notify: Array<{ ref: ServerRef; reason: string }> = [];
    for (const s of servers) {
      const dec = selectServer({
        server: s,
        hostMode: this.modeOf(host),
        hostAggregates: aggregates,
        imageProperties: images,
        select: sel,
        instanceModeKey: cfg.instanceModeKey,
        priorityKey: cfg.priorityKey,
      });
      const ref = toRef(s, host);
      if (dec.action === 'notify') notify.push({ ref, reason: dec.reason });
      else
        planned.push({
          ref,
          priority: dec.priority,
          vmState: s.vmState,
          baselineMigrationIds: migrations
            // Settled records from earlier incidents are history; one still in flight is tracked as ours.
            .filter((m) => m.instanceUuid === s.id && !IN_FLIGHT_MIGRATION.has(m.status))
            .map((m) => m.id),
        });
    }
    const idle = planned
      .map((p) => servers.find((s) => s.id === p.ref.id)!)
      .filter((s) => s.taskState === null && !migrations.some((m) => m.instanceUuid === s.id && IN_FLIGHT_MIGRATION.has(m.status)));
    return { record: { t: 'selected', at: this.now(), planned, notify }, idle };
  }
}

function key(p: PlannedServer): { priority: number; name: string; id: string } {
  return { priority: p.priority, name: p.ref.name, id: p.ref.id };
}

function toRef(s: Server, host: string): ServerRef {
  return { id: s.id, name: s.name, projectId: s.projectId, userId: s.userId, tags: s.tags, host };
}
