import { describe, expect, it } from 'vitest';
import { Coordinator } from '../../src/core/coordinator.js';
import type { Effect } from '../../src/core/effects.js';
import type { CoreSettings } from '../../src/core/settings.js';
import type { VoterView } from '../../src/core/tally.js';
import { coreSettings, echo, eventTypes, events, membershipOf, voter, type Seen } from './fixtures.js';

/**
 * When the coordinator declares a host failed: a quorum of dead votes, no live monitor hearing it,
 * stable for stabilityWindowMs, not in maintenance. Three monitors, so a quorum is two.
 */
function coordinator(edit?: (s: CoreSettings) => void): Coordinator {
  const s = coreSettings(edit);
  return new Coordinator(s, membershipOf(s));
}

const noMaintenance = { count: 10, maintenance: new Set<string>() };

function decide(
  c: Coordinator,
  now: number,
  voters: VoterView[],
  watch = noMaintenance,
  lastHeardAt?: (h: string) => number | null,
): Effect[] {
  const out: Effect[] = [];
  c.decide(now, voters, watch, out, lastHeardAt);
  return out;
}

/** Declared once the same views have held for the stability window (100 ms by default)? */
function declaredAfterWindow(views: Seen[], paused: boolean[] = []): boolean {
  const c = coordinator();
  const voters = views.map((seen, i) => voter(`m${i + 1}`, { h1: seen }, paused[i] ?? false));
  decide(c, 0, voters);
  return eventTypes(decide(c, 100, voters)).includes('host.failed');
}

describe('declaring a host failed', () => {
  it.each<[string, boolean, Seen[]]>([
    ['all three see it dead', true, ['dead', 'dead', 'dead']],
    ['two dead, one suspect', true, ['dead', 'dead', 'suspect']],
    ['two dead, the third never heard of it', true, ['dead', 'dead', 'unknown']],
    ['two dead, one still hears it', false, ['dead', 'dead', 'up']],
    ['one dead, two suspect', false, ['dead', 'suspect', 'suspect']],
    ['one dead, the others never heard of it', false, ['dead', 'unknown', 'unknown']],
    ['all suspect', false, ['suspect', 'suspect', 'suspect']],
    ['one dead, one up, one suspect', false, ['dead', 'up', 'suspect']],
  ])('%s → declared: %s', (_name, declared, views) => {
    expect(declaredAfterWindow(views)).toBe(declared);
  });

  it('does not count the dead verdicts of a monitor that just stalled', () => {
    expect(declaredAfterWindow(['dead', 'dead', 'suspect'], [false, true, false])).toBe(false);
    expect(declaredAfterWindow(['dead', 'dead', 'dead'], [false, true, false])).toBe(true);
  });

  it('names the dead voters and the silence in the declaration, and takes the boot id the first dead voter saw', () => {
    const c = coordinator();
    const voters = [voter('m1', { h1: 'suspect' }), voter('m2', { h1: 'dead' }), voter('m3', { h1: 'dead' })];
    decide(c, 0, voters);
    const [failed] = events(decide(c, 100, voters, noMaintenance, () => 42)).filter((e) => e.type === 'host.failed');
    expect(failed).toEqual({ type: 'host.failed', at: 100, host: 'h1', bootId: 'h1-boot-m2', votes: ['m2', 'm3'], lastHeardAt: 42 });
    expect(c.decision('h1')).toEqual({ host: 'h1', state: 'failed', bootId: 'h1-boot-m2', sinceMs: 100, fenceAttempts: 0 });
  });

  it('waits for the stability window, counted from the first decide that saw the quorum', () => {
    const c = coordinator((s) => (s.stabilityWindowMs = 100));
    const dead = [voter('m1', { h1: 'dead' }), voter('m2', { h1: 'dead' })];
    expect(eventTypes(decide(c, 1000, dead))).not.toContain('host.failed');
    expect(eventTypes(decide(c, 1099, dead))).not.toContain('host.failed');
    expect(eventTypes(decide(c, 1100, dead))).toContain('host.failed');
  });

  it('starts the stability window again when the quorum breaks in between', () => {
    const c = coordinator((s) => (s.stabilityWindowMs = 100));
    const dead = [voter('m1', { h1: 'dead' }), voter('m2', { h1: 'dead' })];
    const broken = [voter('m1', { h1: 'dead' }), voter('m2', { h1: 'suspect' })];
    decide(c, 0, dead);
    decide(c, 50, broken);
    expect(eventTypes(decide(c, 100, dead))).not.toContain('host.failed');
    expect(eventTypes(decide(c, 199, dead))).not.toContain('host.failed');
    expect(eventTypes(decide(c, 200, dead))).toContain('host.failed');
  });

  it('declares at once with a zero stability window', () => {
    const c = coordinator((s) => (s.stabilityWindowMs = 0));
    expect(eventTypes(decide(c, 0, [voter('m1', { h1: 'dead' }), voter('m2', { h1: 'dead' })]))).toContain('host.failed');
  });

  it('declares a host once: afterwards it is a decided host, not a candidate', () => {
    const c = coordinator();
    const dead = [voter('m1', { h1: 'dead' }), voter('m2', { h1: 'dead' })];
    decide(c, 0, dead);
    expect(eventTypes(decide(c, 100, dead))).toEqual(['host.failed']);
    expect(decide(c, 200, dead)).toEqual([]);
  });

  it('never declares a host in maintenance, and forgets its candidacy so the window starts again after', () => {
    const c = coordinator();
    const dead = [voter('m1', { h1: 'dead' }), voter('m2', { h1: 'dead' })];
    const maint = { count: 10, maintenance: new Set(['h1']) };
    decide(c, 0, dead);
    expect(decide(c, 100, dead, maint)).toEqual([]);
    expect(decide(c, 10_000, dead, maint)).toEqual([]);
    expect(eventTypes(decide(c, 10_050, dead))).toEqual(['host.suspect']);
    expect(eventTypes(decide(c, 10_149, dead))).toEqual([]);
    expect(eventTypes(decide(c, 10_150, dead))).toEqual(['host.failed']);
  });

  it('fences a declared host when fencing is on, once a quorum holds the decision (first attempt, the declared boot id)', () => {
    const s = coreSettings((x) => (x.fencing.enabled = true));
    const m = membershipOf(s);
    const c = new Coordinator(s, m);
    const dead = [voter('m1', { h1: 'dead' }), voter('m2', { h1: 'dead' })];
    decide(c, 0, dead);
    let out = decide(c, 100, dead);
    // Declared, but no peer holds the decision yet: a coordinator cut off now must not have fenced.
    expect(eventTypes(out)).toEqual(['host.failed']);
    expect(out.filter((e) => e.type === 'fence')).toEqual([]);
    expect(decide(c, 150, dead).filter((e) => e.type === 'fence')).toEqual([]);
    // A peer's heartbeat of another epoch does not count.
    echo(m, c.decisionList(), c.epoch + 1, 160);
    expect(decide(c, 170, dead).filter((e) => e.type === 'fence')).toEqual([]);
    echo(m, c.decisionList(), c.epoch, 180, 'm3');
    out = decide(c, 200, dead);
    expect(eventTypes(out)).toEqual(['host.fencing']);
    expect(events(out)[0]).toEqual({ type: 'host.fencing', at: 200, host: 'h1', attempt: 1 });
    expect(out).toContainEqual({ type: 'fence', host: 'h1', bootId: 'h1-boot-m1' });
    expect(c.decision('h1')).toMatchObject({ state: 'fencing', fenceAttempts: 1, sinceMs: 200 });
  });

  it('fences at once in a cluster of one monitor', () => {
    const c = coordinator((s) => Object.assign(s, { monitors: ['m1'], expectedVotes: 1, fencing: { ...s.fencing, enabled: true } }));
    const dead = [voter('m1', { h1: 'dead' })];
    decide(c, 0, dead);
    expect(eventTypes(decide(c, 100, dead))).toEqual(['host.failed', 'host.fencing']);
  });

  it('only declares when fencing is off', () => {
    const c = coordinator((s) => (s.fencing.enabled = false));
    const dead = [voter('m1', { h1: 'dead' }), voter('m2', { h1: 'dead' })];
    decide(c, 0, dead);
    expect(decide(c, 100, dead).filter((e) => e.type === 'fence')).toEqual([]);
    expect(c.decision('h1')?.state).toBe('failed');
  });
});

