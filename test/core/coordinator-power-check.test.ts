import { describe, expect, it } from 'vitest';
import { Coordinator } from '../../src/core/coordinator.js';
import type { Effect } from '../../src/core/effects.js';
import type { CoreSettings } from '../../src/core/settings.js';
import type { VoterView } from '../../src/core/tally.js';
import { actions, coreSettings, eventTypes, events, membershipOf, voter, type Seen } from './fixtures.js';

/**
 * Early power checks (core/power-checks.ts): a host a quorum of awake monitors finds silent, heard by
 * none, whose fence devices read OFF, is declared without waiting for the dead threshold; anything
 * else leaves it to the silence rule. Three monitors (quorum two), fencing on, stability window 100 ms.
 */
function coordinator(edit?: (s: CoreSettings) => void): Coordinator {
  const s = coreSettings((x) => {
    x.fencing.enabled = true;
    x.fencing.powerCheck = { maxInFlight: 2 };
    edit?.(x);
  });
  return new Coordinator(s, membershipOf(s));
}

const watch = { count: 10, maintenance: new Set<string>() };

function decide(c: Coordinator, now: number, voters: VoterView[], w = watch): Effect[] {
  const out: Effect[] = [];
  c.decide(now, voters, w, out, () => now - 1100);
  return out;
}

function answer(c: Coordinator, host: string, off: boolean, now: number): Effect[] {
  const out: Effect[] = [];
  c.powerChecked(host, off, off ? 'bmc=off' : 'bmc=on', now, true, out);
  return out;
}

const views = (seen: Seen[], host = 'h1', paused: boolean[] = []): VoterView[] =>
  seen.map((s, i) => voter(`m${i + 1}`, { [host]: s }, paused[i] ?? false));
const suspect = views(['suspect', 'suspect', 'suspect']);

describe('early power checks of a silent host', () => {
  it('asks once per silence when a quorum finds the host silent, and declares it on an OFF reading', () => {
    const c = coordinator();
    expect(actions(decide(c, 0, suspect))).toEqual(['check_power h1']);
    // Asked already: not again while the answer is due, nor after it.
    expect(actions(decide(c, 50, suspect))).toEqual([]);
    expect(answer(c, 'h1', true, 120).map((e) => e.type)).toEqual(['log']);
    const out = decide(c, 120, suspect);
    expect(eventTypes(out)).toEqual(['host.failed']);
    const [failed] = events(out);
    expect(failed).toMatchObject({ host: 'h1', votes: ['m1', 'm2', 'm3'], powerReadOffAt: 120, bootId: 'h1-boot-m1' });
    expect(c.decision('h1')?.state).toBe('failed');
  });

  it('keeps the stability window, counted from the quorum suspicion', () => {
    const c = coordinator();
    decide(c, 0, suspect);
    answer(c, 'h1', true, 40);
    expect(eventTypes(decide(c, 60, suspect))).toEqual([]);
    expect(eventTypes(decide(c, 100, suspect))).toEqual(['host.failed']);
  });

  it('leaves a host read ON (or not answered) to the silence rule: declared only on dead verdicts', () => {
    const c = coordinator();
    decide(c, 0, suspect);
    expect(answer(c, 'h1', false, 30).map((e) => e.type)).toEqual(['log']);
    expect(eventTypes(decide(c, 1000, suspect))).toEqual([]);
    const dead = views(['dead', 'dead', 'suspect']);
    decide(c, 1500, dead);
    const out = decide(c, 1600, dead);
    expect(events(out)).toEqual([expect.objectContaining({ type: 'host.failed', votes: ['m1', 'm2'] })]);
    expect(events(out)[0]).not.toHaveProperty('powerReadOffAt');
  });

  it.each<[string, VoterView[]]>([
    ['one monitor still hears it', views(['suspect', 'suspect', 'up'])],
    ['only one monitor finds it silent', views(['suspect', 'up', 'up'])],
    ['one of the two silent monitors just stalled', views(['suspect', 'suspect', 'up'], 'h1', [false, true, false])],
  ])('neither asks nor convicts when %s', (_name, voters) => {
    const c = coordinator();
    expect(actions(decide(c, 0, voters))).toEqual([]);
    // Even an OFF reading taken earlier does not count while a monitor hears the host.
    const c2 = coordinator();
    decide(c2, 0, suspect);
    answer(c2, 'h1', true, 10);
    expect(eventTypes(decide(c2, 5000, voters))).not.toContain('host.failed');
  });

  it('forgets the reading when the host is heard again: a later silence asks afresh', () => {
    const c = coordinator();
    decide(c, 0, suspect);
    answer(c, 'h1', true, 10);
    decide(c, 50, views(['up', 'up', 'up']));
    expect(actions(decide(c, 5000, suspect))).toEqual(['check_power h1']);
    expect(eventTypes(decide(c, 5200, suspect))).toEqual([]);
  });

  it('drops an answer that comes after the silence ended', () => {
    const c = coordinator();
    decide(c, 0, suspect);
    decide(c, 50, views(['up', 'up', 'up']));
    expect(answer(c, 'h1', true, 60)).toEqual([]);
    expect(eventTypes(decide(c, 2000, suspect))).not.toContain('host.failed');
  });

  it('has at most maxInFlight checks outstanding; the rest wait for the silence rule or a free slot', () => {
    const c = coordinator();
    const three = ['h1', 'h2', 'h3'];
    const all: VoterView[] = ['m1', 'm2', 'm3'].map((m) => voter(m, Object.fromEntries(three.map((h) => [h, 'suspect' as Seen]))));
    expect(actions(decide(c, 0, all))).toEqual(['check_power h1', 'check_power h2']);
    expect(actions(decide(c, 50, all))).toEqual([]);
    answer(c, 'h1', false, 60);
    expect(actions(decide(c, 70, all))).toEqual(['check_power h3']);
  });

  it('asks nothing with fencing off or checks not configured, nor while a mass-failure hold is up', () => {
    expect(
      actions(
        decide(
          coordinator((s) => (s.fencing.enabled = false)),
          0,
          suspect,
        ),
      ),
    ).toEqual([]);
    expect(
      actions(
        decide(
          coordinator((s) => delete s.fencing.powerCheck),
          0,
          suspect,
        ),
      ),
    ).toEqual([]);
    // A hold: more hosts failing at once than the guard lets through (2 hosts).
    const c = coordinator((s) => (s.massGuard = { ...s.massGuard, maxFailedHosts: 2 }));
    const hosts = ['h1', 'h2', 'h3', 'h4'];
    const dead: VoterView[] = ['m1', 'm2', 'm3'].map((m) => voter(m, Object.fromEntries(hosts.map((h) => [h, 'dead' as Seen]))));
    decide(c, 0, dead);
    decide(c, 100, dead);
    expect(c.massHold).not.toBeNull();
    const h5: VoterView[] = ['m1', 'm2', 'm3'].map((m) =>
      voter(m, { ...Object.fromEntries(hosts.map((h) => [h, 'dead' as Seen])), h5: 'suspect' }),
    );
    expect(actions(decide(c, 200, h5)).filter((a) => a.startsWith('check_power'))).toEqual([]);
  });

  it('never asks about a host in maintenance', () => {
    const c = coordinator();
    expect(actions(decide(c, 0, suspect, { count: 10, maintenance: new Set(['h1']) }))).toEqual([]);
  });
});
