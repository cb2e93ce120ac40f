import type { ServerRef } from '../core/events.js';
import type { EventSink } from '../core/ports.js';
import type { Logger } from '../log.js';
import { OpenStackApiError } from '../openstack/errors.js';
import type { ComputeClient } from '../openstack/compute.js';
import { FAILED_MIGRATION, IN_FLIGHT_MIGRATION, SUCCEEDED_MIGRATION, type Migration, type Server } from '../openstack/types.js';
import type { RecoveryConfig } from './config.js';
import type { Journal, PlannedServer } from './journal.js';
import { sleep, type Limiter } from './limiter.js';

export type ComputeApi = Pick<ComputeClient, 'evacuate' | 'getServer' | 'listMigrations' | 'resetState' | 'setForcedDown'>;

export interface EvacuationDeps {
  host: string;
  compute: ComputeApi;
  journal: Journal;
  events: EventSink;
  log: Logger;
  cfg: RecoveryConfig;
  requests: Limiter;
  inFlight: Limiter;
  now: () => number;
  /** Jitter source in [0, 1) (injected so tests can pin it). */
  random: () => number;
  /** Position of a server in the priority order (0 = first): queue slots go by it. */
  rankOf: (id: string) => number;
  /** True for a server selected in this run, idle (no task, no evacuation in flight) when listed. */
  freshlySelected: (id: string) => boolean;
  /** Picks the target for the next evacuate (reserved hosts round-robin) or undefined. */
  target: () => string | undefined;
  signal: AbortSignal;
}

export type Outcome = { ok: true; target: string } | { ok: false; reason: string };

/** What Nova says about one server now, relative to this recovery. */
interface Observation {
  server: Server | null;
  /** Evacuation migrations from this host created by this recovery (not baseline, not known failed). */
  ours: Migration[];
}

/**
 * Brings one server to its end: evacuated and ACTIVE elsewhere, or failed after maxAttempts.
 * Before every evacuate it asks Nova (server task_state + migrations), so an evacuation already
 * in flight — including one sent by a coordinator that died — is tracked, never re-issued.
 */
export async function recoverServer(p: PlannedServer, d: EvacuationDeps): Promise<Outcome> {
  const id = p.ref.id;
  const log = d.log.child({ server: id, name: p.ref.name });
  const past = d.journal.forServer(id);
  const doneRec = past.find((r) => r.t === 'done');
  if (doneRec && doneRec.t === 'done') return { ok: true, target: doneRec.target };
  const finalRec = past.find((r) => r.t === 'failed' && r.final);
  if (finalRec && finalRec.t === 'failed') return { ok: false, reason: finalRec.reason };
  const knownFailed = new Set<number>(past.flatMap((r) => (r.t === 'failed' ? r.migrationIds : [])));
  let attempt = past.filter((r) => r.t === 'intent').length;
  const lastAccepted = [...past].reverse().find((r) => r.t === 'accepted');
  let startedAt = lastAccepted?.at ?? d.now();

  const release = await d.inFlight.acquire(d.signal, d.rankOf(id));
  // A server selected moments ago in this run, idle then and never sent: the selection's own
  // observation stands for the first round (so the first requests go out strictly by priority).
  let observed = !(past.length === 0 && d.freshlySelected(id));
  try {
    for (;;) {
      if (observed) {
        const obs = await observe(p, d, knownFailed);
        if (!obs.server) return fail(p, d, attempt, 'server no longer exists (deleted?)', true, []);
        if (settled(p, obs, d.host)) {
          const target = obs.server.host!;
          const durationMs = d.now() - startedAt;
          d.journal.append({ t: 'done', at: d.now(), id, target, durationMs });
          d.events.publish({ type: 'instance.evacuate_end', at: d.now(), host: d.host, server: p.ref, targetHost: target, durationMs });
          log.info({ target, durationMs }, 'server evacuated');
          return { ok: true, target };
        }
        const moving = obs.ours.some((m) => IN_FLIGHT_MIGRATION.has(m.status));
        if (moving || (obs.server.taskState !== null && obs.ours.some((m) => SUCCEEDED_MIGRATION.has(m.status)))) {
          // In flight (ours, or one a previous coordinator sent): track it, never re-issue.
          const res = await track(p, d, knownFailed, startedAt);
          if (res === 'timeout') return fail(p, d, attempt, `no end within ${d.cfg.instanceTimeoutMs}ms; evacuation still in flight, not re-issued`, true, []);
          continue; // settled or failed: the next observation says which
        }
        const failedNow = obs.ours.filter((m) => FAILED_MIGRATION.has(m.status));
        if (failedNow.length > 0) {
          const ids = failedNow.map((m) => m.id);
          ids.forEach((x) => knownFailed.add(x));
          const final = attempt >= d.cfg.maxAttempts;
          await fail(p, d, attempt, `evacuation migration ${failedNow.map((m) => `${m.id} ${m.status}`).join(', ')}`, final, ids);
          if (final) return { ok: false, reason: 'evacuation failed' };
          await backoff(attempt, d);
          continue;
        }
        if (attempt >= d.cfg.maxAttempts) return fail(p, d, attempt, `gave up after ${attempt} attempt(s)`, true, []);
        if (obs.server.taskState !== null || obs.server.vmState === 'error') {
          // A stuck task state (no evacuation of ours in flight) makes Nova answer 409: reset first.
          const state = p.vmState === 'active' ? 'active' : 'error';
          d.journal.append({ t: 'reset', at: d.now(), id, state });
          log.warn({ taskState: obs.server.taskState, vmState: obs.server.vmState, state }, 'resetting server state before evacuate');
          await d.compute.resetState(id, state, d.signal);
        }
      }
      observed = true;
      attempt++;
      startedAt = d.now();
      const r = await sendEvacuate(p, d, attempt, knownFailed, log);
      if (r === 'accepted') continue;
      if (r.final) return fail(p, d, attempt, r.reason, true, []);
      await fail(p, d, attempt, r.reason, attempt >= d.cfg.maxAttempts, []);
      if (attempt >= d.cfg.maxAttempts) return { ok: false, reason: r.reason };
      await backoff(attempt, d);
    }
  } finally {
    release();
  }
}

