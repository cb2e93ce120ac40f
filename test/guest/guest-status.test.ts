import { describe, expect, it } from 'vitest';
import { guestLines } from '../../src/cli/status-format.js';
import { buildSnapshot } from '../../src/daemon/status.js';
import { MonitorCore } from '../../src/core/monitor-core.js';
import { defaultCoreSettings } from '../../src/core/settings.js';
import type { GuestEventBeat } from '../../src/core/guest-failures.js';
import { PANICKED } from './panicked-guest.js';

/** What `instance-ha status` and the status API say about guest failures, from a real core. */
const T0 = 1_700_000_000_000;
const beat = (seq: number, o: Partial<GuestEventBeat> = {}): GuestEventBeat => ({
  host: 'cmp1',
  bootId: 'ab'.repeat(16),
  seq,
  sentAtMs: T0,
  atMs: T0,
  ...PANICKED,
  ...o,
});

function snapshotAfter(events: GuestEventBeat[], restart?: 'restarted' | 'failed') {
  const s = defaultCoreSettings('m1', ['m1']);
  const core = new MonitorCore(s, 'cd'.repeat(16), T0);
  let t = T0;
  for (let i = 0; i < 5; i++) core.step({ type: 'tick', at: (t += 50) });
  // cmp1 is live: its heartbeat was heard (a crash from a host that is not live is never restarted).
  core.step({
    type: 'beacon',
    at: (t += 10),
    beat: { host: 'cmp1', bootId: 'ef'.repeat(16), seq: 1, sentAtMs: t, intervalMs: 500, novaCompute: 'up' },
  });
  for (const e of events) {
    const out = core.step({ type: 'guest_event', at: (t += 10), beat: e });
    for (const x of out)
      if (x.type === 'restart_guest' && restart)
        core.step({
          type: 'guest_restart_done',
          at: (t += 5),
          host: x.host,
          instance: x.instance,
          outcome: restart,
          reason: 'Nova said 409',
        });
  }
  return buildSnapshot({
    core,
    now: t,
    wallNow: t,
    startedAt: T0,
    version: 'test',
    addresses: new Map(),
    counters: { received: 0, accepted: 0, dropped: {} as never, sent: 0, sendErrors: 0 },
    recentEvents: [],
  });
}

describe('guest failures in status', () => {
  it('counts and lists them, newest first, with what was done', () => {
    const snap = snapshotAfter([beat(1), beat(2, { event: 'watchdog', action: 'reset', detail: 'reset', down: false })], 'restarted');
    expect(snap.guests).toMatchObject({ failures: 2, restarted: 1, restartFailed: 0 });
    const text = guestLines(snap.guests!).join('\n');
    expect(text).toMatch(/^GUEST FAILURES: 2 reported, 1 restarted, 0 restart failed, 0 past the restart budget$/m);
    expect(text.split('\n')[1]).toMatch(/cmp1 6f1c1d0e-1111-4222-8333-944455556666 watchdog reset \[reset\]: none$/);
    expect(text.split('\n')[2]).toMatch(/lifecycle Crashed Panicked: restart restarted \(Nova said 409\)$/);
  });

  it('a failed restart is an alarm, not a green surface', () => {
    const snap = snapshotAfter([beat(1)], 'failed');
    expect(snap.alarms.map((a) => a.kind)).toContain('guest_restart_failed');
    expect(snap.alarms.find((a) => a.kind === 'guest_restart_failed')!.message).toMatch(/Nova said 409/);
  });

  it('a host with no guest failure adds nothing to status', () => {
    expect(snapshotAfter([]).guests).toBeUndefined();
  });
});
