/**
 * One server's evacuation as a reconcile step, level-based as controller-runtime's Reconcile: from
 * the server's frozen plan, what the journal records of it and what Nova shows now, decide the one
 * next thing to do and when to look again. Every decision of an evacuation (attempts, state resets,
 * re-force-down, give-up, tracking) is made here; src/recovery/evacuation.ts only observes, acts
 * and journals. Pure: time and the jitter draw come in as inputs.
 */

/** The recovery settings a step reads (a slice of the recovery config). */
export interface EvacuationPolicy {
  /** Evacuate attempts per server, the first one included. */
  maxAttempts: number;
  /** An evacuation still unfinished this long after its evacuate is failed and left alone. */
  instanceTimeoutMs: number;
  pollIntervalMs: number;
  /** Backoff before the next attempt: doubled per attempt, capped, jittered to 50–100 %. */
  retryBackoffMs: number;
  maxRetryBackoffMs: number;
}

/** A server chosen for evacuation, as frozen at selection, plus this coordinator's start on it. */
export interface EvacuationPlan {
  /** The failed (fenced) host the server is evacuated from. */
  sourceHost: string;
  /** vm_state before the failure: an active server is reset to active, any other to error. */
  vmState: string | null;
  /** Evacuation migrations that existed before this recovery: never taken for ours. */
  baselineMigrationIds: readonly number[];
  /** When this coordinator took the server up: the clock of an evacuation it finds in flight without having sent one. */
  sinceMs: number;
  policy: EvacuationPolicy;
}

/** What the journal holds about one server (the recovery journal's per-server records, without the id). */
export type EvacuationEntry =
  | { t: 'intent'; at: number; attempt: number; target: string | null }
  | { t: 'accepted'; at: number; attempt: number; how: 'accepted' | 'conflict' | 'found' }
  | { t: 'reset'; at: number; state: ResetState }
  | { t: 'done'; at: number; target: string; durationMs: number }
  | { t: 'failed'; at: number; attempt: number; reason: string; final: boolean; migrationIds: number[] };

export type ResetState = 'active' | 'error';

/** The server fields a step reads, as Nova shows them. */
export interface ServerView {
  /** OS-EXT-SRV-ATTR:host; null when it has none. */
  host: string | null;
  status: string;
  vmState: string | null;
  taskState: string | null;
  /** Nova's fault message while the server is ERROR (set by the failure that just happened), else null/absent. */
  fault?: string | null;
}

/**
 * Failures that another attempt cannot fix, by Nova's fault message: the scheduler found no host
 * (no capacity, the requested target host full or disabled, an affinity group whose hosts cannot
 * take it: nova/conductor/manager.py rebuild_instance, NoValidHost), or a server-group policy refusal.
 * The server ends failed at once with Nova's words (recovery_failed), not after max_attempts retries.
 */
const HOPELESS_FAULTS: ReadonlyArray<{ re: RegExp; why: string }> = [
  { re: /no valid host was found/i, why: 'no capacity' },
  { re: /(anti-)?affinity|server group|group policy/i, why: 'server group policy' },
];

export function hopelessFault(fault: string | null | undefined): string | null {
  if (!fault) return null;
  const hit = HOPELESS_FAULTS.find((h) => h.re.test(fault));
  return hit ? `${hit.why}: Nova says "${fault}"` : null;
}

/** A migration's status in the terms a step decides by (Nova's vocabulary is mapped at the edge). */
export type MigrationPhase = 'moving' | 'succeeded' | 'failed' | 'other';

export interface MigrationView {
  id: number;
  /** Nova's status word, for messages. */
  status: string;
  phase: MigrationPhase;
}

/** Nova's answer to an evacuate when it was not a plain acceptance. */
export type EvacuateError =
  /** A 4xx: Nova read the request and refused it. `serviceInUse`: 400 "Compute service of H is still in use." */
  | { kind: 'refused'; status: number; fault: string; serviceInUse: boolean }
  /** A reset, timeout or 5xx: Nova may or may not have carried it out. */
  | { kind: 'lost'; message: string };

/** What the loop saw this round. */
export interface EvacuationObservation {
  /** null: Nova says the server no longer exists; undefined: not read this round (a poll of the migrations alone). */
  server: ServerView | null | undefined;
  /** Evacuation migrations of the server from the source host, as Nova lists them (baseline included). */
  migrations: readonly MigrationView[];
  /** Nova's answer to the evacuate of the journal's last intent, when that answer was not an acceptance. */
  evacuateError?: EvacuateError;
  /** A draw in [0, 1) from the loop's random source: spreads the retry backoff. */
  jitter: number;
}

