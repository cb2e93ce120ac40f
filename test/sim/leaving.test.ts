import { describe, expect, it } from 'vitest';
import { World } from '../../src/testbed/sim/world.js';
import { massSilenceScenario, randomScenario } from '../../src/testbed/sim/scenario.js';
import { Rng } from '../../src/testbed/sim/rng.js';
import { checkInvariants } from '../../src/testbed/sim/invariants.js';

/**
 * Clean stops in the seeded simulation (real MonitorDaemons and Beacons on the in-memory network, 1 %
 * loss): a beacon stopped with SIGTERM says it is leaving, and the cluster shows the host left and
 * never fences it; started again it is watched again, and a later death is fenced as usual.
 */
describe('a beacon stopped cleanly', () => {
  it('is left on every monitor, never declared nor fenced; back with a new boot, its later death is fenced', async () => {
    const base = massSilenceScenario(41, { hosts: 10, silent: 0, durationMs: 45_000 });
    const w = new World({
      ...base,
      // h001 stops at 5 s and starts again at 20 s, then dies at 30 s; h002 stops for good at 8 s;
      // h003 dies at 8 s without a word (the control: fenced as before).
      hostStops: [
        ['h001', 5000, 20_000],
        ['h002', 8000, null],
      ],
      hostDeaths: [
        ['h001', 30_000],
        ['h003', 8000],
      ],
    });
    await w.run();
    expect(checkInvariants(w)).toEqual([]);
    const of = (type: string, host: string) => w.events.filter((e) => e.event.type === type && 'host' in e.event && e.event.host === host);
    // Every monitor shows both hosts left (from the beacon itself, or from a peer's view).
    expect(new Set(of('host.left', 'h002').map((e) => e.by))).toEqual(new Set(w.monitorIds));
    expect(new Set(of('host.left', 'h001').map((e) => e.by))).toEqual(new Set(w.monitorIds));
    expect(of('host.failed', 'h002')).toEqual([]);
    expect(of('host.fenced', 'h002')).toEqual([]);
    expect(w.hosts.get('h002')!.poweredOffAt).toBeNull();
    // h001 came back (host.rejoined, previous left) and its death after that was fenced.
    const back = of('host.rejoined', 'h001').filter((e) => e.event.type === 'host.rejoined' && e.event.previous === 'left');
    expect(back.length).toBeGreaterThan(0);
    expect(back.every((e) => e.event.at >= 20_000)).toBe(true);
    const failed = of('host.failed', 'h001');
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((e) => e.event.at > 30_000)).toBe(true);
    expect(of('host.fenced', 'h001').length).toBeGreaterThan(0);
    // The control: a beacon killed without a word is fenced.
    expect(of('host.fenced', 'h003').length).toBeGreaterThan(0);
  }, 120_000);

  it('is not fenced by a coordinator that missed every copy of the leaving: it learns it from its peers', async () => {
    const base = massSilenceScenario(43, { hosts: 10, silent: 0, durationMs: 30_000 });
    // h002 cannot reach m1 (the coordinator: lowest id) around its stop; m2 and m3 hear the leaving.
    const w = new World({ ...base, cuts: [['h002', 'm1', 7000, 30_000]], hostStops: [['h002', 8000, null]] });
    await w.run();
    expect(checkInvariants(w)).toEqual([]);
    const left = w.events.filter((e) => e.event.type === 'host.left' && e.event.host === 'h002');
    expect(left.find((e) => e.by === 'm1')?.event).toMatchObject({ via: expect.stringMatching(/^m[23]$/) });
    expect(w.declarations.filter((d) => d.host === 'h002')).toEqual([]);
    expect(w.hosts.get('h002')!.poweredOffAt).toBeNull();
  }, 60_000);

  it('keeps every invariant on 240 random schedules with clean stops added (loss, partitions, crashes, stalls)', async () => {
    const failures: string[] = [];
    let stops = 0;
    for (let seed = 1; seed <= 240; seed++) {
      const sc = randomScenario(seed);
      // Its own generator: the schedule of the seed stays the one simulation.test.ts runs.
      const r = new Rng(seed ^ 0x1eaf);
      const busy = new Set([...sc.hostDeaths.map(([h]) => h), ...sc.hostReboots.map(([h]) => h)]);
      const free = Array.from({ length: sc.hosts }, (_, i) => `h${String(i + 1).padStart(3, '0')}`).filter((h) => !busy.has(h));
      const hostStops: Array<[string, number, number | null]> = free.slice(0, 2).map((h) => {
        const at = 2000 + r.int(sc.durationMs - 8000);
        return [h, at, r.chance(0.5) ? at + 1000 + r.int(8000) : null];
      });
      stops += hostStops.length;
      const w = new World({ ...sc, hostStops });
      await w.run();
      failures.push(...checkInvariants(w).map((v) => `seed ${seed}: ${v}`));
    }
    expect(failures, failures.slice(0, 20).join('\n')).toEqual([]);
    expect(stops).toBeGreaterThan(240);
  }, 300_000);
});
