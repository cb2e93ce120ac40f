import { describe, expect, it } from 'vitest';
import type { ClusterEvent } from '../../src/core/events.js';
import type { HostVerdict, LeftMark } from '../../src/core/messages.js';
import { MonitorCore } from '../../src/core/monitor-core.js';
import { buildSnapshot } from '../../src/daemon/status.js';
import { CoreRig } from './core-rig.js';
import { actions, decision, events, eventTypes } from './fixtures.js';

/**
 * A beacon that stops cleanly says so (a leaving, #11 item 3): the core marks the host `left` and never
 * fences that silence; any later heartbeat brings it back; a leaving of another boot, or a stale one,
 * silences nothing; a monitor that missed the leaving learns it from a peer's view.
 */
/** m1 of three, fencing on, hosts h1..h3. */
function rig(o: ConstructorParameters<typeof CoreRig>[0] = {}): CoreRig {
  const r = new CoreRig({ ...o, edit: (s) => (s.fencing.enabled = true) });
  r.echoDecisions = true;
  return r;
}

const dead = (host: string, bootId: string): HostVerdict => ({ host, level: 'dead', bootId });

/** m1 acting, every host beating; then h1 falls silent and m2, m3 see it dead (boot `peersSee`). */
function silentH1(r: CoreRig, peersSee = 'h1-b1', extra: { left?: LeftMark[] } = {}): void {
  r.beating.delete('h1');
  for (const p of ['m2', 'm3']) r.peers.set(p, { vote: 'm1', verdicts: [dead('h1', peersSee)], ...(p === 'm2' ? extra : {}) });
}

function snapshotState(r: CoreRig, host: string): string | undefined {
  const s = buildSnapshot({
    core: r.core,
    now: r.now,
    wallNow: 1_700_000_000_000 + r.now,
    startedAt: 0,
    version: 't',
    addresses: new Map(),
    counters: { received: 0, accepted: 0, dropped: {} as never, sent: 0, sendErrors: 0 },
    recentEvents: [],
  });
  return s.hosts.find((h) => h.host === host)?.state;
}

describe('a beacon that leaves cleanly', () => {
  it('is fenced without a leaving: the control case (a silent host quorum-dead is declared and fenced)', () => {
    const r = rig();
    r.untilActing();
    r.run(1000);
    silentH1(r);
    const out = r.run(10_000);
    expect(eventTypes(out)).toContain('host.failed');
    expect(actions(out)).toContain('fence h1');
  });

  it('is marked left, shown left, and never declared failed nor fenced, though every monitor sees it dead', () => {
    const r = rig();
    r.untilActing();
    r.run(1000);
    const out = [...r.leaving('h1'), ...r.leaving('h1'), ...r.leaving('h1')];
    // Three repeats, one event: the repeats only move the sequence number on.
    expect(events(out)).toEqual([
      { type: 'host.left', at: r.now, host: 'h1', bootId: 'h1-b1', leftAt: 1_700_000_000_000 + r.now, via: 'beacon' },
    ]);
    silentH1(r);
    const later = r.run(30_000);
    expect(eventTypes(later)).not.toContain('host.failed');
    expect(eventTypes(later)).not.toContain('host.suspect');
    expect(actions(later)).toEqual([]);
    expect(r.core.coordinator.decision('h1')).toBeUndefined();
    expect(snapshotState(r, 'h1')).toBe('left');
    // Its own view still says it is silent (an older monitor counts that), and carries the mark.
    const beat = r.broadcasts(later).at(-1)!;
    expect(beat.verdicts.map((v) => v.host)).toEqual(['h1']);
    expect(beat.left).toEqual([{ host: 'h1', bootId: 'h1-b1', seq: r.core.tracks.get('h1')!.lastSeq, sentAtMs: expect.any(Number) }]);
  });

  it('comes back with a heartbeat of a new boot (host.rejoined, previous left), and a later silence is fenced', () => {
    const r = rig();
    r.untilActing();
    r.run(1000);
    r.leaving('h1');
    silentH1(r);
    r.run(5000);
    r.beating.set('h1', 'h1-b2');
    for (const p of ['m2', 'm3']) r.peers.set(p, { vote: 'm1' });
    const back = r.run(1000);
    expect(events(back).filter((e) => e.host === 'h1' || ('host' in e && e.host === 'h1'))).toContainEqual(
      expect.objectContaining({ type: 'host.rejoined', host: 'h1', bootId: 'h1-b2', previous: 'left' }),
    );
    expect(r.core.tracks.get('h1')!.left).toBeNull();
    expect(snapshotState(r, 'h1')).toBe('up');
    expect(r.broadcasts(back).at(-1)!.left).toBeUndefined();
    silentH1(r, 'h1-b2');
    const out = r.run(10_000);
    expect(actions(out)).toContain('fence h1');
  });

  it('comes back with a later heartbeat of the same boot too (a beacon that did not exit after all)', () => {
    const r = rig();
    r.untilActing();
    r.run(1000);
    r.leaving('h1');
    expect(r.core.tracks.get('h1')!.left).not.toBeNull();
    const out = r.beacon('h1');
    expect(eventTypes(out)).toEqual(['host.rejoined']);
    expect(r.core.tracks.get('h1')!.left).toBeNull();
  });

  it('is not silenced by a replayed leaving of an earlier boot: the silence of the boot heard now is fenced', () => {
    const r = rig();
    r.untilActing();
    r.run(1000);
    const out = r.leaving('h1', 'h1-b0', 999);
    expect(eventTypes(out)).toEqual([]);
    expect(out).toContainEqual(expect.objectContaining({ type: 'log', msg: 'leaving ignored: not of the boot this monitor hears' }));
    silentH1(r);
    expect(actions(r.run(10_000))).toContain('fence h1');
  });

  it('is not silenced by a leaving whose sequence number is not past the last heartbeat (a stale copy)', () => {
    const r = rig();
    r.untilActing();
    r.run(1000);
    const last = r.core.tracks.get('h1')!.lastSeq;
    expect(eventTypes(r.leaving('h1', 'h1-b1', last))).toEqual([]);
    silentH1(r);
    expect(actions(r.run(10_000))).toContain('fence h1');
  });

  it('is not taken for a host already declared failed: its fence goes on', () => {
    const r = rig({ restored: { decisions: [decision('h1', 'fence_failed', { fenceAttempts: 1 })] } });
    r.untilActing();
    const out = r.leaving('h1');
    expect(eventTypes(out)).toEqual([]);
    expect(r.core.tracks.get('h1')!.left).toBeNull();
  });
});

