import { describe, expect, it } from 'vitest';
import { Coordinator } from '../../src/core/coordinator.js';
import type { Effect } from '../../src/core/effects.js';
import type { FenceAttempt, FenceRecord } from '../../src/core/events.js';
import type { HostDecision } from '../../src/core/messages.js';
import type { CoreSettings } from '../../src/core/settings.js';
import { actions, coreSettings, decision, events, eventTypes, logs, membershipOf, peerBeat, voter } from './fixtures.js';

/**
 * What the coordinator does with declared hosts: fence and recover in order, retry failed fences
 * after a backoff, return hosts that are heard again, and hand work over between coordinators.
 */
function coordinator(decisions: HostDecision[] = [], edit?: (s: CoreSettings) => void, epoch = 1): Coordinator {
  const s = coreSettings((x) => {
    x.fencing = { enabled: true, retryBaseMs: 1000, retryMaxMs: 5000 };
    x.recovery.enabled = false;
    edit?.(x);
  });
  const c = new Coordinator(s, membershipOf(s));
  c.restore(decisions, epoch);
  return c;
}

const okFence: FenceRecord = { ok: true, level: 1, durationMs: 10, attempts: [], by: 'm1' };
const failedFence: FenceRecord = { ok: false, durationMs: 10, attempts: [], error: 'timeout', by: 'm1' };

function run(fn: (out: Effect[]) => void): Effect[] {
  const out: Effect[] = [];
  fn(out);
  return out;
}

function decide(c: Coordinator, now: number, seenUpBy: number): Effect[] {
  const voters = ['m1', 'm2', 'm3'].map((id, i) => voter(id, { h1: i < seenUpBy ? 'up' : 'dead' }));
  return run((out) => c.decide(now, voters, { count: 10, maintenance: new Set() }, out));
}

describe('fence results', () => {
  it.each<[string, boolean, HostDecision['state'] | null]>([
    ['not acting', false, 'fencing'],
    ['no decision', true, null],
    ['declared, not fencing', true, 'failed'],
    ['already failed', true, 'fence_failed'],
    ['already fenced', true, 'fenced'],
  ])('ignores a result when %s', (_name, acting, state) => {
    const c = coordinator(state ? [decision('h1', state, { fenceAttempts: 1 })] : []);
    const before = c.decisionList();
    const out = run((o) => c.fenceDone('h1', okFence, 500, acting, o));
    expect(logs(out)).toEqual(["warn: fence result ignored: no longer this monitor's to act on"]);
    expect(out[0]).toMatchObject({ fields: { host: 'h1', ok: true, acting, state: state ?? 'none' } });
    expect(c.decisionList()).toEqual(before);
  });

  it('a verified power-off makes the host fenced, keeping the last four device attempts', () => {
    const c = coordinator([decision('h1', 'fencing', { fenceAttempts: 1 })]);
    const attempt = (n: number): FenceAttempt => ({
      level: 1,
      device: `d${n}`,
      agent: 'fence_ipmi',
      action: 'off',
      exitCode: 0,
      ok: n === 6,
      durationMs: 1,
    });
    const record = { ...okFence, attempts: [1, 2, 3, 4, 5, 6].map(attempt) };
    const out = run((o) => c.fenceDone('h1', record, 500, true, o));
    expect(events(out)).toEqual([{ type: 'host.fenced', at: 500, host: 'h1', record }]);
    expect(actions(out)).toEqual([]);
    expect(c.decision('h1')).toMatchObject({ state: 'fenced', sinceMs: 500 });
    expect(c.decision('h1')?.fence?.attempts.map((a) => a.device)).toEqual(['d3', 'd4', 'd5', 'd6']);
  });

  it('with recovery on, a fenced host goes straight to recovery, carrying the fence record', () => {
    const c = coordinator([decision('h1', 'fencing', { fenceAttempts: 1 })], (s) => (s.recovery.enabled = true));
    const out = run((o) => c.fenceDone('h1', okFence, 500, true, o));
    expect(eventTypes(out)).toEqual(['host.fenced', 'host.recovery_start']);
    // Stamped with the incident's start: every monitor names the incident (and bounds its look at Nova) by it.
    expect(out.at(-1)).toEqual({ type: 'recover', host: 'h1', record: { ...okFence, at: 500 } });
    expect(c.decision('h1')?.state).toBe('recovering');
  });

  it('a failed fence is retried after a backoff that doubles per attempt, up to the maximum', () => {
    const c = coordinator([decision('h1', 'fencing', { fenceAttempts: 1 })]);
    const retries: number[] = [];
    let now = 0;
    for (let attempt = 1; attempt <= 5; attempt++) {
      const out = run((o) => c.fenceDone('h1', failedFence, now, true, o));
      const failed = events(out)[0];
      expect(failed).toMatchObject({ type: 'host.fence_failed', at: now, host: 'h1', record: failedFence });
      const wait = failed?.type === 'host.fence_failed' ? failed.retryInMs : NaN;
      retries.push(wait);
      expect(c.decision('h1')).toMatchObject({ state: 'fence_failed', sinceMs: now });
      expect(actions(decide(c, now + wait - 1, 0))).toEqual([]);
      const retry = decide(c, now + wait, 0);
      expect(actions(retry)).toEqual(['fence h1']);
      expect(events(retry)).toEqual([{ type: 'host.fencing', at: now + wait, host: 'h1', attempt: attempt + 1 }]);
      now += wait;
    }
    expect(retries).toEqual([1000, 2000, 4000, 5000, 5000]);
  });

  it('retries a failed fence restored with no attempts counted after the base backoff', () => {
    const c = coordinator([decision('h1', 'fence_failed', { fenceAttempts: 0, sinceMs: 0 })]);
    expect(actions(decide(c, 999, 0))).toEqual([]);
    expect(actions(decide(c, 1000, 0))).toEqual(['fence h1']);
  });
});