describe('announcing a host suspect', () => {
  it.each<[string, boolean, Seen[], boolean]>([
    ['a quorum sees it suspect', true, ['suspect', 'suspect', 'up'], false],
    ['a quorum sees it suspect or dead', true, ['dead', 'suspect', 'up'], false],
    ['one monitor alone', false, ['dead', 'up', 'up'], false],
    ['one that just stalled still does not hear it', true, ['suspect', 'dead', 'up'], true],
  ])('%s → suspect: %s', (_name, suspect, views, m2Paused) => {
    const c = coordinator();
    const voters = views.map((seen, i) => voter(`m${i + 1}`, { h1: seen }, i === 1 && m2Paused));
    expect(eventTypes(decide(c, 0, voters))).toEqual(suspect ? ['host.suspect'] : []);
  });

  it('announces once while it stays suspect, and again after it was heard in between', () => {
    const c = coordinator();
    const suspect = [voter('m1', { h1: 'suspect' }), voter('m2', { h1: 'suspect' })];
    const heard = [voter('m1', { h1: 'suspect' }), voter('m2', {})];
    expect(events(decide(c, 1000, suspect, noMaintenance, () => 400))).toEqual([
      { type: 'host.suspect', at: 1000, host: 'h1', silentMs: 600 },
    ]);
    expect(decide(c, 1050, suspect)).toEqual([]);
    decide(c, 1100, heard);
    expect(events(decide(c, 1150, suspect))).toEqual([{ type: 'host.suspect', at: 1150, host: 'h1', silentMs: 0 }]);
  });

  it('announces a suspect host again after its maintenance', () => {
    const c = coordinator();
    const suspect = [voter('m1', { h1: 'suspect' }), voter('m2', { h1: 'suspect' })];
    expect(eventTypes(decide(c, 0, suspect))).toEqual(['host.suspect']);
    decide(c, 50, suspect, { count: 10, maintenance: new Set(['h1']) });
    expect(eventTypes(decide(c, 100, suspect))).toEqual(['host.suspect']);
  });
});
