import { hostName, type Scenario } from './world.js';
import { Rng } from './rng.js';

/**
 * A random failure schedule for a seed: network loss/delay/duplication/reordering, symmetric and
 * one-way partitions, monitor crashes and stalls, host deaths and reboots, flaky fencing.
 */
export function randomScenario(seed: number, opts: { maxHosts?: number; durationMs?: number } = {}): Scenario {
  const r = new Rng(seed ^ 0x5bd1e995);
  const monitors = 1 + r.int(5);
  const hosts = 1 + r.int(opts.maxHosts ?? 40);
  const durationMs = opts.durationMs ?? 40_000;
  const ids = Array.from({ length: monitors }, (_, i) => `m${i + 1}`);
  const hostNames = Array.from({ length: hosts }, (_, i) => `h${String(i + 1).padStart(3, '0')}`);
  const maxDelayMs = r.pick([2, 10, 50, 150]);
  const sc: Scenario = {
    seed,
    monitors,
    hosts,
    durationMs,
    beaconIntervalMs: 500,
    net: { loss: r.pick([0, 0.01, 0.05, 0.1]), duplicate: r.pick([0, 0.02, 0.1]), minDelayMs: 0, maxDelayMs },
    cuts: [],
    hostDeaths: [],
    hostReboots: [],
    monitorCrashes: [],
    monitorStalls: [],
    fenceFailProbability: r.pick([0, 0, 0.3]),
    settings: () => {},
  };
  const span = (): [number, number] => {
    const start = 2000 + r.int(durationMs - 4000);
    return [start, start + 500 + r.int(8000)];
  };
  const faults = r.int(8);
  for (let i = 0; i < faults; i++) {
    const [start, end] = span();
    switch (r.int(6)) {
      case 0: {
        // Symmetric partition of the monitors (and the hosts each side can hear).
        const side = new Set(ids.filter(() => r.chance(0.5)));
        const hostSide = new Set(hostNames.filter(() => r.chance(0.5)));
        for (const a of ids) for (const b of ids) if (side.has(a) !== side.has(b)) sc.cuts.push([a, b, start, end]);
        for (const h of hostNames) for (const m of ids) if (hostSide.has(h) !== side.has(m)) sc.cuts.push([h, m, start, end]);
        break;
      }
      case 1: {
        // One-way: a monitor stops hearing (or being heard by) another.
        const a = r.pick(ids);
        const b = r.pick(ids);
        if (a !== b) sc.cuts.push([a, b, start, end]);
        break;
      }
      case 2: {
        // A host's link to one monitor fails (the others still hear it).
        sc.cuts.push([r.pick(hostNames), r.pick(ids), start, end]);
        break;
      }
      case 3:
        sc.monitorCrashes.push([r.pick(ids), start, end]);
        break;
      case 4:
        sc.monitorStalls.push([r.pick(ids), start, start + 200 + r.int(4000)]);
        break;
      case 5:
        sc.hostReboots.push([r.pick(hostNames), start, end]);
        break;
    }
  }
  const deaths = r.int(Math.min(4, hosts) + 1);
  for (let i = 0; i < deaths; i++) sc.hostDeaths.push([r.pick(hostNames), 1000 + r.int(durationMs - 12_000)]);
  return sc;
}

/**
 * A rack row lost at once: `silent` of `hosts` hosts stop at `atMs` on a clean network, with 3
 * monitors. The mass-failure guard must hold them all (no fencing a rack for what is more likely a
 * switch); an operator's ack at `ackAtMs` (if given) releases them.
 */
export function massSilenceScenario(
  seed: number,
  opts: { hosts: number; silent: number; atMs?: number; ackAtMs?: number; durationMs?: number; beaconIntervalMs?: number },
): Scenario {
  const atMs = opts.atMs ?? 8000;
  const names = Array.from({ length: opts.hosts }, (_, i) => hostName(i + 1));
  return {
    seed,
    monitors: 3,
    hosts: opts.hosts,
    durationMs: opts.durationMs ?? 30_000,
    beaconIntervalMs: opts.beaconIntervalMs ?? 500,
    massSilence: { atMs, silent: opts.silent },
    net: { loss: 0.01, duplicate: 0, minDelayMs: 0, maxDelayMs: 5 },
    cuts: [],
    hostDeaths: names.slice(0, opts.silent).map((h) => [h, atMs]),
    hostReboots: [],
    monitorCrashes: [],
    monitorStalls: [],
    ...(opts.ackAtMs !== undefined ? { massFailureAcks: [opts.ackAtMs] } : {}),
    fenceFailProbability: 0,
    settings: () => {},
  };
}

/**
 * A monitor's state disk fails (full) while a host dies, and the monitor restarts before the disk is
 * fixed: the fence must wait for the decision to be on disk, so the restart finds either no decision
 * and no fence (and decides once), or both. `monitors: 1` is the sharp case (no peer holds the
 * decision); with 3, only m1's disk fails.
 */
export function diskFailureScenario(
  seed: number,
  opts: { monitors: number; diskFailsAtMs?: number; diskBackAtMs?: number; crash?: [number, number]; durationMs?: number },
): Scenario {
  const failsAt = opts.diskFailsAtMs ?? 3000;
  const backAt = opts.diskBackAtMs ?? 15_000;
  return {
    seed,
    monitors: opts.monitors,
    hosts: 4,
    durationMs: opts.durationMs ?? 25_000,
    beaconIntervalMs: 500,
    net: { loss: 0.01, duplicate: 0, minDelayMs: 0, maxDelayMs: 5 },
    cuts: [],
    hostDeaths: [['h001', failsAt + 1000]],
    hostReboots: [],
    monitorCrashes: opts.crash ? [['m1', ...opts.crash]] : [],
    monitorStalls: [],
    diskFailures: [['m1', failsAt, backAt]],
    fenceFailProbability: 0,
    settings: () => {},
  };
}

/**
 * A random schedule (as randomScenario) with a compromised compute host on the network from early
 * on: it holds one host's key and sends sealed datagrams for other hosts and for the monitors. The
 * invariants are the same: nothing it sends may keep a dead host up or get a healthy one fenced.
 */
export function adversaryScenario(seed: number): Scenario {
  const sc = randomScenario(seed);
  const r = new Rng(seed ^ 0x2c1b3c6d);
  const host = `h${String(1 + r.int(sc.hosts)).padStart(3, '0')}`;
  return { ...sc, adversary: { host, startMs: 500 + r.int(3000), intervalMs: r.pick([50, 100, 250, 500]) } };
}

/**
 * Healthy hosts whose wall clocks jump by minutes (broken NTP), on a clean network with 3 monitors:
 * none may be declared failed, and the monitors raise a clock_skew alarm naming each.
 */
export function clockJumpScenario(seed: number, jumps: Array<[string, number, number]>, durationMs = 30_000): Scenario {
  return {
    seed,
    monitors: 3,
    hosts: 10,
    durationMs,
    beaconIntervalMs: 500,
    net: { loss: 0.01, duplicate: 0.02, minDelayMs: 0, maxDelayMs: 10 },
    cuts: [],
    hostDeaths: [],
    hostReboots: [],
    monitorCrashes: [],
    monitorStalls: [],
    fenceFailProbability: 0,
    settings: () => {},
    clockJumps: jumps,
  };
}
