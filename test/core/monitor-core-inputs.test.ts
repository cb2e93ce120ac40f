import { describe, expect, it } from 'vitest';
import { IllegalStateError } from '../../src/errors.js';
import type { Input } from '../../src/core/effects.js';
import { MonitorCore } from '../../src/core/monitor-core.js';
import { CoreRig } from './core-rig.js';
import { actions, coreSettings, decision, events, eventTypes, logs, persistence } from './fixtures.js';

/** How one monitor's core takes each kind of input (m1 of three, peers scripted). */
describe('a monitor core', () => {
  it('refuses to run as a monitor that is not configured', () => {
    expect(
      () =>
        new MonitorCore(
          coreSettings(() => {}, 'm9'),
          'b',
          0,
        ),
    ).toThrow(IllegalStateError);
    expect(
      () =>
        new MonitorCore(
          coreSettings(() => {}, 'm9'),
          'b',
          0,
        ),
    ).toThrow("monitor 'm9' is not in the configured monitors");
  });

  it('refuses an input it does not know', () => {
    const r = new CoreRig();
    expect(() => r.step({ type: 'nonsense', at: 0 } as unknown as Input)).toThrow(/unknown input/);
  });

  it('starts from what it persisted, and persists hosts, maintenance, decisions and epoch', () => {
    const mark = { host: 'h2', on: true, atMs: 5, by: 'alice' };
    const r = new CoreRig({ hosts: ['h3', 'h1'], restored: { maintenance: [mark], decisions: [decision('h1', 'fenced')], epoch: 4 } });
    expect([...r.core.tracks.keys()]).toEqual(['h3', 'h1']);
    expect(r.core.maintenance.get('h2')).toEqual(mark);
    expect(r.core.coordinator.epoch).toBe(4);
    expect(r.core.persisted()).toEqual({
      knownHosts: ['h1', 'h3'],
      maintenance: [mark],
      decisions: [decision('h1', 'fenced')],
      epoch: 4,
      decisionSeq: 0,
    });
  });

  it('starts with nothing when nothing was persisted', () => {
    const core = new MonitorCore(coreSettings(), 'b', 0);
    expect(core.persisted()).toEqual({ knownHosts: [], maintenance: [], decisions: [], epoch: 0, decisionSeq: 0 });
  });
});

describe('beacon heartbeats', () => {
  it('track a host on its first heartbeat', () => {
    const r = new CoreRig({ hosts: [] });
    r.now = 700;
    r.beacon('h7');
    expect(r.core.tracks.get('h7')).toMatchObject({ host: 'h7', heard: true, lastHeardAt: 700, verdict: 'up' });
  });

  it('bring a host judged silent back to up at once, and say so at the next tick', () => {
    const r = new CoreRig();
    r.untilActing();
    r.beating.delete('h1');
    r.run(6000);
    expect(r.core.tracks.get('h1')?.verdict).toBe('dead');
    r.now += 10;
    r.beacon('h1', 'h1-b1');
    expect(r.core.tracks.get('h1')?.verdict).toBe('up');
    r.now += 10;
    const [beat] = r.broadcasts(r.tick());
    expect(beat?.verdicts.map((v) => v.host)).toEqual([]);
  });

  it('ignore a late or repeated heartbeat', () => {
    const r = new CoreRig();
    r.now = 100;
    r.step({ type: 'beacon', at: 100, beat: { host: 'h1', bootId: 'x', seq: 5, sentAtMs: 100, intervalMs: 500, novaCompute: 'up' } });
    r.step({ type: 'beacon', at: 900, beat: { host: 'h1', bootId: 'x', seq: 5, sentAtMs: 900, intervalMs: 500, novaCompute: 'up' } });
    expect(r.core.tracks.get('h1')?.lastHeardAt).toBe(100);
  });

  it('log a host that rebooted (a new boot id)', () => {
    const r = new CoreRig();
    r.beacon('h1', 'b1');
    expect(logs(r.beacon('h1', 'b2'))).toEqual(['info: host rebooted (new boot id)']);
    expect(r.beacon('h1', 'b2')).toEqual([]);
  });
});

describe('persistence', () => {
  it('asks to persist before acting when durable state changes, lazily when only hosts were learned, never otherwise', () => {
    const r = new CoreRig({ hosts: [] });
    expect(persistence(r.beacon('h1'))).toEqual(['lazy']);
    expect(persistence(r.beacon('h1'))).toEqual([]);
    const mark = r.step({ type: 'maintenance', at: 10, host: 'h1', on: true, by: 'alice' });
    expect(persistence(mark)).toEqual(['sync']);
    expect(mark[0]).toEqual({ type: 'persist', mustSync: true });
    expect(persistence(r.step({ type: 'tick', at: r.now }))).toEqual([]);
  });
});

