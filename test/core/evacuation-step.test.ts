import { describe, expect, it } from 'vitest';
import {
  backoffMs,
  nextStep,
  recordedOutcome,
  type EvacuateError,
  type EvacuationEntry,
  type EvacuationPlan,
  type EvacuationStep,
  type MigrationPhase,
  type MigrationView,
  type ResetState,
  type ServerView,
} from '../../src/core/evacuation-step.js';

/**
 * One row per rule of nextStep (src/core/evacuation-step.ts): the plan, the server's journal, what
 * Nova shows, and the exact step expected. Each row pins one rule, so breaking a rule fails a row.
 */

const policy = { maxAttempts: 3, instanceTimeoutMs: 1_000, pollIntervalMs: 10, retryBackoffMs: 100, maxRetryBackoffMs: 1_000 };
const SINCE = 50;
const NOW = 400;

function plan(over: Partial<EvacuationPlan> = {}): EvacuationPlan {
  return { sourceHost: 'cmp1', vmState: 'active', baselineMigrationIds: [], sinceMs: SINCE, policy, ...over };
}

// Servers as Nova shows them.
const idle: ServerView = { host: 'cmp1', status: 'ACTIVE', vmState: 'active', taskState: null };
const rebuilding: ServerView = { host: 'cmp1', status: 'REBUILD', vmState: 'active', taskState: 'rebuilding' };
const rebuildFailed: ServerView = { host: 'cmp1', status: 'ERROR', vmState: 'error', taskState: null };
const evacuated: ServerView = { host: 'cmp2', status: 'ACTIVE', vmState: 'active', taskState: null };
const finishing: ServerView = { host: 'cmp2', status: 'REBUILD', vmState: 'active', taskState: 'rebuild_spawning' };

const STATUS: Record<MigrationPhase, string> = { moving: 'pre-migrating', succeeded: 'done', failed: 'failed', other: 'confirmed' };
const mig = (id: number, phase: MigrationPhase, status = STATUS[phase]): MigrationView => ({ id, status, phase });

// Journal entries.
const intent = (attempt: number, at = 100 * attempt): EvacuationEntry => ({ t: 'intent', at, attempt, target: null });
const accepted = (attempt: number, how: 'accepted' | 'conflict' | 'found' = 'accepted'): EvacuationEntry => ({
  t: 'accepted',
  at: 100 * attempt + 5,
  attempt,
  how,
});
const failedAt = (attempt: number, migrationIds: number[] = [], final = false): EvacuationEntry => ({
  t: 'failed',
  at: 100 * attempt + 50,
  attempt,
  reason: 'earlier',
  final,
  migrationIds,
});
const reset = (state: ResetState = 'active'): EvacuationEntry => ({ t: 'reset', at: 1, state });
const done: EvacuationEntry = { t: 'done', at: 9, target: 'cmp3', durationMs: 4 };
/** Two attempts made and failed, the third sent and not answered. */
const third = [intent(1), failedAt(1), intent(2), failedAt(2), intent(3)];

interface Row {
  name: string;
  plan?: Partial<EvacuationPlan>;
  journal?: EvacuationEntry[];
  server: ServerView | null | undefined;
  migrations?: MigrationView[];
  error?: EvacuateError;
  jitter?: number;
  now?: number;
  step: EvacuationStep;
}

function run(r: Row): EvacuationStep {
  const obs = { server: r.server, migrations: r.migrations ?? [], evacuateError: r.error, jitter: r.jitter ?? 0 };
  return nextStep(plan(r.plan), r.journal ?? [], obs, r.now ?? NOW);
}

function table(rows: Row[]): void {
  it.each(rows.map((r) => [r.name, r] as const))('%s', (_name, r) => {
    expect(run(r)).toEqual(r.step);
  });
}

