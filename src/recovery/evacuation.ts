import {
  nextStep,
  recordedOutcome,
  type EvacuateError,
  type EvacuationAction,
  type EvacuationObservation,
  type EvacuationOutcome,
  type EvacuationPlan,
  type MigrationView,
  type ServerView,
} from '../core/evacuation-step.js';
import type { EventSink } from '../core/ports.js';
import { assertNever } from '../errors.js';
import { withFields, type Logger } from '../log.js';
import { OpenStackApiError } from '../openstack/errors.js';
import type { ComputeClient } from '../openstack/compute.js';
import type { Migration } from '../openstack/types.js';
import type { RecoveryConfig } from './config.js';
import type { Journal, PlannedServer } from './journal.js';
import { sleep, type Limiter } from './limiter.js';
import { isUnreachable, type Reachability } from './reachability.js';
import { phaseOf, type EvacuationTracker } from './tracker.js';

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
  /** The server as this run's selection listed it, when it was idle then (no task, no evacuation in flight). */
  listedIdle: (id: string) => ServerView | undefined;
  /** Picks the target for the next evacuate (reserved hosts round-robin) or undefined. */
  target: () => string | undefined;
  signal: AbortSignal;
  /** The incident's name: the once-per-server notifications carry ids derived from it. */
  incident?: string;
  /** Told of each poll Nova did not answer (the compute_api_unreachable alarm). */
  reachability?: Reachability;
  /** The shared listing poller: every tracking look goes through it (a few calls per poll for all servers). */
  tracker: EvacuationTracker;
}

export type Outcome = EvacuationOutcome;

/** One round's look at Nova; the loop adds the jitter draw when it hands it to the step. */
type Seen = Omit<EvacuationObservation, 'jitter'>;
type Action<T extends EvacuationAction['type']> = Extract<EvacuationAction, { type: T }>;

/**
 * Brings one server to its end: evacuated and ACTIVE elsewhere, or failed. A reconcile loop:
 * observe Nova, let the core decide the next step (src/core/evacuation-step.ts), act and journal,
 * until the step is terminal. Every evacuate follows a look at Nova, so an evacuation already in
 * flight — including one sent by a coordinator that died — is tracked, never re-issued.
 */
export async function recoverServer(p: PlannedServer, d: EvacuationDeps): Promise<Outcome> {
  const id = p.ref.id;
  const recorded = recordedOutcome(d.journal.forServer(id));
  if (recorded) return recorded;
  const plan: EvacuationPlan = {
    sourceHost: d.host,
    vmState: p.vmState,
    baselineMigrationIds: p.baselineMigrationIds,
    sinceMs: d.now(),
    policy: d.cfg,
  };
  const log = withFields(d.log, { server: id, name: p.ref.name });
  const release = await d.inFlight.acquire(d.signal, d.rankOf(id));
  // The tracker's listings, as one observation: no call of its own per server.
  const tracked = async (): Promise<Seen> => d.tracker.observe(id, d.signal);
  try {
    d.tracker.track(id, d.host, plan.sinceMs);
    // A server selected moments ago in this run, idle then and never sent: the selection's listing is
    // its first observation (so the first requests go out strictly by priority).
    const listed = d.journal.forServer(id).length === 0 ? d.listedIdle(id) : undefined;
    let seen: Seen = listed ? { server: listed, migrations: [] } : await observe(p, d);
    // The observation behind the last wait: when a poll fails it stands, and the step waits again (or times out).
    let standing = seen;
    for (;;) {
      const step = nextStep(plan, d.journal.forServer(id), { ...seen, jitter: d.random() }, d.now());
      if ('terminal' in step) return step.terminal;
      const a = step.action;
      // After a step that only journals (adopt, finish, a final fail) the same observation stands;
      // after anything else the loop waits as told and looks again.
      switch (a.type) {
        case 'evacuate':
          seen = await evacuate(p, d, a, seen.server, log);
          break;
        case 'adopt':
          d.journal.append({ t: 'accepted', at: d.now(), id, attempt: a.attempt, how: a.how });
          log.info({ attempt: a.attempt, how: a.how }, 'Nova has the evacuation after all: tracking it');
          seen = { server: seen.server, migrations: seen.migrations };
          break;
        case 'finish':
          d.journal.append({ t: 'done', at: d.now(), id, target: a.target, durationMs: a.durationMs });
          d.events.publish({
            type: 'instance.evacuate_end',
            at: d.now(),
            host: d.host,
            server: p.ref,
            targetHost: a.target,
            durationMs: a.durationMs,
            ...(d.incident ? { incident: d.incident } : {}),
          });
          log.info({ target: a.target, durationMs: a.durationMs }, 'server evacuated');
          break;
        case 'fail':
          await recordFailure(p, d, a, log);
          if (!a.final) {
            await sleep(step.requeueAfterMs, d.signal);
            seen = await observe(p, d);
          }
          break;
        case 'wait':
          // The tracker sets the pace (fast after an evacuate, backing off while nothing changes):
          // its next poll is the wait.
          standing = seen;
          seen = await polled(d, standing, log, tracked);
          break;
        case 'read_server':
          seen = await polled(d, standing, log, tracked);
          break;
        default:
          assertNever(a, 'evacuation action');
      }
    }
  } finally {
    d.tracker.untrack(id);
    release();
  }
}

