import { describe, expect, it } from 'vitest';
import { World } from '../../src/testbed/sim/world.js';
import { adversaryScenario, clockJumpScenario } from '../../src/testbed/sim/scenario.js';
import { checkInvariants } from '../../src/testbed/sim/invariants.js';

/**
 * The simulation with a compromised compute host on the network (it holds one host's key and sends
 * sealed datagrams claiming other hosts and the monitors), and with hosts whose clocks jump by
 * minutes. Replay one seed with SIM_SEED=<seed>; SIM_ADVERSARY_SEEDS sets how many run.
 */
const replay = process.env.SIM_SEED ? [Number(process.env.SIM_SEED)] : null;
const count = Number(process.env.SIM_ADVERSARY_SEEDS ?? 100);

describe('an adversary holding one compute host key', () => {
  it(`keeps the invariants on ${replay ? 'the replayed seed' : `${count} seeds`}: every forgery dropped, no fence it asked for`, async () => {
    const seeds = replay ?? Array.from({ length: count }, (_, i) => 200_001 + i);
    const failures: string[] = [];
    let forged = 0;
    let sent = 0;
    for (const seed of seeds) {
      const w = new World(adversaryScenario(seed));
      await w.run();
      failures.push(...checkInvariants(w).map((v) => `seed ${seed}: ${v}`));
      // A fence happens only after a declaration by a quorum: never on the adversary's forged decisions.
      const declared = new Set(w.declarations.map((d) => d.host));
      for (const h of w.fenced) if (!declared.has(h)) failures.push(`seed ${seed}: ${h} fenced without being declared failed`);
      forged += w.forgedDropped();
      sent += w.adversarySent.beacon + w.adversarySent.monitor;
      if (failures.length > 20) break;
    }
    expect(failures, failures.slice(0, 20).join('\n')).toEqual([]);
    // The adversary really was heard, and what it sent was counted as forged.
    expect(sent).toBeGreaterThan(0);
    expect(forged).toBeGreaterThan(sent * 0.5);
  }, 600_000);
});

describe('a healthy host whose clock jumps by minutes', () => {
  it('is never declared dead, and every monitor raises a clock_skew alarm naming it and its offset', async () => {
    const w = new World(
      clockJumpScenario(31, [
        ['h003', 5000, 5 * 60_000],
        ['h007', 9000, -3 * 60_000],
      ]),
    );
    await w.run();
    expect(checkInvariants(w)).toEqual([]);
    expect(w.declarations).toEqual([]);
    expect(w.events.filter((e) => e.event.type === 'host.suspect').map((e) => e.event)).toEqual([]);
    for (const m of w.monitors.values()) {
      const snap = m.daemon!.snapshot();
      expect(snap.counters.dropped.clock_skew).toBe(0);
      const skew = snap.alarms.filter((a) => a.kind === 'clock_skew').map((a) => a.message);
      expect(skew).toEqual([expect.stringContaining('host h003: clock +300.0s'), expect.stringContaining('host h007: clock -180.0s')]);
      expect(snap.hosts.every((h) => h.state === 'up')).toBe(true);
    }
  }, 120_000);
});