const wait: EvacuationStep = { action: { type: 'wait' }, requeueAfterMs: policy.pollIntervalMs };
const readServer: EvacuationStep = { action: { type: 'read_server' }, requeueAfterMs: 0 };
const evacuate = (attempt: number, resetTo: ResetState | null = null): EvacuationStep => ({
  action: { type: 'evacuate', attempt, resetTo },
  requeueAfterMs: 0,
});
const adopt = (attempt: number, how: 'conflict' | 'found'): EvacuationStep => ({
  action: { type: 'adopt', attempt, how },
  requeueAfterMs: 0,
});
const finish = (target: string, durationMs: number): EvacuationStep => ({
  action: { type: 'finish', target, durationMs },
  requeueAfterMs: 0,
});
interface FailOpts {
  final?: boolean;
  migrationIds?: number[];
  forceDown?: boolean;
  after?: number;
}
const fail = (attempt: number, reason: string, o: FailOpts = {}): EvacuationStep => ({
  action: { type: 'fail', attempt, reason, final: o.final ?? false, migrationIds: o.migrationIds ?? [], forceDown: o.forceDown ?? false },
  requeueAfterMs: o.after ?? 0,
});
const giveUp = (attempt: number, reason: string): EvacuationStep => fail(attempt, reason, { final: true });
const TIMEOUT = `no end within ${policy.instanceTimeoutMs}ms; evacuation still in flight, not re-issued`;
const lost: EvacuateError = { kind: 'lost', message: 'socket hang up' };
const NOT_CARRIED_OUT = 'evacuate not carried out: socket hang up';
const refused = (status: number, serviceInUse = false): EvacuateError => ({ kind: 'refused', status, fault: 'nope', serviceInUse });

describe('an end already journaled is terminal', () => {
  table([
    {
      name: 'done: evacuated, whatever Nova shows',
      journal: [intent(1), accepted(1), done],
      server: null,
      step: { terminal: { ok: true, target: 'cmp3' } },
    },
    {
      name: 'a final failure: failed with its reason',
      journal: [intent(1), { ...failedAt(1), reason: 'gave up', final: true }],
      server: idle,
      step: { terminal: { ok: false, reason: 'gave up' } },
    },
    {
      name: 'done wins over a final failure journaled before it',
      journal: [{ ...failedAt(1), final: true }, done],
      server: idle,
      step: { terminal: { ok: true, target: 'cmp3' } },
    },
    { name: 'a failure that is not final is not an end', journal: [intent(1), failedAt(1)], server: idle, step: evacuate(2) },
  ]);

  it('recordedOutcome: nothing journaled, or only steps on the way, is no outcome', () => {
    expect(recordedOutcome([])).toBeNull();
    expect(recordedOutcome([intent(1), accepted(1), failedAt(1), reset()])).toBeNull();
  });
});