describe('operator inputs', () => {
  it('maintenance on and off: an event and a log each time it changes, nothing when it does not', () => {
    const r = new CoreRig();
    const on = r.step({ type: 'maintenance', at: 10, host: 'h1', on: true, by: 'alice' });
    expect(events(on)).toEqual([{ type: 'host.maintenance', at: 10, host: 'h1', on: true, by: 'alice' }]);
    expect(logs(on)).toEqual(['info: host in maintenance']);
    // The same mark again: no event, no log; only its newer time and author are written down.
    expect(r.step({ type: 'maintenance', at: 20, host: 'h1', on: true, by: 'bob' })).toEqual([{ type: 'persist', mustSync: true }]);
    expect(r.core.maintenance.get('h1')).toEqual({ host: 'h1', on: true, atMs: 20, by: 'bob' });
    const off = r.step({ type: 'maintenance', at: 30, host: 'h1', on: false, by: 'alice' });
    expect(eventTypes(off)).toEqual(['host.maintenance']);
    expect(logs(off)).toEqual(['info: host out of maintenance']);
  });

  it('maintenance of a host nobody knows is refused (a typo makes no phantom host); with force it starts watching it', () => {
    const r = new CoreRig({ hosts: [] });
    const refused = r.step({ type: 'maintenance', at: 10, host: 'h9', on: true, by: 'alice' });
    expect(r.core.tracks.has('h9')).toBe(false);
    expect(r.core.maintenance.has('h9')).toBe(false);
    expect(refused.find((e) => e.type === 'log')).toMatchObject({ level: 'warn', msg: 'operator command refused', fields: { host: 'h9' } });
    r.step({ type: 'maintenance', at: 20, host: 'h9', on: true, by: 'alice', force: true });
    expect(r.core.tracks.has('h9')).toBe(true);
  });

  it('a maintenance change is told to the peers at the next tick, not a peer interval later', () => {
    const r = new CoreRig();
    r.untilActing();
    r.now += 10;
    r.tick();
    r.step({ type: 'maintenance', at: r.now, host: 'h1', on: true, by: 'alice' });
    r.now += 10;
    expect(r.broadcasts(r.tick())[0]?.maintenance).toEqual([{ host: 'h1', on: true, atMs: r.now - 10, by: 'alice' }]);
  });

  it('an acknowledgement goes to the coordinator logic', () => {
    const r = new CoreRig({ hosts: ['h1', 'h2', 'h3', 'h4'] });
    r.untilActing();
    for (const h of ['h1', 'h2']) r.beating.delete(h);
    for (const p of ['m2', 'm3'])
      r.peers.set(p, { vote: 'm1', verdicts: ['h1', 'h2'].map((host) => ({ host, level: 'dead', bootId: `${host}-b1` })) });
    const held = r.run(8000);
    expect(eventTypes(held)).toContain('cluster.mass_failure');
    expect(eventTypes(r.step({ type: 'ack_mass_failure', at: r.now, by: 'alice' }))).toEqual(['cluster.mass_failure_cleared']);
    expect(eventTypes(r.run(100))).toEqual(['host.failed', 'host.failed']);
  });

  it('a monitor that has just become coordinator acts on what a peer says only after the tick that takes over', () => {
    const r = new CoreRig({ restored: { decisions: [decision('h1', 'failed')] } });
    r.peers.set('m2', { vote: null });
    r.peers.set('m3', { vote: null });
    r.run(300);
    expect(r.core.acting(r.now)).toBe(false);
    r.now += 1;
    r.peer('m3', { vote: 'm1' });
    // By the votes m1 is coordinator from this heartbeat on; it has not caught up or raised the epoch yet.
    const early = r.peer('m2', { vote: 'm1', clears: [{ host: 'h1', atMs: 0, by: 'alice' }] });
    expect(r.core.acting(r.now)).toBe(true);
    expect(eventTypes(early)).toEqual([]);
    expect(r.core.coordinator.decision('h1')).toBeDefined();
    r.peers.set('m2', { vote: 'm1', clears: [{ host: 'h1', atMs: 0, by: 'alice' }] });
    r.peers.set('m3', { vote: 'm1' });
    const later = r.run(300);
    expect(eventTypes(later)).toContain('host.rejoined');
    expect(r.core.coordinator.decision('h1')).toBeUndefined();
  });

  it('a clear given to the coordinator forgets the decision at once', () => {
    const r = new CoreRig({ restored: { decisions: [decision('h1', 'fenced')] } });
    r.untilActing();
    const out = r.step({ type: 'clear', at: r.now, host: 'h1', by: 'alice' });
    expect(eventTypes(out)).toEqual(['host.rejoined']);
    expect(r.core.coordinator.decision('h1')).toBeUndefined();
  });

  it('a clear given to another monitor travels in its heartbeats until the coordinator has acted, or a minute', () => {
    const r = new CoreRig({ restored: { decisions: [decision('h1', 'fenced'), decision('h2', 'fenced')] } });
    for (const p of ['m2', 'm3']) r.peers.set(p, { vote: 'm2' });
    r.run(300);
    expect(r.core.acting(r.now)).toBe(false);
    expect(r.step({ type: 'clear', at: r.now, host: 'h1', by: 'alice' })).toEqual([]);
    expect(r.step({ type: 'clear', at: r.now, host: 'h2', by: 'alice' })).toEqual([]);
    r.now += 10;
    const [beat] = r.broadcasts(r.tick());
    expect(beat?.clears).toEqual([
      { host: 'h1', atMs: r.now - 10, by: 'alice' },
      { host: 'h2', atMs: r.now - 10, by: 'alice' },
    ]);
    // The coordinator (m2) cleared h1: its heartbeat no longer lists that decision.
    r.peer('m2', { vote: 'm2', acting: true, epoch: 3, decisions: [decision('h2', 'fenced')] });
    r.now += 10;
    expect(r.broadcasts(r.tick())[0]?.clears?.map((c) => c.host)).toEqual(['h2']);
    r.peers.set('m2', { vote: 'm2', acting: true, epoch: 3, decisions: [decision('h2', 'fenced')] });
    const later = r.broadcasts(r.run(60_500));
    expect(later.filter((b) => b.sentAtMs - beat!.sentAtMs <= 60_000).every((b) => b.clears?.[0]?.host === 'h2')).toBe(true);
    const afterMinute = later.filter((b) => b.sentAtMs - beat!.sentAtMs > 60_000);
    expect(afterMinute.length).toBeGreaterThan(0);
    expect(afterMinute.every((b) => b.clears === undefined)).toBe(true);
  });
});

