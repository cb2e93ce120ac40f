import { describe, expect, it } from 'vitest';
import { World } from '../../src/testbed/sim/world.js';
import { randomScenario } from '../../src/testbed/sim/scenario.js';
import { checkInvariants } from '../../src/testbed/sim/invariants.js';

/**
 * Seeded failure schedules against the decision core. A failing seed is printed; replay it alone with
 *   SIM_SEED=<seed> npx vitest run test/sim
 * SIM_SEEDS sets how many seeds run (CI: the default below), SIM_SEED_START the first one.
 */
const replay = process.env.SIM_SEED ? [Number(process.env.SIM_SEED)] : null;
const count = Number(process.env.SIM_SEEDS ?? 1500);
const first = Number(process.env.SIM_SEED_START ?? 1);

function runSeed(seed: number, opts?: { maxHosts?: number; durationMs?: number }): string[] {
  const w = new World(randomScenario(seed, opts));
  w.run();
  return checkInvariants(w).map((v) => `seed ${seed}: ${v}`);
}

describe('decision core under seeded failure schedules', () => {
  it(`keeps the invariants on ${replay ? 'the replayed seed' : `${count} seeds`}`, () => {
    const seeds = replay ?? Array.from({ length: count }, (_, i) => first + i);
    const failures: string[] = [];
    for (const seed of seeds) {
      failures.push(...runSeed(seed));
      if (failures.length > 20) break;
    }
    expect(failures, failures.slice(0, 20).join('\n')).toEqual([]);
  }, 120_000 + count * 100);

  it('keeps the invariants with up to 200 hosts', () => {
    const failures: string[] = [];
    for (let seed = 100_001; seed <= 100_030; seed++) failures.push(...runSeed(seed, { maxHosts: 200, durationMs: 30_000 }));
    expect(failures, failures.slice(0, 20).join('\n')).toEqual([]);
  });

  it('actually exercises failures: hosts are declared, fenced and recovered across the seeds', () => {
    let declared = 0;
    let fenced = 0;
    let recovered = 0;
    let quorumLost = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const w = new World(randomScenario(seed));
      w.run();
      declared += w.declarations.length;
      fenced += w.events.filter((e) => e.event.type === 'host.fenced').length;
      recovered += w.events.filter((e) => e.event.type === 'host.recovery_finished').length;
      quorumLost += w.events.filter((e) => e.event.type === 'cluster.quorum_lost').length;
    }
    expect(declared).toBeGreaterThan(100);
    expect(fenced).toBeGreaterThan(50);
    expect(recovered).toBeGreaterThan(50);
    expect(quorumLost).toBeGreaterThan(10);
  });
});
