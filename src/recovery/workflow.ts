import { setMaxListeners } from 'node:events';
import { MAX_FAILED_SERVERS_LISTED, type FenceRecord, type HostId, type RecoverySummary, type ServerRef } from '../core/events.js';
import type { EventSink, Recoverer } from '../core/ports.js';
import { componentLogger, type Logger } from '../log.js';
import type { ComputeClient } from '../openstack/compute.js';
import { IN_FLIGHT_MIGRATION, type Aggregate, type Migration, type Server, type ServerGroup } from '../openstack/types.js';
import type { RecoveryConfig, RecoveryMode } from './config.js';
import { recoverServer, type EvacuationDeps } from './evacuation.js';
import { Journal, JournalWriteError, type JournalRecord, type PlannedServer } from './journal.js';
import { JOURNAL_RETRY_MAX_MS, JOURNAL_RETRY_MIN_MS, JournalHealth } from './journal-health.js';
import { StateFileError } from '../errors.js';
import { incidentId, INCIDENT_CLOCK_MARGIN_MS, novaTimeMs } from './incident.js';
import { isUnreachable, Reachability, unreachableBackoffMs } from './reachability.js';
import { ServerGroupAccess } from './server-group-access.js';
import { Limiter, sleep } from './limiter.js';
import { OpenStackApiError } from '../openstack/errors.js';
import { byPriority, selectServer } from './selection.js';
import { EvacuationTracker } from './tracker.js';
import { startNovaListener, type NovaListener, type NovaListenerStatus } from './nova-notifications.js';
import { WarmSession, type WarmCompute } from './warm-session.js';
import type { BrokerConfig } from '../notify/connection.js';

export type RecoveryCompute = Pick<
  ComputeClient,
  | 'versions'
  | 'setForcedDown'
  | 'setServiceEnabled'
  | 'listServers'
  | 'listChangedServers'
  | 'listMigrations'
  | 'listAggregates'
  | 'listServerGroups'
  | 'getImageProperties'
  | 'evacuate'
  | 'getServer'
  | 'resetState'
>;

export interface NovaRecovererDeps {
  /** refreshToken (the pre-authentication) is optional for fakes; the real ComputeClient has it. */
  compute: RecoveryCompute & Partial<Pick<ComputeClient, 'refreshToken'>>;
  events: EventSink;
  log: Logger;
  cfg: RecoveryConfig;
  now?: () => number;
  /** Jitter source for retry backoff; Math.random by default. */
  random?: () => number;
  /** Called after each durable journal append (the crash tests kill the process here). */
  onJournalAppend?: (r: JournalRecord, index: number) => void;
  /** The broker for Nova's notifications when recovery.nova_notifications has no url of its own (the monitor's `notifications:`). */
  broker?: BrokerConfig | null;
  /** compute.token_renew_before: the pre-authentication's refresh period is half of it (bounded). */
  tokenRenewBeforeMs?: number;
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
  /** Whether Nova and Keystone answer: an outage is an alarm while a recovery waits on it. */
  readonly reachability = new Reachability();
  /** A refused server-group listing: a recovery that could not keep anti-affinity members apart. */
  private readonly groupAccess = new ServerGroupAccess();
  /** One listing poller for every server of every recovery this monitor runs (a few calls per poll in all). */
  readonly tracker: EvacuationTracker;
  private warm: WarmSession | null = null;
  private novaListener: NovaListener | null = null;