export type EvacuationAction =
  /** Journal the intent, then evacuate; first reset the server's state when `resetTo` is set (journaled before it). */
  | { type: 'evacuate'; attempt: number; resetTo: ResetState | null }
  /** Nova has the evacuation after all (the answer was a conflict or was lost): journal it as accepted. */
  | { type: 'adopt'; attempt: number; how: 'conflict' | 'found' }
  /** Journal a failed attempt (final: given up for good); first force the source down again when asked. */
  | { type: 'fail'; attempt: number; reason: string; final: boolean; migrationIds: number[]; forceDown: boolean }
  /** Journal the server as evacuated. */
  | { type: 'finish'; target: string; durationMs: number }
  /** Nothing to do but look again (an evacuation is moving). */
  | { type: 'wait' }
  /** The migrations alone no longer decide: read the server too, now. */
  | { type: 'read_server' };

export type EvacuationOutcome = { ok: true; target: string } | { ok: false; reason: string };

export type EvacuationStep = { action: EvacuationAction; requeueAfterMs: number } | { terminal: EvacuationOutcome };

/** The end the journal already records, if any: a server evacuated or given up is never touched again. */
export function recordedOutcome(journal: readonly EvacuationEntry[]): EvacuationOutcome | null {
  const done = journal.find((e) => e.t === 'done');
  if (done) return { ok: true, target: done.target };
  const final = failures(journal).find((f) => f.final);
  return final ? { ok: false, reason: final.reason } : null;
}

function failures(journal: readonly EvacuationEntry[]): Array<Extract<EvacuationEntry, { t: 'failed' }>> {
  return journal.filter((e) => e.t === 'failed');
}

/**
 * The next step for one server. Rules, in order:
 *  1. the journal records an end → terminal;
 *  2. Nova did not plainly accept the evacuate just sent → settle that attempt from its answer;
 *  3. the server is gone → give up;
 *  4. it is ACTIVE (SHUTOFF if it was stopped) on another host with no task → evacuated, even while
 *     a migration of ours still shows moving (see below);
 *  5. an evacuation of ours is moving → wait (never re-issue it), give up at the instance timeout;
 *  6. the server was not read this round → read it;
 *  7. it still has a task after our migration succeeded → wait (the rebuild is finishing);
 *  8. a migration of ours failed → a failed attempt (the last one ends it), retried after backoff;
 *  9. our accepted evacuate has not ended → wait;
 * 10. attempts used up → give up; else evacuate, resetting a stuck task state or an error that should be active.
 * "Ours": not in the plan's baseline and not a migration already journaled as failed.
 *
 * Why the server's view outranks a moving migration (rule 4 before 5): nova-api sets the task
 * (rebuilding) before it creates the evacuation migration (nova/compute/api.py evacuate), and the
 * destination clears the task, then moves the server's host, and only then marks the migration done
 * (nova/compute/resource_tracker.py finish_evacuation). So a server with no task on another host has
 * been rebuilt there, whatever a migration read a moment earlier, or read less often, still says.
 * The tracker relies on this: a poll a Nova notification asks for lists only the servers.
 */