async function sendEvacuate(
  p: PlannedServer, d: EvacuationDeps, attempt: number, knownFailed: Set<number>, log: Logger,
): Promise<'accepted' | { reason: string; final: boolean }> {
  const id = p.ref.id;
  const target = d.target();
  d.journal.append({ t: 'intent', at: d.now(), id, attempt, target: target ?? null });
  d.events.publish({ type: 'instance.evacuate_start', at: d.now(), host: d.host, server: p.ref, attempt });
  try {
    const res = await d.requests.run(() => d.compute.evacuate(id, target, d.signal), d.signal, d.rankOf(id));
    d.journal.append({ t: 'accepted', at: d.now(), id, attempt, how: 'accepted' });
    log.info({ attempt, target, requestId: res.requestId }, 'evacuate accepted');
    return 'accepted';
  } catch (err) {
    if (d.signal.aborted) throw err;
    if (err instanceof OpenStackApiError && err.isClientError) {
      const obs = await observe(p, d, knownFailed);
      if (err.status === 404 && !obs.server) return { reason: 'server no longer exists', final: true };
      // 401/403: our credentials lack the admin role for evacuate; retrying cannot help.
      if (err.status === 401 || err.status === 403) return { reason: `Nova refused evacuate (${err.status}): ${err.faultMessage}`, final: true };
      const movedAway = !!obs.server?.host && obs.server.host !== d.host && obs.server.vmState !== 'error';
      if (obs.ours.some((m) => IN_FLIGHT_MIGRATION.has(m.status)) || movedAway) {
        // 409 conflictingRequest (or 400 "still in use" because it already moved): in flight, not a failure.
        d.journal.append({ t: 'accepted', at: d.now(), id, attempt, how: 'conflict' });
        log.info({ status: err.status, fault: err.faultMessage }, 'evacuation already in flight or done');
        return 'accepted';
      }
      if (err.isServiceInUse) {
        // Force-down did not take (or was undone): force it again before the next attempt.
        log.warn({ fault: err.faultMessage }, 'source compute still in use: forcing it down again');
        await d.compute.setForcedDown(d.host, true, d.signal).catch((e: unknown) => log.warn({ err: e }, 'force-down failed'));
      }
      return { reason: `Nova refused evacuate (${err.status}): ${err.faultMessage}`, final: false };
    }
    // Reset, timeout or 5xx: Nova may or may not have accepted it. Ask before anything else.
    const obs = await observe(p, d, knownFailed);
    if (obs.ours.some((m) => !FAILED_MIGRATION.has(m.status))) {
      d.journal.append({ t: 'accepted', at: d.now(), id, attempt, how: 'found' });
      log.info({ err }, 'evacuate answer lost, but Nova has the migration: tracking it');
      return 'accepted';
    }
    return { reason: `evacuate not carried out: ${(err as Error).message}`, final: false };
  }
}

