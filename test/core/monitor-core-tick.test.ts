import { describe, expect, it } from 'vitest';
import { CoreRig } from './core-rig.js';
import { actions, decision, events, eventTypes, logs } from './fixtures.js';

/** What one monitor's core does on its ticks: quorum, coordinator role, heartbeats, its own stalls. */
describe('quorum and the coordinator role', () => {
  it('announces quorum once gained and once lost, not at a start without it', () => {
    const r = new CoreRig({ peers: false });
    r.now = 50;
    expect(eventTypes(r.tick())).toEqual([]);
    r.peer('m2');
    r.now = 100;
    const gained = r.tick();
    expect(events(gained)[0]).toEqual({ type: 'cluster.quorum_regained', at: 100, votes: 2, needed: 2, members: ['m1', 'm2'] });
    expect(logs(gained)[0]).toBe('info: quorum regained');
    // m2 was last heard at 50 and the peer timeout is 1000 ms.
    expect(eventTypes(r.run(950))).not.toContain('cluster.quorum_lost');
    r.now = 1051;
    const lost = r.tick();
    expect(events(lost)[0]).toEqual({ type: 'cluster.quorum_lost', at: 1051, votes: 1, needed: 2, members: ['m1'] });
    expect(logs(lost)[0]).toBe('warn: quorum lost: declaring nothing until it returns');
  });

  it('on becoming coordinator carries on the work in flight and says who coordinates', () => {
    const r = new CoreRig({ restored: { decisions: [decision('h1', 'fencing', { fenceAttempts: 1 })], epoch: 3 } });
    const out = r.untilActing();
    expect(actions(out)).toEqual(['fence h1']);
    expect(logs(out)).toContain('info: acting as coordinator');
    expect(out.find((e) => e.type === 'log' && e.msg === 'acting as coordinator')).toMatchObject({ fields: { epoch: 4 } });
    expect(events(out)).toContainEqual({ type: 'cluster.coordinator_changed', at: 50, coordinator: 'm1', previous: null });
  });

  it('on no longer being coordinator abandons the work in flight and names the new one', () => {
    const r = new CoreRig({ restored: { decisions: [decision('h1', 'fencing', { fenceAttempts: 1 })] } });
    r.untilActing();
    // m2 took over elsewhere with a newer epoch; both peers now vote for it.
    for (const p of ['m2', 'm3'])
      r.peers.set(p, { vote: 'm2', acting: p === 'm2', epoch: 9, decisions: [decision('h1', 'fencing', { fenceAttempts: 1 })] });
    const out = r.run(250);
    expect(actions(out)).toEqual(['abandon h1']);
    expect(logs(out)).toContain('warn: no longer coordinator');
    expect(events(out)).toContainEqual({ type: 'cluster.coordinator_changed', at: expect.any(Number), coordinator: 'm2', previous: 'm1' });
    expect(r.core.acting(r.now)).toBe(false);
  });

  it('does not act on a quorum that names another monitor', () => {
    const r = new CoreRig();
    for (const p of ['m2', 'm3']) r.peers.set(p, { vote: 'm2' });
    const out = r.run(1000);
    expect(r.core.acting(r.now)).toBe(false);
    expect(logs(out)).not.toContain('info: acting as coordinator');
  });
});