  constructor(private readonly deps: NovaRecovererDeps) {
    this.now = deps.now ?? Date.now;
    this.journalHealth = new JournalHealth(this.now);
    const c = deps.cfg;
    this.tracker = new EvacuationTracker({
      compute: deps.compute,
      log: componentLogger(deps.log, 'tracking'),
      now: this.now,
      cadence: { fastMs: c.fastPollIntervalMs, slowMs: c.pollIntervalMs, minGapMs: c.minPollGapMs },
    });
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

  /**
   * For status, the API and metrics: journal_write_failed / journal_corrupt,
   * compute_api_unreachable / keystone_unreachable while a recovery waits for them, and
   * server_groups_unreadable after a recovery could not read the server groups.
   */
  alarms(): Array<{ kind: string; message: string; since?: string }> {
    const reach = this.reachability.alarms();
    // A standby alarm only when no recovery already raises the same kind.
    const warm = (this.warm?.alarms() ?? []).filter((w) => !reach.some((a) => a.kind === w.kind));
    return [...this.journalHealth.alarms(), ...reach, ...warm, ...this.groupAccess.alarms(), ...(this.novaListener?.alarms() ?? [])];
  }

  /**
   * What every monitor that may become coordinator does at start: authenticate to Keystone and
   * negotiate the compute microversions (then keep the token fresh), and listen to Nova's versioned
   * notifications when configured. Resolves after the first authentication attempt; never rejects
   * (a failure is an alarm and is retried).
   */
  async start(): Promise<void> {
    const { cfg, log } = this.deps;
    if (this.deps.compute.refreshToken) {
      this.warm = new WarmSession(
        this.deps.compute as WarmCompute,
        componentLogger(log, 'pre-auth'),
        this.deps.tokenRenewBeforeMs ?? 300_000,
        this.now,
      );
    }
    const nn = cfg.novaNotifications;
    if (nn.enabled) {
      const broker: BrokerConfig | null = nn.url
        ? {
            url: nn.url,
            password: undefined,
            vhost: undefined,
            heartbeatS: 30,
            connectTimeoutMs: 10_000,
            tls: this.deps.broker?.tls ?? { verify: true },
          }
        : (this.deps.broker ?? null);
      if (broker)
        this.novaListener = startNovaListener({
          broker,
          cfg: nn,
          tracker: this.tracker,
          log: componentLogger(log, 'nova-notifications'),
          connectionName: 'instance-ha nova-notifications',
        });
      else log.error('recovery.nova_notifications is on but no broker is configured (url or the notifications section): polling alone');
    }
    await this.warm?.start();
  }

  /** The Nova notification listener's counters and connection, null when it is off. */
  novaNotificationsStatus(): NovaListenerStatus | null {
    return this.novaListener?.status() ?? null;
  }

  async stop(): Promise<void> {
    this.warm?.stop();
    await this.novaListener?.close();
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
    const log = componentLogger(this.deps.log, 'recovery', { host });
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
    const log = componentLogger(this.deps.log, 'recovery', { host });
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
    // The same name on every monitor (the shared fence record): notification ids repeat, never differ.
    const incident = incidentId(host, fence);
    const untilAnswered = <T>(what: string, call: () => Promise<T>): Promise<T> => this.untilAnswered(host, what, call, signal, log);
    try {
      if (!journal.has('begin')) journal.append({ t: 'begin', at: this.now(), host, incident });
      else log.info({ records: journal.records.length }, 'resuming an interrupted recovery from its journal');

      // 1. Force down THEN disable: disabling a service Nova believes up makes an RPC call to the
      //    dead compute that hangs (fence-agents PR #303). Both are idempotent: always re-sent.
      await untilAnswered('force-down', () => compute.setForcedDown(host, true, signal));
      const firstForceDown = !journal.has('forced_down');
      if (firstForceDown) journal.append({ t: 'forced_down', at: this.now() });
      // 2. Disable, and beside it select (a read: the two are independent once the host is forced down;
      //    running them one after the other cost the first evacuate 0.1–0.3 s on the real cloud).
      //    The selection is frozen in the journal (evacuated servers leave the listing). A monitor with
      //    no journal of this incident (a successor) re-derives it from Nova: the host's listing plus
      //    the servers this incident's evacuations already moved away.
      const disabling = (async (): Promise<string | null> => {
        try {
          const reason = `instance-ha: fenced by ${fence.by} at ${new Date(this.now()).toISOString()}`;
          if (journal.has('disabled')) return null;
          await untilAnswered('disable', () => compute.setServiceEnabled(host, false, reason, signal));
          journal.append({ t: 'disabled', at: this.now() });
          return reason;
        } catch (err) {
          if (signal.aborted) throw err;
          log.warn({ err }, 'disabling the compute service failed; it is forced down, continuing');
          return null;
        }
      })();
      const journaled = journal.find('selected');
      const idleNow = new Map<string, Server>();
      let alreadyEvacuating = false;
      const selecting = journaled ? null : untilAnswered('select', () => this.select(host, fence, signal));
      // Both settle before anything acts or fails: a failed select must not leave the disable running unseen.
      const [disabled, listing] = await Promise.allSettled([disabling, selecting]);
      if (listing.status === 'rejected') throw listing.reason;
      if (disabled.status === 'rejected') throw disabled.reason;
      const [disabledReason, listed] = [disabled.value, listing.value];
      // For the timeline (dashboard, history): once per incident, not again on a resumed recovery.
      if (firstForceDown) this.deps.events.publish({ type: 'host.forced_down', at: this.now(), host, disabledReason });
      const selected = journaled ?? listed!.record;
      if (listed) {
        alreadyEvacuating = listed.incidentEvacuations > 0;
        listed.idle.forEach((s) => idleNow.set(s.id, s));
        journal.append(selected);
      }
      if (!journal.has('notified')) {
        // Evacuations of this incident in Nova mean whoever sent them had published these first (the
        // journal's order): do not notify again. Otherwise publish, under ids fixed per incident and
        // server, so a repeat that could not be told apart is dropped by consumers.
        if (alreadyEvacuating && selected.notify.length > 0)
          log.info({ servers: selected.notify.length }, 'not notifying again: this incident was already notified (evacuations under way)');
        else
          for (const n of selected.notify) {
            this.deps.events.publish({
              type: 'instance.not_selected',
              at: this.now(),
              host,
              server: n.ref,
              reason: n.reason,
              fence,
              incident,
            });
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
        incident,
        reachability: this.reachability,
        tracker: this.tracker,
      };
      const planned = [...selected.planned].sort((a, b) => byPriority(key(a), key(b)));
      const rank = new Map(planned.map((p, i) => [p.ref.id, i]));
      d.rankOf = (id) => rank.get(id) ?? planned.length;
      // allSettled: no task may outlive this call and append to a closed journal.
      // Members of one anti-affinity group go one at a time: two evacuations scheduled at once can both
      // pick the same host (the scheduler sees neither), and Nova's late check then fails one of them.
      const groups = new Map<string, Limiter>();
      const results = await Promise.allSettled(
        planned.map(async (p) => {
          const g = p.antiAffinityGroup;
          if (g === undefined) return this.recoverOne(p, d, log);
          if (!groups.has(g)) groups.set(g, new Limiter(1));
          const release = await groups.get(g)!.acquire(signal, d.rankOf(p.ref.id));
          try {
            return await this.recoverOne(p, d, log);
          } finally {
            release();
          }
        }),
      );
      const broken = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (broken) throw broken.reason;
      const outcomes = results.map((r) => (r as PromiseFulfilledResult<{ ok: boolean; reason?: string }>).value);
      // Servers held by the local-disk policy are not running elsewhere either: the host is not green.
      const held = selected.notify.filter((n) => n.held).map((n) => ({ id: n.ref.id, name: n.ref.name, reason: `held: ${n.reason}` }));
      const failedServers = [
        ...planned
          .map((p, i) => ({ id: p.ref.id, name: p.ref.name, reason: outcomes[i]!.reason ?? 'not evacuated' }))
          .filter((_, i) => !outcomes[i]!.ok),
        ...held,
      ];
      const summary: RecoverySummary = {
        selected: planned.length + held.length,
        evacuated: outcomes.filter((o) => o.ok).length,
        failed: failedServers.length,
        notified: selected.notify.length,
        ...(failedServers.length ? { failedServers: failedServers.slice(0, MAX_FAILED_SERVERS_LISTED) } : {}),
      };
      journal.append({ t: 'finished', at: this.now(), summary });
      log.info(summary, 'host recovery finished');
      return summary;
    } catch (err) {
      if (err instanceof JournalWriteError && !signal.aborted) throw err;
      log.error({ err }, 'host recovery interrupted');
      return { selected: 0, evacuated: 0, failed: 0, notified: 0, error: signal.aborted ? 'aborted' : (err as Error).message };
    } finally {
      this.reachability.done(host);
      journal.close();
    }
  }

  /**
   * The server groups, for serializing anti-affinity members. A refusal (4xx: a policy that denies
   * os-server-groups to our role) must not stop the recovery: it goes on unserialized, and says so
   * loudly. Nova unreachable is the caller's (untilAnswered waits for it).
   */
  private async serverGroups(host: HostId, signal: AbortSignal): Promise<ServerGroup[]> {
    try {
      const groups = await this.deps.compute.listServerGroups(signal);
      this.groupAccess.read();
      return groups;
    } catch (err) {
      if (signal.aborted || !(err instanceof OpenStackApiError) || !err.isClientError) throw err;
      this.deps.log.error({ host, err }, 'cannot list server groups: anti-affinity members are NOT serialized in this recovery');
      this.groupAccess.refused(host, `${err.status} ${err.faultMessage}`, this.now());
      return [];
    }
  }

  /**
   * Runs an idempotent call until Nova answers: while the compute API or Keystone is unreachable the
   * recovery waits (alarm) and retries with bounded backoff, as long as it is not aborted. Any other
   * error is the caller's.
   */
  private async untilAnswered<T>(host: HostId, what: string, call: () => Promise<T>, signal: AbortSignal, log: Logger): Promise<T> {
    for (;;) {
      try {
        const v = await call();
        this.reachability.answered(host);
        return v;
      } catch (err) {
        if (signal.aborted || !isUnreachable(err)) throw err;
        const n = this.reachability.failed(err, host, this.now());
        const ms = unreachableBackoffMs(n - 1, (this.deps.random ?? Math.random)());
        log.warn({ err, what, retryInMs: Math.round(ms) }, 'compute API unreachable: the recovery waits and retries');
        await sleep(ms, signal);
      }
    }
  }

  /**
   * recoverServer re-derives everything from the journal and Nova, so after an unexpected error
   * (Nova unreachable beyond the client's retries) it is simply run again, until the per-instance
   * timeout; it never throws past here, so no task outlives the journal.
   */
  private async recoverOne(p: PlannedServer, d: EvacuationDeps, log: Logger): Promise<{ ok: boolean; reason?: string }> {
    let deadline = this.now() + d.cfg.instanceTimeoutMs;
    for (;;) {
      try {
        const o = await recoverServer(p, d);
        return o.ok ? { ok: true } : { ok: false, reason: o.reason };
      } catch (err) {
        // A journal that cannot be written stops the whole recovery, which waits and resumes.
        if (d.signal.aborted || err instanceof JournalWriteError) throw err;
        if (isUnreachable(err)) {
          // Nova did not answer: nothing was decided on it. Wait for as long as it takes (alarm), and
          // give the server its whole timeout again once Nova answers.
          const n = this.reachability.failed(err, d.host, this.now());
          const ms = unreachableBackoffMs(n - 1, d.random());
          log.warn({ err, server: p.ref.id, retryInMs: Math.round(ms) }, 'compute API unreachable while tracking a server; waiting');
          await sleep(ms, d.signal);
          deadline = this.now() + d.cfg.instanceTimeoutMs;
          continue;
        }
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
          return { ok: false, reason };
        }
        log.warn({ err, server: p.ref.id }, 'server recovery hit an error; re-deriving its state from Nova');
        await sleep(Math.min(d.cfg.retryBackoffMs, 5_000), d.signal);
      }
    }
  }

  private async select(
    host: HostId,
    fence: FenceRecord,
    signal: AbortSignal,
  ): Promise<{ record: Extract<JournalRecord, { t: 'selected' }>; idle: Server[]; incidentEvacuations: number }> {
    const { cfg, compute } = this.deps;
    // The incident's own evacuations: from the host, created since its fence (with a clock margin).
    const since = fence.at === undefined ? undefined : fence.at - INCIDENT_CLOCK_MARGIN_MS;
    // Listing, the migration baseline and this incident's evacuations are independent: ask at once;
    // the server groups too (a read of its own: 20 ms more on the harness cloud, one after the other).
    const groupsRead = this.serverGroups(host, signal);
    groupsRead.catch(() => {}); // awaited below; a listing that fails first must not leave it unhandled
    const [listed, migrations, recent] = await Promise.all([
      compute.listServers({ host }, signal),
      compute.listMigrations({ sourceCompute: host }, signal),
      since === undefined
        ? Promise.resolve([] as Migration[])
        : compute.listMigrations({ sourceCompute: host, changesSinceMs: since }, signal),
    ]);
    // This incident's, or still in flight (taken for ours, as the baseline does): never left untracked.
    const sinceFence = recent.filter((m) => novaTimeMs(m.createdAt) >= since!);
    const ofIncident = [
      ...sinceFence,
      ...migrations.filter((m) => IN_FLIGHT_MIGRATION.has(m.status) && !recent.some((r) => r.id === m.id)),
    ];
    const incidentIds = new Set(ofIncident.map((m) => m.id));
    // Nova silently ignores `host` for non-admin tokens: never act on servers of other hosts.
    const servers = listed.filter((s) => s.host === host);
    if (servers.length !== listed.length) {
      this.deps.log.error(
        { host, ignored: listed.length - servers.length },
        'server listing returned servers of other hosts: the credentials lack the admin role?',
      );
    }
    // A server this incident already evacuated has left the host's listing: a coordinator that died
    // after Nova accepted its evacuate leaves it to whoever acts next, who must track it to its end.
    const onHost = new Set(servers.map((s) => s.id));
    const moved: Server[] = [];
    for (const id of new Set(ofIncident.map((m) => m.instanceUuid))) {
      if (onHost.has(id)) continue;
      const s = await compute.getServer(id, signal);
      if (s) moved.push(s);
    }
    if (moved.length > 0)
      this.deps.log.warn(
        { host, servers: moved.map((s) => s.id) },
        "taking over this incident's evacuations already in Nova (sent by an earlier coordinator): tracking each to its end",
      );
    const sel = cfg.select;
    if (Object.keys(sel.flavorExtraSpecs).length && Number((await compute.versions(signal)).servers.split('.')[1]) < 47) {
      // Embedded flavor extra specs need ≥2.47: the selector could never match on this cloud.
      this.deps.log.error({ host }, 'select.flavor_extra_specs needs compute microversion 2.47 or later; that selector is ignored');
    }
    // Aggregates matter to the selectors and to the storage policy (shared storage, local disk per aggregate).
    const needAggregates =
      Object.keys(sel.aggregateMetadata).length > 0 ||
      cfg.sharedStorage.aggregates.length > 0 ||
      Object.keys(cfg.localDisk.aggregates).length > 0;
    const aggregates: Aggregate[] = needAggregates ? (await compute.listAggregates(signal)).filter((a) => a.hosts.includes(host)) : [];
    const groupOf = antiAffinityGroups(await groupsRead);
    const images = new Map<string, Record<string, string> | null>();
    if (Object.keys(sel.imageProperties).length) {
      for (const id of new Set(servers.map((s) => s.imageId).filter((x): x is string => !!x))) {
        images.set(id, await compute.getImageProperties(id, signal));
      }
    }
    const planned: PlannedServer[] = [];
    const notify: Array<{ ref: ServerRef; reason: string; held?: true }> = [];
    const group = (id: string): { antiAffinityGroup?: string } => (groupOf.has(id) ? { antiAffinityGroup: groupOf.get(id)! } : {});
    const baselineOf = (id: string): number[] =>
      migrations
        // Settled records from earlier incidents are history; one still in flight, or this incident's, is tracked as ours.
        .filter((m) => m.instanceUuid === id && !IN_FLIGHT_MIGRATION.has(m.status) && !incidentIds.has(m.id))
        .map((m) => m.id);
    for (const s of moved) {
      // Evacuated by this incident already: tracked whatever the selectors say now.
      const dec = selectServer({
        server: { ...s, host },
        hostMode: this.modeOf(host),
        hostAggregates: aggregates,
        imageProperties: images,
        select: sel,
        instanceModeKey: cfg.instanceModeKey,
        priorityKey: cfg.priorityKey,
        host,
        sharedStorage: cfg.sharedStorage,
        localDisk: cfg.localDisk,
      });
      planned.push({
        ref: toRef(s, host),
        priority: dec.action === 'notify' ? 0 : dec.priority,
        vmState: s.vmState,
        baselineMigrationIds: baselineOf(s.id),
        ...group(s.id),
      });
    }
    for (const s of servers) {
      const dec = selectServer({
        server: s,
        hostMode: this.modeOf(host),
        hostAggregates: aggregates,
        imageProperties: images,
        select: sel,
        instanceModeKey: cfg.instanceModeKey,
        priorityKey: cfg.priorityKey,
        host,
        sharedStorage: cfg.sharedStorage,
        localDisk: cfg.localDisk,
      });
      const ref = toRef(s, host);
      if (dec.action === 'notify') notify.push({ ref, reason: dec.reason, ...(dec.held ? { held: true as const } : {}) });
      else
        planned.push({
          ref,
          priority: dec.priority,
          vmState: s.vmState,
          baselineMigrationIds: baselineOf(s.id),
          ...group(s.id),
        });
    }
    // Only servers still on the host can be idle; one this incident already moved is tracked from Nova.
    const idle = planned
      .flatMap((p) => servers.filter((s) => s.id === p.ref.id))
      .filter((s) => s.taskState === null && !migrations.some((m) => m.instanceUuid === s.id && IN_FLIGHT_MIGRATION.has(m.status)));
    return { record: { t: 'selected', at: this.now(), planned, notify }, idle, incidentEvacuations: sinceFence.length };
  }
}

/** Server id → its anti-affinity group (hard or soft); the other policies need no serializing. */
export function antiAffinityGroups(groups: readonly ServerGroup[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const g of groups)
    if (g.policy === 'anti-affinity' || g.policy === 'soft-anti-affinity') for (const m of g.members) out.set(m, g.id);
  return out;
}

function key(p: PlannedServer): { priority: number; name: string; id: string } {
  return { priority: p.priority, name: p.ref.name, id: p.ref.id };
}

function toRef(s: Server, host: string): ServerRef {
  return { id: s.id, name: s.name, projectId: s.projectId, userId: s.userId, tags: s.tags, host };
}