describe('results of fencing and recovery', () => {
  it('a fence result is refused before this monitor acts, and taken while it acts', () => {
    const r = new CoreRig({
      restored: { decisions: [decision('h1', 'fencing', { fenceAttempts: 1 }), decision('h2', 'fencing', { fenceAttempts: 1 })] },
    });
    const record = { ok: true, durationMs: 1, attempts: [], by: 'm1' };
    expect(logs(r.step({ type: 'fence_done', at: 0, host: 'h1', record }))).toEqual([
      "warn: fence result ignored: no longer this monitor's to act on",
    ]);
    r.untilActing();
    expect(eventTypes(r.step({ type: 'fence_done', at: r.now, host: 'h1', record }))).toEqual(['host.fenced']);
  });

  it('a recovery result is refused before this monitor acts, and taken while it acts', () => {
    const r = new CoreRig({
      restored: { decisions: [decision('h1', 'recovering', { fence: { ok: true, durationMs: 1, attempts: [], by: 'm1' } })] },
    });
    const summary = { selected: 1, evacuated: 1, failed: 0, notified: 1 };
    expect(logs(r.step({ type: 'recovery_done', at: 0, host: 'h1', summary }))).toEqual([
      "warn: recovery result ignored: no longer this monitor's to act on",
    ]);
    const started = r.untilActing();
    expect(actions(started)).toEqual(['recover h1']);
    expect(eventTypes(r.step({ type: 'recovery_done', at: r.now, host: 'h1', summary }))).toEqual(['host.recovery_end']);
  });
});