describe('the answer to the evacuate just sent settles that attempt', () => {
  table([
    // A lost answer (reset, timeout, 5xx): ask Nova.
    {
      name: 'lost, a migration of ours moving: Nova took it',
      journal: [intent(1)],
      error: lost,
      server: rebuilding,
      migrations: [mig(7, 'moving')],
      step: adopt(1, 'found'),
    },
    {
      name: 'lost, a migration of ours already done: Nova took it',
      journal: [intent(1)],
      error: lost,
      server: evacuated,
      migrations: [mig(7, 'succeeded')],
      step: adopt(1, 'found'),
    },
    {
      name: 'lost, a migration of ours in an unlisted status: Nova took it',
      journal: [intent(1)],
      error: lost,
      server: idle,
      migrations: [mig(7, 'other')],
      step: adopt(1, 'found'),
    },
    {
      name: 'lost, one failed and one moving migration of ours: Nova took it',
      journal: [intent(1)],
      error: lost,
      server: rebuilding,
      migrations: [mig(6, 'failed'), mig(7, 'moving')],
      step: adopt(1, 'found'),
    },
    {
      name: 'lost, only a failed migration: not carried out, retried after backoff',
      journal: [intent(1)],
      error: lost,
      server: idle,
      migrations: [mig(7, 'failed')],
      step: fail(1, NOT_CARRIED_OUT, { after: 50 }),
    },
    {
      name: 'lost, no migration: not carried out',
      journal: [intent(1), failedAt(1), intent(2)],
      error: lost,
      server: idle,
      jitter: 0.5,
      step: fail(2, NOT_CARRIED_OUT, { after: 150 }),
    },
    {
      name: 'lost, only a baseline migration moving: not ours, not carried out',
      plan: { baselineMigrationIds: [7] },
      journal: [intent(1)],
      error: lost,
      server: idle,
      migrations: [mig(7, 'moving')],
      step: fail(1, NOT_CARRIED_OUT, { after: 50 }),
    },
    {
      name: 'lost, only a migration journaled as failed: not carried out',
      journal: [intent(1), failedAt(1, [7]), intent(2)],
      error: lost,
      server: idle,
      migrations: [mig(7, 'other')],
      step: fail(2, NOT_CARRIED_OUT, { after: 100 }),
    },
    { name: 'lost on the last attempt: given up', journal: third, error: lost, server: idle, step: giveUp(3, NOT_CARRIED_OUT) },
    // A refusal (4xx).
    {
      name: '404 and the server is gone: given up',
      journal: [intent(1)],
      error: refused(404),
      server: null,
      step: giveUp(1, 'server no longer exists'),
    },
    {
      name: '404 while the server still exists: a failed attempt',
      journal: [intent(1)],
      error: refused(404),
      server: idle,
      step: fail(1, 'Nova refused evacuate (404): nope', { after: 50 }),
    },
    {
      name: '409 and the server is gone: a failed attempt (the next look gives up)',
      journal: [intent(1)],
      error: refused(409),
      server: null,
      step: fail(1, 'Nova refused evacuate (409): nope', { after: 50 }),
    },
    {
      name: '401: our credentials cannot evacuate, given up',
      journal: [intent(1)],
      error: refused(401),
      server: idle,
      step: giveUp(1, 'Nova refused evacuate (401): nope'),
    },
    {
      name: '403: our credentials cannot evacuate, given up',
      journal: [intent(1)],
      error: refused(403),
      server: idle,
      step: giveUp(1, 'Nova refused evacuate (403): nope'),
    },
    {
      name: '409 with a migration of ours moving: already in flight',
      journal: [intent(1)],
      error: refused(409),
      server: rebuilding,
      migrations: [mig(7, 'moving')],
      step: adopt(1, 'conflict'),
    },
    {
      name: '409 with only a baseline migration moving: a failed attempt',
      plan: { baselineMigrationIds: [7] },
      journal: [intent(1)],
      error: refused(409),
      server: rebuilding,
      migrations: [mig(7, 'moving')],
      step: fail(1, 'Nova refused evacuate (409): nope', { after: 50 }),
    },
    {
      name: '400 after the server moved away: already done',
      journal: [intent(1)],
      error: refused(400),
      server: evacuated,
      step: adopt(1, 'conflict'),
    },
    {
      name: '400 on another host but in error: not moved, a failed attempt',
      journal: [intent(1)],
      error: refused(400),
      server: { ...evacuated, status: 'ERROR', vmState: 'error' },
      step: fail(1, 'Nova refused evacuate (400): nope', { after: 50 }),
    },
    {
      name: '400 with no host: not moved, a failed attempt',
      journal: [intent(1)],
      error: refused(400),
      server: { ...idle, host: null },
      step: fail(1, 'Nova refused evacuate (400): nope', { after: 50 }),
    },
    {
      name: '400 "still in use": force the source down again, then retry',
      journal: [intent(1)],
      error: refused(400, true),
      server: idle,
      step: fail(1, 'Nova refused evacuate (400): nope', { forceDown: true, after: 50 }),
    },
    {
      name: '"still in use" on the last attempt: forced down again, given up',
      journal: third,
      error: refused(400, true),
      server: idle,
      step: fail(3, 'Nova refused evacuate (400): nope', { forceDown: true, final: true }),
    },
    // An answer only counts for an intent still unanswered in the journal.
    {
      name: 'an answer to an attempt journaled as failed is ignored',
      journal: [intent(1), failedAt(1)],
      error: lost,
      server: idle,
      step: evacuate(2),
    },
    {
      name: 'an answer to an attempt journaled as accepted is ignored',
      journal: [intent(1), accepted(1)],
      error: refused(409),
      server: idle,
      step: wait,
    },
    { name: 'an answer with no intent journaled is ignored', error: lost, server: idle, step: evacuate(1) },
    {
      name: 'a reset journaled after the intent does not answer it',
      journal: [intent(1), reset()],
      error: lost,
      server: idle,
      step: fail(1, NOT_CARRIED_OUT, { after: 50 }),
    },
  ]);
});

