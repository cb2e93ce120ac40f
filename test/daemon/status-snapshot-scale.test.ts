import { describe, expect, it } from 'vitest';
import { formatStatus } from '../../src/cli/status-format.js';
import { MonitorCore } from '../../src/core/monitor-core.js';
import { defaultCoreSettings } from '../../src/core/settings.js';
import { buildSnapshot } from '../../src/daemon/status.js';

/**
 * The status snapshot of a real core during a mass-failure hold (one monitor, 300 hosts, 60 silent
 * at once): the hold's alarm names at most 10 hosts and counts the rest, and `status` prints a
 * summary, not 300 rows. (Timings at 10,000 hosts: npm run bench:status.)
 */
describe('status snapshot during a mass-failure hold', () => {
  it('bounds the hold alarm and the host table', () => {
    const names = Array.from({ length: 300 }, (_, i) => `h${String(i).padStart(3, '0')}`);
    const s = defaultCoreSettings('m1', ['m1']);
    const core = new MonitorCore(s, 'boot', 0, { knownHosts: names, maintenance: [], decisions: [], epoch: 0 });
    const seq = new Map<string, number>();
    let now = 0;
    const run = (ms: number, beating: readonly string[]): void => {
      for (const end = now + ms; now < end;) {
        now += s.tickMs;
        if (now % 500 === 0)
          for (const host of beating) {
            const n = (seq.get(host) ?? 0) + 1;
            seq.set(host, n);
            core.step({
              type: 'beacon',
              at: now,
              beat: { host, bootId: `${host}-b`, seq: n, sentAtMs: now, intervalMs: 500, novaCompute: 'up' },
            });
          }
        core.step({ type: 'tick', at: now });
      }
    };
    run(5000, names);
    run(10_000, names.slice(60));
    const counters = {
      received: 0,
      accepted: 0,
      dropped: { oversized: 0, malformed: 0, bad_mac: 0, replay: 0, clock_skew: 0, unknown_sender: 0, forged: 0, incompatible: 0 },
      sent: 0,
      sendErrors: 0,
    };
    const snap = buildSnapshot({
      core,
      now,
      wallNow: 1_000_000,
      startedAt: 0,
      version: 't',
      addresses: new Map(),
      counters,
      recentEvents: [],
    });
    const hold = snap.alarms.find((a) => a.kind === 'mass_failure');
    expect(hold, JSON.stringify(snap.alarms)).toBeDefined();
    // 60 names would be a 400-character alarm line; 10 and a count say the same.
    expect(hold!.message).toContain('h000, h001, h002, h003, h004, h005, h006, h007, h008, h009 and 50 more');
    expect(hold!.message).not.toContain('h010');
    const text = formatStatus(snap, false, 1_000_000);
    expect(text).toContain('hosts: 240 up · 60 suspect');
    expect(text.split('\n').filter((l) => /^h\d{3} /.test(l))).toHaveLength(20);
    expect(text).toContain('… and 40 more not up; 240 up not listed');
  });
});