/** Polls until the server settles, its migration fails, or the per-instance timeout passes. */
async function track(p: PlannedServer, d: EvacuationDeps, knownFailed: Set<number>, startedAt: number): Promise<'settled' | 'failed' | 'timeout'> {
  for (;;) {
    if (d.now() - startedAt > d.cfg.instanceTimeoutMs) return 'timeout';
    await sleep(d.cfg.pollIntervalMs, d.signal);
    let obs: Observation;
    try {
      // While a migration of ours is still moving, one call per poll is enough; the server is
      // read only once it has settled one way or the other (halves the load on nova-api).
      const moving = (await d.compute.listMigrations({ instanceUuid: p.ref.id, sourceCompute: d.host }, d.signal))
        .some((m) => IN_FLIGHT_MIGRATION.has(m.status) && !knownFailed.has(m.id) && !p.baselineMigrationIds.includes(m.id));
      if (moving) continue;
      obs = await observe(p, d, knownFailed);
    } catch (err) {
      if (d.signal.aborted) throw err;
      d.log.warn({ err, server: p.ref.id }, 'tracking poll failed; polling again');
      continue;
    }
    if (!obs.server || settled(p, obs, d.host)) return 'settled';
    if (obs.ours.some((m) => IN_FLIGHT_MIGRATION.has(m.status))) continue;
    if (obs.ours.some((m) => FAILED_MIGRATION.has(m.status)) && !obs.ours.some((m) => SUCCEEDED_MIGRATION.has(m.status))) return 'failed';
  }
}

async function observe(p: PlannedServer, d: EvacuationDeps, knownFailed: Set<number>): Promise<Observation> {
  const [server, migrations] = await Promise.all([
    d.compute.getServer(p.ref.id, d.signal),
    d.compute.listMigrations({ instanceUuid: p.ref.id, sourceCompute: d.host }, d.signal),
  ]);
  const baseline = new Set(p.baselineMigrationIds);
  return { server, ours: migrations.filter((m) => !baseline.has(m.id) && !knownFailed.has(m.id)) };
}

/** Evacuated: on another host, no task, ACTIVE (SHUTOFF if it was stopped), nothing of ours moving. */
function settled(p: PlannedServer, o: Observation, host: string): boolean {
  const s = o.server;
  if (!s || !s.host || s.host === host || s.taskState !== null) return false;
  if (o.ours.some((m) => IN_FLIGHT_MIGRATION.has(m.status))) return false;
  return s.status === 'ACTIVE' || (s.status === 'SHUTOFF' && p.vmState === 'stopped');
}

async function fail(p: PlannedServer, d: EvacuationDeps, attempt: number, reason: string, final: boolean, migrationIds: number[]): Promise<Outcome> {
  d.journal.append({ t: 'failed', at: d.now(), id: p.ref.id, attempt, reason, final, migrationIds });
  d.events.publish({ type: 'instance.evacuate_error', at: d.now(), host: d.host, server: p.ref, reason, attempt, final });
  d.log[final ? 'error' : 'warn']({ server: p.ref.id, attempt, reason, final }, final ? 'evacuation failed for good' : 'evacuation attempt failed');
  return { ok: false, reason };
}

function backoff(attempt: number, d: EvacuationDeps): Promise<void> {
  const ms = Math.min(d.cfg.maxRetryBackoffMs, d.cfg.retryBackoffMs * 2 ** Math.max(0, attempt - 1));
  return sleep(ms * (0.5 + d.random() / 2), d.signal);
}

export type { ServerRef };