describe('what Nova shows decides the rest', () => {
  table([
    {
      name: 'the server is gone: given up',
      journal: [intent(1), accepted(1), intent(2)],
      server: null,
      migrations: [mig(7, 'moving')],
      step: giveUp(2, 'server no longer exists (deleted?)'),
    },
    {
      name: 'the server is gone before any attempt: given up at attempt 0',
      server: null,
      step: giveUp(0, 'server no longer exists (deleted?)'),
    },
    // Moving: track, never re-issue.
    {
      name: 'a migration of ours moving: wait',
      journal: [intent(1), accepted(1)],
      server: rebuilding,
      migrations: [mig(7, 'moving')],
      step: wait,
    },
    {
      name: 'moving, the server not read this round: wait',
      journal: [intent(1), accepted(1)],
      server: undefined,
      migrations: [mig(7, 'moving')],
      step: wait,
    },
    {
      name: "moving with no intent of ours (an earlier coordinator's): wait",
      server: rebuilding,
      migrations: [mig(7, 'moving')],
      step: wait,
    },
    {
      name: 'moving beats a failed migration of ours',
      journal: [intent(1)],
      server: rebuilding,
      migrations: [mig(6, 'failed'), mig(7, 'moving')],
      step: wait,
    },
    {
      name: 'moving, exactly at the instance timeout from the last intent: wait',
      journal: [intent(1, 100), failedAt(1), intent(2, 300)],
      server: rebuilding,
      migrations: [mig(7, 'moving')],
      now: 300 + policy.instanceTimeoutMs,
      step: wait,
    },
    {
      name: 'moving, past the instance timeout from the last intent: given up, left alone',
      journal: [intent(1, 100), failedAt(1), intent(2, 300)],
      server: rebuilding,
      migrations: [mig(7, 'moving')],
      now: 301 + policy.instanceTimeoutMs,
      step: giveUp(2, TIMEOUT),
    },
    {
      name: 'moving without an intent: the timeout runs from when this coordinator took it up',
      server: rebuilding,
      migrations: [mig(7, 'moving')],
      now: SINCE + policy.instanceTimeoutMs + 1,
      step: giveUp(0, TIMEOUT),
    },
    {
      name: 'moving without an intent, within the timeout from taking it up: wait',
      server: rebuilding,
      migrations: [mig(7, 'moving')],
      now: SINCE + policy.instanceTimeoutMs,
      step: wait,
    },
    {
      name: 'only a baseline migration moving: not ours, evacuate',
      plan: { baselineMigrationIds: [7] },
      server: idle,
      migrations: [mig(7, 'moving')],
      step: evacuate(1),
    },
    // Not read this round and nothing moving: read the server.
    {
      name: 'not read and nothing moving: read the server now',
      journal: [intent(1), accepted(1)],
      server: undefined,
      migrations: [mig(7, 'succeeded')],
      step: readServer,
    },
    {
      name: 'not read and a migration failed: read the server first',
      journal: [intent(1), accepted(1)],
      server: undefined,
      migrations: [mig(7, 'failed')],
      step: readServer,
    },
  ]);
});

describe('a server ACTIVE elsewhere is evacuated', () => {
  const stoppedElsewhere: ServerView = { ...evacuated, status: 'SHUTOFF', vmState: 'stopped' };
  table([
    {
      name: 'ACTIVE on another host with no task: finished, timed from the last intent',
      journal: [intent(1, 100), accepted(1)],
      server: evacuated,
      migrations: [mig(7, 'succeeded')],
      step: finish('cmp2', NOW - 100),
    },
    { name: 'found evacuated without an intent: timed from taking it up', server: evacuated, step: finish('cmp2', NOW - SINCE) },
    {
      // Nova clears the task and moves the host before it marks the migration done; a poll of the
      // servers alone (one a notification asked for) sees this.
      name: 'ACTIVE on another host with no task while our migration still shows moving: finished',
      journal: [intent(1, 100), accepted(1)],
      server: evacuated,
      migrations: [mig(7, 'moving')],
      step: finish('cmp2', NOW - 100),
    },
    {
      name: 'ACTIVE with no task on the source host while our migration moves: wait (the host moves last)',
      journal: [intent(1, 100), accepted(1)],
      server: idle,
      migrations: [mig(7, 'moving')],
      step: wait,
    },
    {
      name: 'SHUTOFF elsewhere when it was stopped: finished',
      plan: { vmState: 'stopped' },
      journal: [intent(1, 100), accepted(1)],
      server: stoppedElsewhere,
      step: finish('cmp2', NOW - 100),
    },
    { name: 'SHUTOFF elsewhere when it was active: not finished', journal: [intent(1), accepted(1)], server: stoppedElsewhere, step: wait },
    { name: 'ERROR elsewhere: not finished', journal: [intent(1), accepted(1)], server: { ...evacuated, status: 'ERROR' }, step: wait },
    {
      name: 'ERROR elsewhere when it was stopped: not finished',
      plan: { vmState: 'stopped' },
      journal: [intent(1), accepted(1)],
      server: { ...evacuated, status: 'ERROR', vmState: 'error' },
      step: wait,
    },
    {
      name: 'ACTIVE elsewhere with a task: not finished',
      journal: [intent(1), accepted(1)],
      server: { ...evacuated, taskState: 'powering-off' },
      step: wait,
    },
    { name: 'ACTIVE on the source host: not finished', journal: [intent(1), accepted(1)], server: idle, step: wait },
    { name: 'ACTIVE with no host: not finished', journal: [intent(1), accepted(1)], server: { ...evacuated, host: null }, step: wait },
  ]);
});

