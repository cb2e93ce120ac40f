import { describe, expect, it } from 'vitest';
import type { Effect } from '../../src/core/effects.js';
import { DEFAULT_GUEST_RESTART, GuestFailures, type GuestEventBeat } from '../../src/core/guest-failures.js';
import { GUEST_ID as ID, PANICKED } from './panicked-guest.js';

let seq = 0;
const crash = (o: Partial<GuestEventBeat> = {}): GuestEventBeat => ({
  host: 'compute-1',
  bootId: 'a'.repeat(32),
  seq: ++seq,
  sentAtMs: 1000,
  atMs: 999,
  ...PANICKED,
  ...o,
});
const emitted = (out: Effect[]) => out.flatMap((e) => (e.type === 'emit' ? [e.event] : []));
const restarts = (out: Effect[]) => out.filter((e) => e.type === 'restart_guest');

describe('guest failures (core rule)', () => {
  it('a crash that stayed down is notified and its server restarted, once per event however often it is repeated', () => {
    const g = new GuestFailures(DEFAULT_GUEST_RESTART);
    const out: Effect[] = [];
    const ev = crash();
    g.onEvent(ev, 10, true, out);
    g.onEvent(ev, 11, true, out);
    g.onEvent(ev, 12, true, out);
    expect(emitted(out)).toEqual([
      expect.objectContaining({ type: 'instance.guest_failed', instance: ID, recovery: 'restart', eventAtMs: 999 }),
    ]);
    expect(restarts(out)).toEqual([{ type: 'restart_guest', host: 'compute-1', instance: ID }]);
  });

  it('a guest reset by its own watchdog is notified, never restarted', () => {
    const g = new GuestFailures(DEFAULT_GUEST_RESTART);
    const out: Effect[] = [];
    g.onEvent(crash({ event: 'watchdog', action: 'reset', detail: 'reset', down: false }), 10, true, out);
    expect(emitted(out)).toEqual([expect.objectContaining({ type: 'instance.guest_failed', action: 'reset', recovery: 'none' })]);
    expect(restarts(out)).toEqual([]);
  });

  it('a monitor that does not act records the failure for status but neither notifies nor restarts', () => {
    const g = new GuestFailures(DEFAULT_GUEST_RESTART);
    const out: Effect[] = [];
    g.onEvent(crash(), 10, false, out);
    expect(out).toEqual([]);
    expect(g.recent).toHaveLength(1);
  });

  it('past the budget (3 in the window) a crash loop is only notified, and the window frees it again', () => {
    const s = { ...DEFAULT_GUEST_RESTART, settleMs: 1000, windowMs: 3_600_000 };
    const g = new GuestFailures(s);
    let t = 0;
    const recoveries: string[] = [];
    for (let i = 0; i < 5; i++) {
      const out: Effect[] = [];
      t += 60_000;
      g.onEvent(crash(), t, true, out);
      const ev = emitted(out)[0] as { recovery: string };
      recoveries.push(ev.recovery);
      if (restarts(out).length > 0) g.restartDone('compute-1', ID, 'restarted', 'ok', t + 10, []);
    }
    expect(recoveries).toEqual(['restart', 'restart', 'restart', 'budget_exhausted', 'budget_exhausted']);
    expect(g.counts.budgetExhausted).toBe(2);
    const out: Effect[] = [];
    g.onEvent(crash(), t + 3_600_000, true, out);
    expect(restarts(out)).toHaveLength(1);
  });

  it('a restart the edge refused on Nova’s record (an earlier coordinator’s reboots) spends the budget here: the next crash is notified only', () => {
    const s = { ...DEFAULT_GUEST_RESTART, settleMs: 1000, windowMs: 3_600_000 };
    const g = new GuestFailures(s);
    const out: Effect[] = [];
    g.onEvent(crash(), 60_000, true, out);
    expect(restarts(out)).toHaveLength(1);
    const done: Effect[] = [];
    g.restartDone('compute-1', ID, 'budget_exhausted', 'Nova records 3 reboot(s)', 60_010, done);
    expect(emitted(done)).toEqual([expect.objectContaining({ type: 'instance.guest_restarted', outcome: 'budget_exhausted' })]);
    expect(g.lastBudgetExhausted).toMatchObject({ instance: ID, outcome: 'budget_exhausted' });
    expect(g.counts.budgetExhausted).toBe(1);
    expect(g.counts.restarted).toBe(0);
    const next: Effect[] = [];
    g.onEvent(crash(), 120_000, true, next);
    expect(restarts(next)).toEqual([]);
    expect((emitted(next)[0] as { recovery: string }).recovery).toBe('budget_exhausted');
    // A window after the refusal it may restart again.
    const later: Effect[] = [];
    g.onEvent(crash(), 60_010 + 3_600_000, true, later);
    expect(restarts(later)).toHaveLength(1);
  });

  it('events of the same failure (watchdog pause, then Suspended Watchdog) restart once', () => {
    const g = new GuestFailures(DEFAULT_GUEST_RESTART);
    const out: Effect[] = [];
    g.onEvent(crash({ event: 'watchdog', action: 'pause', detail: 'pause' }), 10, true, out);
    g.onEvent(crash({ detail: 'Suspended Watchdog' }), 11, true, out);
    expect(restarts(out)).toHaveLength(1);
    expect(emitted(out).map((e) => (e as { recovery: string }).recovery)).toEqual(['restart', 'already_restarting']);
  });

  it('a crash reported by a host that is not live (suspect, failed, recovering) is notified, never restarted', () => {
    const g = new GuestFailures(DEFAULT_GUEST_RESTART);
    const out: Effect[] = [];
    g.onEvent(crash({ detail: 'Stopped Failed' }), 10, true, out, false);
    expect(restarts(out)).toEqual([]);
    expect(emitted(out)[0]).toMatchObject({ type: 'instance.guest_failed', recovery: 'host_not_live' });
  });

  it('with restarts disabled, a crash is notified only', () => {
    const g = new GuestFailures({ ...DEFAULT_GUEST_RESTART, enabled: false });
    const out: Effect[] = [];
    g.onEvent(crash(), 10, true, out);
    expect(restarts(out)).toEqual([]);
    expect(emitted(out)[0]).toMatchObject({ recovery: 'disabled' });
  });

  it('a failed or refused restart is reported and does not use the budget', () => {
    const g = new GuestFailures({ ...DEFAULT_GUEST_RESTART, settleMs: 1000 });
    const out: Effect[] = [];
    g.onEvent(crash(), 10, true, out);
    g.restartDone('compute-1', ID, 'failed', 'Nova answered 500', 20, out);
    expect(emitted(out)[1]).toMatchObject({ type: 'instance.guest_restarted', outcome: 'failed', reason: 'Nova answered 500' });
    expect(g.lastRestartFailure?.reason).toBe('Nova answered 500');
    for (let i = 0; i < 3; i++) {
      const o: Effect[] = [];
      g.onEvent(crash(), 10_000 * (i + 1), true, o);
      expect(restarts(o)).toHaveLength(1);
      g.restartDone('compute-1', ID, 'not_tagged', 'not tagged', 10_000 * (i + 1) + 5, o);
    }
  });

  it('one host cannot flood the journal: past its rate per minute, events are dropped and counted', () => {
    const g = new GuestFailures({ ...DEFAULT_GUEST_RESTART, maxEventsPerHostPerMinute: 5 });
    const out: Effect[] = [];
    for (let i = 0; i < 20; i++) g.onEvent(crash({ down: false }), 100 + i, true, out);
    expect(emitted(out)).toHaveLength(5);
    expect(g.counts.droppedHere).toBe(15);
    g.onEvent(crash({ down: false, host: 'compute-2' }), 200, true, out);
    expect(emitted(out)).toHaveLength(6);
  });
});