describe('heartbeats to the peers', () => {
  it('go out every peer interval, and at once when the view changes', () => {
    const r = new CoreRig();
    r.untilActing();
    const at = (out: ReturnType<CoreRig['run']>): number[] => r.broadcasts(out).map((b) => b.sentAtMs);
    const quiet = r.run(1000);
    const times = at(quiet);
    expect(times.length).toBe(5);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBe(200);
    r.now += 10;
    r.step({ type: 'maintenance', at: r.now, host: 'h2', on: true, by: 'alice' });
    expect(r.broadcasts(r.tick()).length).toBe(1);
  });

  it('say who sends, what it hears, whom it votes for, and what it holds', () => {
    const r = new CoreRig({ restored: { decisions: [decision('h3', 'fenced')], epoch: 2 } });
    r.untilActing();
    r.run(1000);
    r.beating.delete('h1');
    const beats = r.broadcasts(r.run(2000));
    const [a, b] = beats.slice(-2);
    expect(b!.seq).toBe(a!.seq + 1);
    expect(b).toMatchObject({
      from: 'm1',
      bootId: 'm1-boot',
      sentAtMs: b!.sentAtMs,
      hears: ['m1', 'm2', 'm3'],
      vote: 'm1',
      acting: true,
      epoch: 3,
      paused: false,
      verdicts: [{ host: 'h1', level: 'suspect', bootId: 'h1-b1' }],
      decisions: [decision('h3', 'fenced')],
      maintenance: [],
    });
    expect(b!.clears).toBeUndefined();
    expect(beats.every((x) => x.sentAtMs <= r.now)).toBe(true);
  });
});

describe('a stall of this monitor itself', () => {
  /** A rig acting as coordinator whose next tick comes `lateMs` after it was due. */
  function stalled(lateMs: number) {
    const r = new CoreRig({ restored: { decisions: [decision('h9', 'fencing', { fenceAttempts: 1 })] } });
    r.untilActing();
    r.now += r.settings.tickMs + lateMs;
    const out = r.tick();
    return { r, out };
  }

  it('is noticed when a tick is more than pauseThresholdMs late', () => {
    expect(logs(stalled(400).out)).not.toContain('warn: this monitor stalled; judgements stretched and convictions suspended');
    const { r, out } = stalled(401);
    expect(logs(out)).toContain('warn: this monitor stalled; judgements stretched and convictions suspended');
    expect(out.find((e) => e.type === 'log' && e.level === 'warn')).toMatchObject({ fields: { stalledMs: 451, graceMs: 1500 } });
    expect(r.core.paused(r.now)).toBe(true);
  });

  it('suspends convictions for pauseGraceMs: no coordinator role, no dead verdicts, no dead levels', () => {
    const { r, out } = stalled(3000);
    expect(actions(out)).toEqual(['abandon h9']);
    expect(r.core.acting(r.now)).toBe(false);
    const [beat] = r.broadcasts(out);
    expect(beat?.paused).toBe(true);
    expect(r.core.paused(r.now + 1499)).toBe(true);
    expect(r.core.paused(r.now + 1500)).toBe(false);
  });

  it('stretches every host silence by the lateness, never past now', () => {
    const r = new CoreRig();
    r.untilActing();
    r.run(1650);
    const before = new Map([...r.core.tracks].map(([h, t]) => [h, t.lastHeardAt]));
    expect([...before.values()]).toEqual([1500, 1500, 1500]);
    r.core.tracks.get('h3')!.lastHeardAt = 0;
    r.now += 50 + 1000;
    r.tick();
    expect(r.core.tracks.get('h1')?.lastHeardAt).toBe(2500);
    expect(r.core.tracks.get('h2')?.lastHeardAt).toBe(2500);
    expect(r.core.tracks.get('h3')?.lastHeardAt).toBe(1000);
    // A heartbeat read just before the late tick is not moved into the future.
    r.now += 50 + 1000 - 10;
    r.beacon('h1');
    r.now += 10;
    r.tick();
    expect(r.core.tracks.get('h1')?.lastHeardAt).toBe(r.now);
  });

  it('keeps its peers: their silence was its own too', () => {
    const r = new CoreRig();
    r.untilActing();
    r.now += 50 + 3000;
    const out = r.tick();
    expect(eventTypes(out)).not.toContain('cluster.quorum_lost');
    expect(r.core.membership.quorate(r.now)).toBe(true);
  });

  it('reports a host that was already dead as suspect while paused, and dead once the grace is over', () => {
    const r = new CoreRig({ edit: (s) => (s.massGuard.maxFailedFraction = 1) });
    r.untilActing();
    r.run(1000);
    r.beating.delete('h1');
    r.run(10_000);
    expect(r.core.tracks.get('h1')?.verdict).toBe('dead');
    r.now += 50 + 1000;
    const [beat] = r.broadcasts(r.tick());
    expect(r.core.tracks.get('h1')?.verdict).toBe('suspect');
    expect(beat?.verdicts).toEqual([{ host: 'h1', level: 'suspect', bootId: 'h1-b1' }]);
    const after = r.broadcasts(r.run(1600)).at(-1);
    expect(r.core.tracks.get('h1')?.verdict).toBe('dead');
    expect(after?.verdicts).toEqual([{ host: 'h1', level: 'dead', bootId: 'h1-b1' }]);
  });
});