describe('a rebuild still finishing is waited for', () => {
  table([
    {
      name: 'a task after our migration succeeded: wait',
      journal: [intent(1)],
      server: finishing,
      migrations: [mig(7, 'succeeded')],
      step: wait,
    },
    {
      name: 'a task after our migration succeeded, past the timeout: given up',
      journal: [intent(1, 100)],
      server: finishing,
      migrations: [mig(7, 'succeeded')],
      now: 101 + policy.instanceTimeoutMs,
      step: giveUp(1, TIMEOUT),
    },
    {
      name: 'succeeded but no task and not ACTIVE: not waiting, evacuate again',
      journal: [intent(1)],
      server: { ...evacuated, status: 'ERROR', vmState: 'error' },
      migrations: [mig(7, 'succeeded')],
      step: evacuate(2, 'active'),
    },
    {
      name: 'a task with no migration of ours: not waiting, reset and evacuate',
      journal: [intent(1)],
      server: finishing,
      step: evacuate(2, 'active'),
    },
    {
      name: 'a task and a migration of ours that did not succeed: not waiting',
      journal: [intent(1)],
      server: finishing,
      migrations: [mig(7, 'other')],
      step: evacuate(2, 'active'),
    },
  ]);
});

describe('a failed migration of ours is a failed attempt', () => {
  table([
    {
      name: 'failed rebuild: attempt failed, its migration journaled, retried after backoff',
      journal: [intent(1), accepted(1)],
      server: rebuildFailed,
      migrations: [mig(7, 'failed', 'error')],
      step: fail(1, 'evacuation migration 7 error', { migrationIds: [7], after: 50 }),
    },
    {
      name: "no capacity (NoValidHost): failed at once with Nova's own words, not retried",
      journal: [intent(1), accepted(1)],
      server: { ...rebuildFailed, fault: 'No valid host was found. There are not enough hosts available.' },
      migrations: [mig(7, 'failed', 'error')],
      step: fail(
        1,
        'no capacity: Nova says "No valid host was found. There are not enough hosts available." (evacuation migration 7 error); not retried',
        { migrationIds: [7], final: true },
      ),
    },
    {
      name: "another fault: retried, the reason carries Nova's fault for the operator",
      journal: [intent(1), accepted(1)],
      server: { ...rebuildFailed, fault: 'Build of instance aborted: disk full' },
      migrations: [mig(7, 'failed', 'error')],
      step: fail(1, 'evacuation migration 7 error (Nova: Build of instance aborted: disk full)', { migrationIds: [7], after: 50 }),
    },
    {
      name: 'two failed migrations: both named and journaled',
      journal: [intent(1), failedAt(1), intent(2), accepted(2)],
      server: rebuildFailed,
      jitter: 0.5,
      migrations: [mig(6, 'failed', 'error'), mig(8, 'failed', 'cancelled'), mig(5, 'succeeded')],
      step: fail(2, 'evacuation migration 6 error, 8 cancelled', { migrationIds: [6, 8], after: 150 }),
    },
    {
      name: 'failed on the last attempt: given up',
      journal: [...third, accepted(3)],
      server: rebuildFailed,
      migrations: [mig(9, 'failed')],
      step: fail(3, 'evacuation migration 9 failed', { migrationIds: [9], final: true }),
    },
    {
      name: "a failure of another coordinator's evacuation (no intent of ours): attempt 0, retried",
      server: rebuildFailed,
      migrations: [mig(7, 'failed')],
      step: fail(0, 'evacuation migration 7 failed', { migrationIds: [7], after: 50 }),
    },
    {
      name: 'a migration already journaled as failed is not failed again',
      journal: [intent(1), accepted(1), failedAt(1, [7])],
      server: rebuildFailed,
      migrations: [mig(7, 'failed')],
      step: evacuate(2, 'active'),
    },
    {
      name: 'a baseline failed migration is not ours',
      plan: { baselineMigrationIds: [7] },
      server: rebuildFailed,
      migrations: [mig(7, 'failed')],
      step: evacuate(1, 'active'),
    },
  ]);
});