/** Resets the server's state first when told, then sends the evacuate; returns what Nova shows after it. */
async function evacuate(p: PlannedServer, d: EvacuationDeps, a: Action<'evacuate'>, was: Seen['server'], log: Logger): Promise<Seen> {
  const id = p.ref.id;
  if (a.resetTo) {
    d.journal.append({ t: 'reset', at: d.now(), id, state: a.resetTo });
    log.warn({ taskState: was?.taskState, vmState: was?.vmState, state: a.resetTo }, 'resetting server state before evacuate');
    await d.compute.resetState(id, a.resetTo, d.signal);
  }
  const target = d.target();
  d.journal.append({ t: 'intent', at: d.now(), id, attempt: a.attempt, target: target ?? null });
  d.events.publish({ type: 'instance.evacuate_start', at: d.now(), host: d.host, server: p.ref, attempt: a.attempt });
  let evacuateError: EvacuateError;
  try {
    const res = await d.requests.run(() => d.compute.evacuate(id, target, d.signal), d.signal, d.rankOf(id));
    d.journal.append({ t: 'accepted', at: d.now(), id, attempt: a.attempt, how: 'accepted' });
    log.info({ attempt: a.attempt, target, requestId: res.requestId }, 'evacuate accepted');
    // Accepted: the tracker's next poll (soon now) is the first look; nothing read here per server.
    d.tracker.hurry();
    return { server: undefined, migrations: [] };
  } catch (err) {
    if (d.signal.aborted) throw err;
    // A refusal (4xx) or an answer lost (reset, timeout, 5xx): the step reads it together with Nova's state.
    evacuateError =
      err instanceof OpenStackApiError && err.isClientError
        ? { kind: 'refused', status: err.status, fault: err.faultMessage, serviceInUse: err.isServiceInUse }
        : { kind: 'lost', message: (err as Error).message };
    log.info({ attempt: a.attempt, err }, 'evacuate not plainly accepted: asking Nova');
  }
  return { ...(await observe(p, d)), evacuateError };
}

async function recordFailure(p: PlannedServer, d: EvacuationDeps, a: Action<'fail'>, log: Logger): Promise<void> {
  if (a.forceDown) {
    log.warn({ reason: a.reason }, 'source compute still in use: forcing it down again');
    await d.compute.setForcedDown(d.host, true, d.signal).catch((e: unknown) => log.warn({ err: e }, 'force-down failed'));
  }
  const { attempt, reason, final, migrationIds } = a;
  d.journal.append({ t: 'failed', at: d.now(), id: p.ref.id, attempt, reason, final, migrationIds });
  d.events.publish({ type: 'instance.evacuate_error', at: d.now(), host: d.host, server: p.ref, reason, attempt, final });
  log[final ? 'error' : 'warn']({ attempt, reason, final }, final ? 'evacuation failed for good' : 'evacuation attempt failed');
}

/** A poll while tracking: a failure is logged and the observation behind the wait stands. */
async function polled(d: EvacuationDeps, standing: Seen, log: Logger, look: () => Promise<Seen>): Promise<Seen> {
  try {
    const seen = await look();
    d.reachability?.answered(d.host);
    return seen;
  } catch (err) {
    // Nova not answering decides nothing: the caller waits for it (alarm) rather than stepping on a stale view.
    if (d.signal.aborted || isUnreachable(err)) throw err;
    log.warn({ err }, 'tracking poll failed; polling again');
    return standing;
  }
}

async function observe(p: PlannedServer, d: EvacuationDeps): Promise<Seen> {
  const [server, migrations] = await Promise.all([d.compute.getServer(p.ref.id, d.signal), listMigrations(p, d)]);
  return { server, migrations };
}

async function listMigrations(p: PlannedServer, d: EvacuationDeps): Promise<MigrationView[]> {
  const listed = await d.compute.listMigrations({ instanceUuid: p.ref.id, sourceCompute: d.host }, d.signal);
  return listed.map((m: Migration) => ({ id: m.id, status: m.status, phase: phaseOf(m.status) }));
}