describe('peer heartbeats', () => {
  it('are ignored from this monitor itself, from monitors not configured, and when stale', () => {
    const r = new CoreRig({ peers: false });
    const mark = (atMs: number) => ({ maintenance: [{ host: 'h1', on: true, atMs, by: 'x' }] });
    expect(r.peer('m1', mark(1))).toEqual([]);
    expect(r.peer('m7', mark(2))).toEqual([]);
    r.peer('m2', { seq: 5 });
    expect(r.peer('m2', { seq: 5, ...mark(3) })).toEqual([]);
    expect(r.core.maintenance.size).toBe(0);
    expect(eventTypes(r.peer('m2', { seq: 6, ...mark(4) }))).toEqual(['host.maintenance']);
  });

  it('carry maintenance marks: the later one wins, and only the monitor that took it logs it', () => {
    const r = new CoreRig({ peers: false });
    r.step({ type: 'maintenance', at: 100, host: 'h1', on: true, by: 'alice' });
    expect(r.peer('m2', { maintenance: [{ host: 'h1', on: false, atMs: 100, by: 'bob' }] })).toEqual([]);
    expect(r.peer('m2', { maintenance: [{ host: 'h1', on: false, atMs: 99, by: 'bob' }] })).toEqual([]);
    expect(r.core.maintenance.get('h1')?.on).toBe(true);
    const out = r.peer('m2', { maintenance: [{ host: 'h1', on: false, atMs: 101, by: 'bob' }] });
    expect(events(out)).toEqual([{ type: 'host.maintenance', at: 0, host: 'h1', on: false, by: 'bob' }]);
    expect(logs(out)).toEqual([]);
  });

  it('make this monitor watch a host a peer has a verdict on', () => {
    const r = new CoreRig({ hosts: [], peers: false });
    r.now = 300;
    r.peer('m2', { verdicts: [{ host: 'h5', level: 'suspect', bootId: 'b' }] });
    expect(r.core.tracks.get('h5')).toMatchObject({ lastHeardAt: 300, heard: false });
  });

  it("adopt the acting coordinator's decisions, and nobody else's", () => {
    const r = new CoreRig({ peers: false });
    r.peer('m3', { epoch: 5, decisions: [decision('h1', 'fenced')] });
    expect(r.core.coordinator.decisionList()).toEqual([]);
    r.peer('m2', { acting: true, epoch: 5, decisions: [decision('h2', 'fenced')] });
    expect(r.core.coordinator.decisionList().map((d) => d.host)).toEqual(['h2']);
  });

  it('complete a quorum of dead verdicts without waiting for the next tick, when acting', () => {
    const r = new CoreRig({ edit: (s) => (s.stabilityWindowMs = 0) });
    r.untilActing();
    r.run(1000);
    r.beating.delete('h1');
    // m3 no longer hears h1 either, but is not sure yet; m2 still hears it.
    r.peers.set('m3', { vote: 'm1', verdicts: [{ host: 'h1', level: 'suspect', bootId: 'h1-b1' }] });
    const quiet = r.run(6000);
    expect(eventTypes(quiet)).toContain('host.suspect');
    expect(eventTypes(quiet)).not.toContain('host.failed');
    expect(r.peer('m2', { vote: 'm1', verdicts: [] })).toEqual([]);
    const out = r.peer('m2', { vote: 'm1', verdicts: [{ host: 'h1', level: 'dead', bootId: 'h1-b1' }] });
    expect(eventTypes(out)).toEqual(['host.failed']);
  });

  it('do not make a monitor that is not coordinator decide', () => {
    const r = new CoreRig({ edit: (s) => (s.stabilityWindowMs = 0) });
    for (const p of ['m2', 'm3']) r.peers.set(p, { vote: 'm2' });
    r.beating.delete('h1');
    r.run(6000);
    expect(r.peer('m3', { vote: 'm2', verdicts: [{ host: 'h1', level: 'dead', bootId: 'h1-b1' }] })).toEqual([]);
  });

  it('carry clears to the coordinator, for the decision they were asked about only', () => {
    const r = new CoreRig({
      restored: { decisions: [decision('h1', 'fenced', { sinceMs: 0 }), decision('h2', 'fenced', { sinceMs: 500 })] },
    });
    r.untilActing();
    const out = r.peer('m3', {
      vote: 'm1',
      clears: [
        { host: 'h1', atMs: 0, by: 'alice' },
        { host: 'h2', atMs: 499, by: 'alice' },
      ],
    });
    expect(events(out)).toEqual([
      { type: 'host.rejoined', at: r.now, host: 'h1', bootId: 'h1-b1', failedBootId: 'h1-b1', previous: 'fenced' },
    ]);
    expect(r.core.coordinator.decisionList().map((d) => d.host)).toEqual(['h2']);
    // Told to the peers at once, in the same step.
    expect(r.broadcasts(out)[0]?.decisions.map((d) => d.host)).toEqual(['h2']);
  });

  it('do not make a monitor that is not coordinator clear anything', () => {
    const r = new CoreRig({ restored: { decisions: [decision('h1', 'fenced')] }, peers: false });
    expect(r.peer('m3', { vote: 'm2', clears: [{ host: 'h1', atMs: 10, by: 'alice' }] })).toEqual([]);
    expect(r.core.coordinator.decision('h1')).toBeDefined();
  });
});