describe('automatic unfence through the monitor core', () => {
  const rig = (enabled: boolean): CoreRig => {
    const r = new CoreRig({
      edit: (s) => {
        s.fencing.enabled = true;
        s.recovery = { enabled: true, autoUnfence: { enabled, quietPeriodMs: 1000 } };
      },
      restored: { decisions: [decision('h1', 'evacuated')] },
    });
    r.beating.set('h1', 'h1-b2'); // back in a new life
    return r;
  };

  it('asks to unfence a recovered host healthy again for the quiet period, and clears its decision when that is done', () => {
    const r = rig(true);
    const before = r.untilActing();
    expect(actions(before)).not.toContain('unfence h1');
    const out = r.run(1500);
    expect(actions(out).filter((a) => a === 'unfence h1')).toEqual(['unfence h1']);
    const done = r.step({ type: 'unfence_done', at: r.now, host: 'h1', ok: true });
    // It carries the boot the host runs now, not the one that failed (issue #11 item 11).
    expect(events(done)).toEqual([
      { type: 'host.rejoined', at: r.now, host: 'h1', bootId: 'h1-b2', failedBootId: 'h1-b1', previous: 'evacuated' },
    ]);
    expect(r.core.coordinator.decision('h1')).toBeUndefined();
  });

  it('keeps the decision and says so when the unfence did not complete', () => {
    const r = rig(true);
    r.untilActing();
    r.run(1500);
    const failed = r.step({ type: 'unfence_done', at: r.now, host: 'h1', ok: false, reason: 'Nova said no' });
    expect(logs(failed)).toEqual(['warn: automatic unfence did not complete; trying again after another quiet period']);
    expect(failed.find((e) => e.type === 'log')).toMatchObject({ fields: { host: 'h1', reason: 'Nova said no' } });
    expect(eventTypes(failed)).toEqual([]);
    expect(r.core.coordinator.decision('h1')?.state).toBe('evacuated');
  });

  it('says the automatic unfence returned the host, and takes a late answer for an abandoned attempt as nothing', () => {
    const r = rig(true);
    r.untilActing();
    r.run(1500);
    const done = r.step({ type: 'unfence_done', at: r.now, host: 'h1', ok: true });
    expect(done.find((e) => e.type === 'log')).toMatchObject({ fields: { host: 'h1', by: 'auto-unfence', previous: 'evacuated' } });
    expect(r.step({ type: 'unfence_done', at: r.now, host: 'h1', ok: true })).toEqual([]);
  });

  it('names no reason when the unfence gave none', () => {
    const r = rig(true);
    r.untilActing();
    r.run(1500);
    expect(r.step({ type: 'unfence_done', at: r.now, host: 'h1', ok: false }).find((e) => e.type === 'log')).toMatchObject({
      fields: { host: 'h1', reason: '' },
    });
  });

  it('never unfences a host whose recovery has not finished, however healthy it is', () => {
    const r = new CoreRig({
      edit: (s) => {
        s.fencing.enabled = true;
        s.recovery = { enabled: true, autoUnfence: { enabled: true, quietPeriodMs: 1000 } };
      },
      restored: { decisions: [decision('h1', 'recovering'), decision('h2', 'fenced')] },
    });
    r.beating.set('h1', 'h1-b2');
    r.beating.set('h2', 'h2-b2');
    r.untilActing();
    expect(actions(r.run(5000)).filter((a) => a.startsWith('unfence'))).toEqual([]);
  });

  it('never asks while automatic unfence is off, the default', () => {
    expect(coreSettings().recovery.autoUnfence.enabled).toBe(false);
    const r = rig(false);
    r.untilActing();
    expect(actions(r.run(5000))).not.toContain('unfence h1');
  });
});

// Sim seed 2727: restarted after a fence it never heard the result of, a lone monitor returned the
// (powered-off) host to up as "heard again", because a host it had not judged yet counted as up.
describe('a restarted coordinator and a decided host it has not heard since', () => {
  it('keeps the fence_failed decision and retries the fence, rather than returning the host to up', () => {
    const r = new CoreRig({
      peers: false,
      edit: (s) =>
        Object.assign(s, { monitors: ['m1'], expectedVotes: 1, fencing: { enabled: true, retryBaseMs: 1000, retryMaxMs: 1000 } }),
      restored: { decisions: [decision('h1', 'fence_failed', { fenceAttempts: 2, sinceMs: -10_000 })], epoch: 3 },
    });
    r.beating.delete('h1');
    const out = r.run(600);
    expect(eventTypes(out)).not.toContain('host.rejoined');
    expect(actions(out)).toContain('fence h1');
    expect(r.core.coordinator.decision('h1')?.state).toBe('fencing');
  });

  it('returns it to up once it hears the host itself', () => {
    const r = new CoreRig({
      peers: false,
      edit: (s) =>
        Object.assign(s, { monitors: ['m1'], expectedVotes: 1, fencing: { enabled: true, retryBaseMs: 60_000, retryMaxMs: 60_000 } }),
      restored: { decisions: [decision('h1', 'fence_failed', { fenceAttempts: 1, sinceMs: 0 })], epoch: 3 },
    });
    expect(eventTypes(r.run(1000))).toContain('host.rejoined');
    expect(r.core.coordinator.decision('h1')).toBeUndefined();
  });
});
