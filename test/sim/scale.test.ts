import { describe, expect, it } from 'vitest';
import { World } from '../../src/testbed/sim/world.js';
import { massSilenceScenario } from '../../src/testbed/sim/scenario.js';
import { checkInvariants } from '../../src/testbed/sim/invariants.js';
import { DATAGRAM_BUDGET_BYTES } from '../../src/testbed/net/memory-network.js';

/**
 * A rack row, a room, a whole cluster going silent at once, at scale, through the real monitor
 * daemons: no monitor loop fails, every datagram fits 1,400 bytes, quorum holds and the mass-failure
 * guard holds every silent host (nothing declared or fenced without an operator's ack).
 * SIM_SCALE_HOSTS sets the cluster size (default 10,000).
 */
const HOSTS = Number(process.env.SIM_SCALE_HOSTS ?? 10_000);
const AT_MS = 5000;

async function massSilence(seed: number, silent: number): Promise<World> {
  const w = new World(massSilenceScenario(seed, { hosts: HOSTS, silent, atMs: AT_MS, durationMs: 12_000, beaconIntervalMs: 1000 }));
  await w.run();
  return w;
}

function expectHeldWithinBudget(w: World): void {
  expect([...w.collectContained()], 'failures contained in the monitor loops').toEqual([]);
  expect([...w.net.stats.overBudget], 'datagrams over budget, by sender').toEqual([]);
  expect(w.net.stats.largestBytes).toBeLessThanOrEqual(DATAGRAM_BUDGET_BYTES);
  expect(w.events.filter((e) => e.event.type === 'cluster.quorum_lost' && e.event.at > AT_MS)).toEqual([]);
  expect(w.events.some((e) => e.event.type === 'cluster.mass_failure' && e.event.at > AT_MS)).toBe(true);
  expect(w.declarations).toEqual([]);
  expect(checkInvariants(w)).toEqual([]);
}

describe(`${HOSTS} hosts going silent at once`, () => {
  for (const silent of [Math.round(HOSTS / 10), Math.round(HOSTS / 5), HOSTS]) {
    it(`${silent} of ${HOSTS} silent: held, no monitor failure, every datagram ≤ ${DATAGRAM_BUDGET_BYTES} bytes`, async () => {
      const t0 = Date.now();
      const w = await massSilence(silent, silent);
      const held = w.events.find((e) => e.event.type === 'cluster.mass_failure');
      const cpuMs = Date.now() - t0;
      console.log(
        `sim ${HOSTS}/${silent}: held ${held ? held.event.at - AT_MS : '-'} ms after the silence; largest ${w.net.stats.largestBytes} B; ${cpuMs} ms`,
      );
      expectHeldWithinBudget(w);
    }, 300_000);
  }
});