export function nextStep(
  plan: EvacuationPlan,
  journal: readonly EvacuationEntry[],
  obs: EvacuationObservation,
  now: number,
): EvacuationStep {
  const recorded = recordedOutcome(journal);
  if (recorded) return { terminal: recorded };
  const p = plan.policy;
  const attempt = journal.filter((e) => e.t === 'intent').length;
  const knownFailed = new Set<number>();
  for (const f of failures(journal)) for (const id of f.migrationIds) knownFailed.add(id);
  const ours = obs.migrations.filter((m) => !plan.baselineMigrationIds.includes(m.id) && !knownFailed.has(m.id));
  // The attempt's own end, as journaled: an intent not yet followed by its acceptance or failure is unanswered.
  const last = journal.filter((e) => e.t === 'intent' || e.t === 'accepted' || e.t === 'failed').at(-1);
  const sentAt = journal.filter((e) => e.t === 'intent').at(-1)?.at ?? plan.sinceMs;

  const giveUp = (reason: string): EvacuationStep => failed(attempt, reason, true, [], false, 0);
  const retry = (reason: string, migrationIds: number[], forceDown: boolean): EvacuationStep => {
    const final = attempt >= p.maxAttempts;
    return failed(attempt, reason, final, migrationIds, forceDown, final ? 0 : backoffMs(attempt, p, obs.jitter));
  };
  const waitOrGiveUp = (): EvacuationStep =>
    now - sentAt > p.instanceTimeoutMs
      ? giveUp(`no end within ${p.instanceTimeoutMs}ms; evacuation still in flight, not re-issued`)
      : { action: { type: 'wait' }, requeueAfterMs: p.pollIntervalMs };
  const moving = ours.some((m) => m.phase === 'moving');
  const server = obs.server;

  const e = obs.evacuateError;
  if (e && last?.t === 'intent') {
    if (e.kind === 'lost') {
      // Ask before anything else: a migration of ours that did not fail means Nova took it.
      if (ours.some((m) => m.phase !== 'failed')) return adopt(attempt, 'found');
      return retry(`evacuate not carried out: ${e.message}`, [], false);
    }
    const refusal = `Nova refused evacuate (${e.status}): ${e.fault}`;
    if (e.status === 404 && server === null) return giveUp('server no longer exists');
    // 401/403: our credentials lack the admin role for evacuate; retrying cannot help.
    if (e.status === 401 || e.status === 403) return giveUp(refusal);
    // 409 conflictingRequest, or 400 "still in use" because it already moved: in flight, not a failure.
    const movedAway = !!server?.host && server.host !== plan.sourceHost && server.vmState !== 'error';
    if (moving || movedAway) return adopt(attempt, 'conflict');
    // "Still in use": the force-down did not take (or was undone); force it again before the next attempt.
    return retry(refusal, [], e.serviceInUse);
  }
  if (server === null) return giveUp('server no longer exists (deleted?)');
  const target = server === undefined ? null : settledOn(plan, server);
  if (target !== null) return { action: { type: 'finish', target, durationMs: now - sentAt }, requeueAfterMs: 0 };
  if (moving) return waitOrGiveUp();
  if (server === undefined) return { action: { type: 'read_server' }, requeueAfterMs: 0 };
  // A rebuild that Nova counts done while the server still has a task: it is finishing, not failed.
  if (server.taskState !== null && ours.some((m) => m.phase === 'succeeded')) return waitOrGiveUp();
  const failedNow = ours.filter((m) => m.phase === 'failed');
  const hopeless = failedNow.length > 0 ? hopelessFault(server.fault) : null;
  if (hopeless !== null) {
    const ids = failedNow.map((m) => m.id);
    const which = failedNow.map((m) => `${m.id} ${m.status}`).join(', ');
    return failed(attempt, `${hopeless} (evacuation migration ${which}); not retried`, true, ids, false, 0);
  }
  if (failedNow.length > 0) {
    // Nova's own reason (the server's fault, e.g. the scheduler's NoValidHost) tells the operator what to fix.
    const why = server.vmState === 'error' && server.fault ? ` (Nova: ${server.fault})` : '';
    return retry(
      `evacuation migration ${failedNow.map((m) => `${m.id} ${m.status}`).join(', ')}${why}`,
      failedNow.map((m) => m.id),
      false,
    );
  }
  // Accepted and nothing conclusive yet: an accepted evacuation is tracked to its end, never re-issued.
  if (last?.t === 'accepted') return waitOrGiveUp();
  if (attempt >= p.maxAttempts) return giveUp(`gave up after ${attempt} attempt(s)`);
  // A stuck task state (no evacuation of ours moving) makes Nova answer 409: reset first. So does an
  // error state on a server that should come back active (an error-to-error reset would change nothing).
  const resetTo: ResetState = plan.vmState === 'active' ? 'active' : 'error';
  const reset = server.taskState !== null || (server.vmState === 'error' && resetTo === 'active');
  return { action: { type: 'evacuate', attempt: attempt + 1, resetTo: reset ? resetTo : null }, requeueAfterMs: 0 };
}

/** The host a server is evacuated to: another host, no task, ACTIVE (SHUTOFF if it was stopped); else null. */
function settledOn(plan: EvacuationPlan, s: ServerView): string | null {
  if (!s.host || s.host === plan.sourceHost || s.taskState !== null) return null;
  return s.status === 'ACTIVE' || (s.status === 'SHUTOFF' && plan.vmState === 'stopped') ? s.host : null;
}

/** Wait before attempt `attempt + 1`: retryBackoffMs doubled per attempt made, capped, then 50–100 % of it. */
export function backoffMs(attempt: number, p: EvacuationPolicy, jitter: number): number {
  const ms = Math.min(p.maxRetryBackoffMs, p.retryBackoffMs * 2 ** Math.max(0, attempt - 1));
  return ms * (0.5 + jitter / 2);
}

function failed(
  attempt: number,
  reason: string,
  final: boolean,
  migrationIds: number[],
  forceDown: boolean,
  requeueAfterMs: number,
): EvacuationStep {
  return { action: { type: 'fail', attempt, reason, final, migrationIds, forceDown }, requeueAfterMs };
}

function adopt(attempt: number, how: 'conflict' | 'found'): EvacuationStep {
  return { action: { type: 'adopt', attempt, how }, requeueAfterMs: 0 };
}
