import { describe, expect, it } from 'vitest';
import { CoreRig } from './core-rig.js';
import { decision, eventTypes } from './fixtures.js';

/** The monitor core's timing rules: what counts at once, what waits for a tick, what expires. */
describe('what counts at once', () => {
  it('a late or replayed heartbeat does not bring a silent host back', () => {
    const r = new CoreRig();
    r.untilActing();
    r.run(1000);
    r.beating.delete('h1');
    r.run(6000);
    expect(r.core.tracks.get('h1')?.verdict).toBe('dead');
    r.step({ type: 'beacon', at: r.now, beat: { host: 'h1', bootId: 'h1-b1', seq: 1, sentAtMs: 0, intervalMs: 500, novaCompute: 'up' } });
    expect(r.core.tracks.get('h1')?.verdict).toBe('dead');
  });

  it('a heartbeat since the last tick makes this monitor one that hears the host, before the next tick', () => {
    const r = new CoreRig({ edit: (s) => (s.stabilityWindowMs = 0) });
    r.untilActing();
    r.run(1000);
    r.beating.delete('h1');
    r.peers.set('m3', { vote: 'm1', verdicts: [{ host: 'h1', level: 'dead', bootId: 'h1-b1' }] });
    r.run(2000);
    expect(r.core.tracks.get('h1')?.verdict).toBe('suspect');
    r.now += 10;
    r.beacon('h1');
    // m2 and m3 now say dead, but this monitor has just heard h1.
    const out = r.peer('m2', { vote: 'm1', verdicts: [{ host: 'h1', level: 'dead', bootId: 'h1-b1' }] });
    expect(eventTypes(out)).not.toContain('host.failed');
  });

  it('logs a reboot with the host and its new boot id', () => {
    const r = new CoreRig();
    r.beacon('h1', 'b1');
    expect(r.beacon('h1', 'b2')).toEqual([
      { type: 'log', level: 'info', msg: 'host rebooted (new boot id)', fields: { host: 'h1', bootId: 'b2' } },
    ]);
  });
});

describe('what is told to the peers at the next tick', () => {
  /** A coordinator whose periodic heartbeat to its peers just went out (one a second here). */
  function justBroadcast(opts?: ConstructorParameters<typeof CoreRig>[0]) {
    const r = new CoreRig({
      ...opts,
      edit: (s) => {
        Object.assign(s, { peerIntervalMs: 1000, peerTimeoutMs: 3000 });
        opts?.edit?.(s);
      },
    });
    r.untilActing();
    let out = r.run(50);
    while (r.broadcasts(out).length === 0) out = r.run(50);
    return r;
  }

  // A changed decision does not wait for the tick: it goes out in the step that made it, ahead of
  // the action it comes with, so peers hold it even if this monitor stalls right after (sim seed 362).
  it('a fence result: at once, ahead of the recovery it starts, with a newer decision version', () => {
    const r = justBroadcast({
      restored: { decisions: [decision('h1', 'fencing', { fenceAttempts: 1 })] },
      edit: (s) => (s.recovery.enabled = true),
    });
    const before = r.core.coordinator.decisionSeq;
    r.now += 10;
    const out = r.step({ type: 'fence_done', at: r.now, host: 'h1', record: { ok: true, durationMs: 1, attempts: [], by: 'm1' } });
    const sent = r.broadcasts(out);
    expect(sent[0]?.decisions[0]?.state).toBe('recovering');
    expect(sent[0]?.decisionSeq).toBeGreaterThan(before);
    const types = out.map((e) => e.type);
    expect(types).toContain('recover');
    expect(types.indexOf('broadcast')).toBeLessThan(types.indexOf('recover'));
    expect(types.indexOf('persist')).toBeLessThan(types.indexOf('broadcast'));
  });

  it('a recovery result: at once', () => {
    const fence = { ok: true, durationMs: 1, attempts: [], by: 'm1' };
    const r = justBroadcast({ restored: { decisions: [decision('h1', 'recovering', { fence })] } });
    r.now += 10;
    const out = r.step({ type: 'recovery_done', at: r.now, host: 'h1', summary: { selected: 0, evacuated: 0, failed: 0, notified: 0 } });
    expect(r.broadcasts(out)[0]?.decisions[0]?.state).toBe('evacuated');
  });

  it('a clear: at once', () => {
    const r = justBroadcast({ restored: { decisions: [decision('h1', 'fenced')] } });
    r.now += 10;
    expect(r.broadcasts(r.step({ type: 'clear', at: r.now, host: 'h1', by: 'alice' }))[0]?.decisions).toEqual([]);
  });

  it('that this monitor stalled, even when nothing else changed', () => {
    const r = new CoreRig({ peers: false, edit: (s) => Object.assign(s, { peerIntervalMs: 1000, pauseThresholdMs: 100 }) });
    let out = r.run(50);
    while (r.broadcasts(out).length === 0) out = r.run(50);
    r.now += 50 + 150;
    const [beat] = r.broadcasts(r.tick());
    expect(beat?.paused).toBe(true);
  });
});

describe('what expires', () => {
  it('after a stall, a peer stays live for the peer timeout counted from when it was last heard, stretched', () => {
    const r = new CoreRig({ peers: false });
    r.now = 0;
    r.peer('m2', { vote: 'm1' });
    r.run(500);
    r.now += 50 + 1000;
    r.tick();
    // Heard at 0, stretched by the 1,000 ms of lateness: live until 2,000.
    r.now = 2000;
    expect(r.core.membership.livePeers(r.now).map((p) => p.id)).toEqual(['m2']);
    expect(r.core.membership.livePeers(2001)).toEqual([]);
  });

  it('a clear request travels for one minute and no longer', () => {
    const r = new CoreRig({ restored: { decisions: [decision('h1', 'fenced')] }, edit: (s) => (s.peerIntervalMs = 50) });
    for (const p of ['m2', 'm3']) r.peers.set(p, { vote: 'm2', acting: p === 'm2', epoch: 3, decisions: [decision('h1', 'fenced')] });
    r.run(300);
    r.step({ type: 'clear', at: r.now, host: 'h1', by: 'alice' });
    const askedAt = r.now;
    const beats = r.broadcasts(r.run(60_100));
    const carried = beats.filter((b) => b.clears?.length).map((b) => b.sentAtMs);
    expect(carried.at(-1)).toBe(askedAt + 60_000);
    expect(beats.filter((b) => b.sentAtMs > askedAt + 60_000).every((b) => b.clears === undefined)).toBe(true);
  });
});