describe("a warning about this monitor's own link", () => {
  it('when a host is dead here while enough peers hear it: once, until it is heard again', () => {
    const r = new CoreRig();
    r.untilActing();
    r.beating.delete('h1');
    const first = r.run(8000);
    const warning = "warn: host silent here but heard by peers: check this monitor's network link";
    expect(logs(first).filter((l) => l === warning)).toHaveLength(1);
    expect(first.find((e) => e.type === 'log' && e.level === 'warn')).toMatchObject({ fields: { host: 'h1', peersHearIt: 2 } });
    r.beating.set('h1', 'h1-b1');
    r.run(1000);
    r.beating.delete('h1');
    expect(logs(r.run(8000)).filter((l) => l === warning)).toHaveLength(1);
  });

  it('not when the peers do not hear it either, nor with no live peer', () => {
    const r = new CoreRig();
    r.untilActing();
    r.beating.delete('h1');
    for (const p of ['m2', 'm3']) r.peers.set(p, { vote: 'm1', verdicts: [{ host: 'h1', level: 'dead', bootId: 'h1-b1' }] });
    expect(logs(r.run(8000)).filter((l) => l.includes('network link'))).toEqual([]);
    const alone = new CoreRig({ peers: false });
    alone.beating.delete('h1');
    expect(logs(alone.run(8000)).filter((l) => l.includes('network link'))).toEqual([]);
  });

  it('with five monitors, only when two peers hear it (the others of a quorum)', () => {
    const monitors = ['m1', 'm2', 'm3', 'm4', 'm5'];
    const warned = (hearing: number): boolean => {
      const r = new CoreRig({ edit: (s) => Object.assign(s, { monitors, expectedVotes: 5 }) });
      r.peers.clear();
      for (const [i, p] of ['m2', 'm3', 'm4', 'm5'].entries()) {
        r.peers.set(p, { vote: 'm1', hears: monitors, verdicts: i < hearing ? [] : [{ host: 'h1', level: 'dead', bootId: 'h1-b1' }] });
      }
      r.beating.delete('h1');
      return logs(r.run(8000)).some((l) => l.includes('network link'));
    };
    expect(warned(1)).toBe(false);
    expect(warned(2)).toBe(true);
  });
});