describe('a decided host that a quorum hears again', () => {
  it.each<[HostDecision['state'], number, boolean]>([
    ['failed', 2, true],
    ['failed', 3, true],
    ['failed', 1, false],
    ['fence_failed', 2, true],
    ['fencing', 3, false],
    ['fenced', 3, false],
    ['recovering', 3, false],
    ['evacuated', 3, false],
  ])('%s, heard by %i → back to up: %s', (state, heardBy, returned) => {
    const c = coordinator([decision('h1', state, { fenceAttempts: 1, sinceMs: 100_000 })]);
    const out = decide(c, 100_000, heardBy);
    if (returned) {
      expect(events(out)).toEqual([
        { type: 'host.rejoined', at: 100_000, host: 'h1', bootId: 'h1-b1', failedBootId: 'h1-b1', previous: state },
      ]);
      expect(c.decision('h1')).toBeUndefined();
    } else {
      expect(events(out)).toEqual([]);
      expect(c.decision('h1')?.state).toBe(state);
    }
  });
});

describe('recovery results and operator clears', () => {
  const summary = { selected: 2, evacuated: 2, failed: 0, notified: 2 };

  it.each<[string, boolean, HostDecision['state'] | null]>([
    ['not acting', false, 'recovering'],
    ['no decision', true, null],
    ['fenced, not recovering', true, 'fenced'],
  ])('ignores a recovery result when %s', (_name, acting, state) => {
    const c = coordinator(state ? [decision('h1', state)] : []);
    const out = run((o) => c.recoveryDone('h1', summary, 500, acting, o));
    expect(logs(out)).toEqual(["warn: recovery result ignored: no longer this monitor's to act on"]);
    expect(out[0]).toMatchObject({ fields: { host: 'h1', acting, state: state ?? 'none' } });
    expect(c.decision('h1')?.state).toBe(state ?? undefined);
  });

  it('a finished recovery makes the host recovered', () => {
    const c = coordinator([decision('h1', 'recovering')]);
    const out = run((o) => c.recoveryDone('h1', summary, 500, true, o));
    expect(events(out)).toEqual([{ type: 'host.recovery_end', at: 500, host: 'h1', summary }]);
    expect(c.decision('h1')).toMatchObject({ state: 'evacuated', sinceMs: 500 });
  });

  it.each<[string, Partial<typeof summary>]>([
    ['servers left behind', { evacuated: 1, failed: 2 }],
    ['a recovery that could not finish', { selected: 0, evacuated: 0, error: 'journal: EACCES' }],
  ])('%s: the host is recovery_failed, not recovered (never green over a failure)', (_, edit) => {
    const c = coordinator([decision('h1', 'recovering', { fence: okFence })]);
    const bad = { ...summary, ...edit };
    const out = run((o) => c.recoveryDone('h1', bad, 500, true, o));
    expect(events(out)).toEqual([{ type: 'host.recovery_end', at: 500, host: 'h1', summary: bad }]);
    expect(c.decision('h1')).toMatchObject({ state: 'recovery_failed', sinceMs: 500 });
  });

  it("the operator's retry recovers a recovery_failed host again, with the same fence record", () => {
    const c = coordinator([decision('h1', 'recovery_failed', { fence: { ...okFence, at: 100 } })]);
    const out = run((o) => c.retryRecovery('h1', 900, 'alice', true, o));
    expect(eventTypes(out)).toEqual(['host.recovery_start']);
    expect(out.at(-1)).toEqual({ type: 'recover', host: 'h1', record: { ...okFence, at: 100 } });
    expect(c.decision('h1')).toMatchObject({ state: 'recovering', sinceMs: 900 });
  });

  it.each<[string, HostDecision | null, boolean]>([
    ['a recovered host', decision('h1', 'evacuated', { fence: okFence }), true],
    ['a host being recovered', decision('h1', 'recovering', { fence: okFence }), true],
    ['a host that could not be fenced', decision('h1', 'fence_failed'), true],
    ['an unknown host', null, true],
    ['a monitor not acting', decision('h1', 'recovery_failed', { fence: okFence }), false],
  ])('a retry is refused for %s: nothing evacuated by a slip', (_, d, acting) => {
    const c = coordinator(d ? [d] : []);
    const out = run((o) => c.retryRecovery('h1', 900, 'alice', acting, o));
    expect(actions(out)).toEqual([]);
    expect(eventTypes(out)).toEqual([]);
    expect(logs(out)[0]).toMatch(/^warn: recovery retry refused/);
    expect(c.decision('h1')?.state).toBe(d?.state);
  });

  it('an operator clear forgets the decision and says what it was', () => {
    const c = coordinator([decision('h1', 'fenced')]);
    const out = run((o) => c.clear('h1', 700, 'alice', o));
    expect(logs(out)).toEqual(['info: host returned to service by operator']);
    expect(out[0]).toMatchObject({ fields: { host: 'h1', by: 'alice', previous: 'fenced' } });
    expect(events(out)).toEqual([
      { type: 'host.rejoined', at: 700, host: 'h1', bootId: 'h1-b1', failedBootId: 'h1-b1', previous: 'fenced' },
    ]);
    expect(c.decision('h1')).toBeUndefined();
    expect(run((o) => c.clear('h1', 800, 'alice', o))).toEqual([]);
  });
});