describe('an accepted evacuation is tracked, never re-issued', () => {
  table([
    { name: 'accepted, nothing conclusive yet: wait', journal: [intent(1), accepted(1)], server: idle, step: wait },
    {
      name: 'adopted after a conflict, nothing conclusive yet: wait',
      journal: [intent(1), accepted(1, 'conflict')],
      server: rebuilding,
      step: wait,
    },
    {
      name: 'accepted, past the timeout: given up, left alone',
      journal: [intent(1, 100), accepted(1)],
      server: idle,
      now: 101 + policy.instanceTimeoutMs,
      step: giveUp(1, TIMEOUT),
    },
    {
      name: 'an intent never answered (the sender crashed) is not tracked: evacuate again',
      journal: [intent(1)],
      server: idle,
      step: evacuate(2),
    },
  ]);
});

describe('attempts, give-up and resets before an evacuate', () => {
  table([
    { name: 'nothing journaled, idle on the source: evacuate, attempt 1', server: idle, step: evacuate(1) },
    { name: 'after a failed attempt: the next attempt', journal: [intent(1), failedAt(1)], server: idle, step: evacuate(2) },
    {
      name: 'one attempt short of the limit: the last attempt',
      journal: [intent(1), failedAt(1), intent(2), failedAt(2)],
      server: idle,
      step: evacuate(3),
    },
    {
      name: 'attempts used up (the last one unanswered): given up',
      journal: third,
      server: idle,
      step: giveUp(3, 'gave up after 3 attempt(s)'),
    },
    {
      name: 'a single allowed attempt used: given up',
      plan: { policy: { ...policy, maxAttempts: 1 } },
      journal: [intent(1)],
      server: idle,
      step: giveUp(1, 'gave up after 1 attempt(s)'),
    },
    {
      name: 'resets and acceptances are not attempts',
      journal: [intent(1), accepted(1, 'found'), failedAt(1), reset()],
      server: idle,
      step: evacuate(2),
    },
  ]);

  const resets: Array<[string | null, string | null, string | null, ResetState | null]> = [
    // [task_state, vm_state now, vm_state before the failure, reset to]
    ['rebuilding', 'active', 'active', 'active'],
    ['rebuilding', 'stopped', 'stopped', 'error'],
    ['rebuilding', 'error', null, 'error'],
    [null, 'error', 'active', 'active'],
    [null, 'error', 'stopped', null],
    [null, 'error', 'error', null],
    [null, 'error', null, null],
    [null, 'active', 'active', null],
    [null, 'stopped', 'stopped', null],
  ];
  it.each(resets)('task %s, vm_state %s, was %s: reset to %s first', (taskState, vmState, before, resetTo) => {
    const obs = { server: { ...idle, taskState, vmState }, migrations: [], jitter: 0 };
    expect(nextStep(plan({ vmState: before }), [intent(1), failedAt(1)], obs, NOW)).toEqual(evacuate(2, resetTo));
  });
});

describe('backoff between attempts', () => {
  it.each([
    [0, 0, 50],
    [1, 0, 50],
    [1, 0.5, 75],
    [1, 0.999, 99.95],
    [2, 0, 100],
    [3, 0, 200],
    [4, 0.5, 600],
    [5, 0, 500], // 1600, capped at 1000
    [9, 0.5, 750],
  ])('after attempt %i with jitter %f: %f ms', (attempt, jitter, ms) => {
    expect(backoffMs(attempt, policy, jitter)).toBeCloseTo(ms, 6);
  });
});