describe('a leaving that only a peer received', () => {
  it('is adopted from the peer view, so the coordinator that missed it does not fence the host', () => {
    const r = rig();
    r.untilActing();
    r.run(1000);
    const lastSeq = r.core.tracks.get('h1')!.lastSeq;
    const mark: LeftMark = { host: 'h1', bootId: 'h1-b1', seq: lastSeq + 1, sentAtMs: 1_700_000_001_000 };
    silentH1(r, 'h1-b1', { left: [mark] });
    const out = r.run(30_000);
    expect(events(out).filter((e: ClusterEvent) => e.type === 'host.left')).toEqual([
      expect.objectContaining({ host: 'h1', bootId: 'h1-b1', via: 'm2' }),
    ]);
    expect(eventTypes(out)).not.toContain('host.failed');
    expect(actions(out)).toEqual([]);
    // Carried on: m1 now holds it too, and would hand it to a successor.
    expect(r.broadcasts(out).at(-1)!.left).toEqual([mark]);
  });

  it('is not adopted for another boot than the one this monitor hears (a stale mark): the silence is fenced', () => {
    const r = rig();
    r.untilActing();
    r.run(1000);
    silentH1(r, 'h1-b1', { left: [{ host: 'h1', bootId: 'h1-b0', seq: 7, sentAtMs: 0 }] });
    const out = r.run(10_000);
    expect(eventTypes(out)).not.toContain('host.left');
    expect(actions(out)).toContain('fence h1');
  });

  it('is not adopted when this monitor heard the host after the leaving (it came back)', () => {
    const r = rig();
    r.untilActing();
    r.run(1000);
    const lastSeq = r.core.tracks.get('h1')!.lastSeq;
    silentH1(r, 'h1-b1', { left: [{ host: 'h1', bootId: 'h1-b1', seq: lastSeq - 1, sentAtMs: 0 }] });
    expect(actions(r.run(10_000))).toContain('fence h1');
  });

  it('does not outweigh a verdict on a newer boot: a host back in a new boot and dead again is fenced', () => {
    // m1 holds h1's mark of boot b1 and never heard it again; m2 and m3 heard boot b2 and now see it dead.
    const r = rig();
    r.untilActing();
    r.run(1000);
    r.leaving('h1');
    silentH1(r, 'h1-b2');
    expect(actions(r.run(10_000))).toContain('fence h1');
  });
});

describe('left marks across a restart', () => {
  it('are persisted, and restored: a monitor restarted while the host is away does not fence it', () => {
    const r = rig();
    r.untilActing();
    r.run(1000);
    r.leaving('h1');
    const saved = r.core.persisted();
    expect(saved.left).toEqual([expect.objectContaining({ host: 'h1', bootId: 'h1-b1' })]);
    const again = rig({ restored: { left: saved.left } });
    expect(again.core.tracks.get('h1')!.left).toEqual(saved.left![0]);
    again.untilActing();
    silentH1(again);
    expect(actions(again.run(10_000))).toEqual([]);
    expect(new MonitorCore(again.settings, 'x', 0, again.core.persisted()).tracks.get('h1')!.left).not.toBeNull();
  });
});