describe('handing work between coordinators', () => {
  it.each<[string, number, number, boolean, boolean]>([
    ['an older epoch', 2, 1, false, false],
    ['the same epoch, not acting', 2, 2, false, true],
    ['the same epoch while acting too', 2, 2, true, false],
    ['a newer epoch', 2, 3, false, true],
    ['a newer epoch while acting too', 2, 3, true, true],
  ])('adopts the decisions of %s: %s', (_name, own, theirs, selfActing, adopted) => {
    const c = coordinator([decision('h9', 'fenced')], undefined, own);
    c.adopt(peerBeat('m2', { acting: true, epoch: theirs, decisions: [decision('h1', 'fencing')] }), selfActing);
    expect(c.decisionList().map((d) => d.host)).toEqual(adopted ? ['h1'] : ['h9']);
    expect(c.epoch).toBe(adopted ? theirs : own);
  });

  it.each<[string, Partial<HostDecision>]>([
    ['its state', { state: 'evacuated' }],
    ['its boot id', { bootId: 'h1-b2' }],
    ['its time', { sinceMs: 900 }],
    ['its fence attempts', { fenceAttempts: 3 }],
    ['its fence record', { fence: { ok: true, durationMs: 5, attempts: [], by: 'm2' } }],
  ])('adopts, in the same epoch, a decision that changed only %s, and counts it as a change to persist', (_what, change) => {
    const c = coordinator([], undefined, 0);
    c.adopt(peerBeat('m2', { acting: true, epoch: 4, decisions: [decision('h1', 'fencing', { fenceAttempts: 1 })] }), false);
    const version = c.version;
    c.adopt(peerBeat('m2', { acting: true, epoch: 4, decisions: [decision('h1', 'fencing', { fenceAttempts: 1 })] }), false);
    expect(c.version).toBe(version); // the same decisions repeated: nothing to write
    c.adopt(peerBeat('m2', { acting: true, epoch: 4, decisions: [decision('h1', 'fencing', { fenceAttempts: 1, ...change })] }), false);
    expect(c.decision('h1')).toMatchObject(change);
    expect(c.version).toBeGreaterThan(version);
  });

  it('keeps its own copy of adopted and restored decisions', () => {
    const theirs = decision('h1', 'fencing');
    const c = coordinator([]);
    c.adopt(peerBeat('m2', { acting: true, epoch: 5, decisions: [theirs] }), false);
    theirs.state = 'evacuated';
    c.decisionList()[0]!.state = 'fenced';
    expect(c.decision('h1')?.state).toBe('fencing');
  });

  it('takes over the newest decisions of a live peer, in a new epoch above every epoch seen', () => {
    const s = coreSettings();
    const m = membershipOf(s);
    m.receive(peerBeat('m3', { epoch: 7 }), 0);
    const c = new Coordinator(s, m);
    c.restore([decision('h9', 'failed')], 2);
    const older = peerBeat('m2', { epoch: 4, decisions: [decision('h2', 'failed')] });
    const newer = peerBeat('m3', { epoch: 6, decisions: [decision('h3', 'failed')] });
    c.takeOver(1000, [older, newer]);
    expect(c.decisionList().map((d) => d.host)).toEqual(['h3']);
    expect(c.epoch).toBe(8);
    const d = new Coordinator(s, m);
    d.takeOver(1000, [newer, older]);
    expect(d.decisionList().map((x) => x.host)).toEqual(['h3']);
  });

  it('keeps its own decisions when no peer holds a newer epoch', () => {
    const c = coordinator([decision('h9', 'failed')], undefined, 5);
    c.takeOver(1000, [peerBeat('m2', { epoch: 5, decisions: [decision('h2', 'failed')] }), peerBeat('m3', { epoch: 3 })]);
    expect(c.decisionList().map((d) => d.host)).toEqual(['h9']);
    expect(c.epoch).toBe(6);
  });

  // Sim seed 682: a monitor restarted with an older state file of the same epoch took over and
  // dropped the newer decisions its peer held (a fenced host then declared failed again).
  it('within one epoch, takes over the copy with the higher decision version, its own or a peer', () => {
    const c = coordinator([decision('h1', 'fencing')], undefined, 5);
    c.decisionSeq = 2;
    const newer = peerBeat('m2', { epoch: 5, decisionSeq: 4, decisions: [decision('h1', 'recovering', { fence: okFence })] });
    const older = peerBeat('m3', { epoch: 5, decisionSeq: 1, decisions: [] });
    expect(c.takeOver(1000, [older, newer])).toEqual([{ type: 'recover', host: 'h1', record: okFence }]);
    expect(c.decision('h1')?.state).toBe('recovering');
    expect(c.decisionSeq).toBe(4);
    const d = coordinator([decision('h1', 'evacuated', { fence: okFence })], undefined, 5);
    d.decisionSeq = 9;
    expect(d.takeOver(1000, [newer])).toEqual([]);
    expect(d.decision('h1')?.state).toBe('evacuated');
  });

  it('a 2.0 peer (no decision version) counts only with a higher epoch, as before', () => {
    const c = coordinator([decision('h9', 'failed')], undefined, 5);
    c.takeOver(1000, [peerBeat('m2', { epoch: 5, decisions: [decision('h2', 'failed')] })]);
    expect(c.decisionList().map((d) => d.host)).toEqual(['h9']);
  });

  it('a follower does not take back an older copy of the same epoch (a delayed datagram)', () => {
    const c = coordinator([], undefined, 5);
    c.adopt(peerBeat('m2', { epoch: 5, acting: true, decisionSeq: 3, decisions: [decision('h1', 'fenced', { fence: okFence })] }), false);
    c.adopt(peerBeat('m2', { epoch: 5, acting: true, decisionSeq: 2, decisions: [decision('h1', 'fencing')] }), false);
    expect(c.decision('h1')?.state).toBe('fenced');
    expect(c.decisionSeq).toBe(3);
    // From a 2.0 coordinator: taken by difference, as before.
    c.adopt(peerBeat('m2', { epoch: 5, acting: true, decisions: [] }), false);
    expect(c.decisionList()).toEqual([]);
  });

  it('only a change made as coordinator raises the decision version', () => {
    const c = coordinator([decision('h1', 'fencing')]);
    const before = c.decisionSeq;
    c.fenceDone('h1', okFence, 100, true, []);
    expect(c.decisionSeq).toBe(before + 1);
    c.forget('h1');
    expect(c.decisionSeq).toBe(before + 1);
  });

  it('carries on the work in flight: fences what was fencing, recovers what was recovering', () => {
    const c = coordinator([
      decision('h1', 'fencing', { bootId: 'b-1' }),
      decision('h2', 'recovering', { fence: okFence }),
      decision('h3', 'recovering'),
      decision('h4', 'failed'),
      decision('h5', 'fenced', { fence: okFence }),
      decision('h6', 'fence_failed'),
      decision('h7', 'evacuated', { fence: okFence }),
    ]);
    expect(c.takeOver(1000, [])).toEqual([
      { type: 'fence', host: 'h1', bootId: 'b-1' },
      { type: 'recover', host: 'h2', record: okFence },
    ]);
  });

  it('stepping down abandons the work in flight and forgets candidates and a mass hold', () => {
    const c = coordinator([decision('h1', 'fencing'), decision('h2', 'recovering'), decision('h3', 'fenced'), decision('h4', 'failed')]);
    expect(c.stepDown()).toEqual([
      { type: 'abandon', host: 'h1' },
      { type: 'abandon', host: 'h2' },
    ]);
    const dead = ['m1', 'm2'].map((id) => voter(id, { h8: 'dead' }));
    const watch = { count: 10, maintenance: new Set<string>() };
    c.decide(0, dead, watch, []);
    c.stepDown();
    const out: Effect[] = [];
    c.decide(100, dead, watch, out);
    expect(eventTypes(out)).not.toContain('host.failed');
  });

  it('stepping down forgets a mass hold', () => {
    const c = coordinator([], (s) => (s.fencing.enabled = false));
    const seen = Object.fromEntries(['h1', 'h2', 'h3', 'h4'].map((h) => [h, 'dead' as const]));
    const voters = ['m1', 'm2'].map((id) => voter(id, seen));
    const watch = { count: 10, maintenance: new Set<string>() };
    c.decide(0, voters, watch, []);
    c.decide(100, voters, watch, []);
    expect(c.massHold).not.toBeNull();
    c.stepDown();
    expect(c.massHold).toBeNull();
  });
});
