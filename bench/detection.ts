/**
 * Detection latency on simulated time: 3 monitors, 500 ms heartbeats, random loss (default 5 %),
 * hosts killed one at a time; from each dead host's last heartbeat sent to `host.failed`. Live hosts
 * keep beating through the same loss, and any of them declared failed is a false failure.
 *   npm run bench:detection [-- --loss 0.2 --failures 200 --seed 1]
 */
import { World, type Scenario } from '../src/testbed/sim/world.js';
import { arg, percentile } from './stats.js';

const loss = arg('loss', 0.05);
const failures = arg('failures', 200);
const seed = arg('seed', 1);
const liveHosts = arg('live', 40);
const warmupMs = 600_000; // the detector's loss estimate settles over ~1,000 heartbeats
const spacingMs = 15_000; // four failures a minute: below the mass-failure guard's default
const victims = Array.from({ length: failures }, (_, i) => `h${String(i + 1).padStart(3, '0')}`);

const sc: Scenario = {
  seed,
  monitors: 3,
  hosts: failures + liveHosts,
  durationMs: warmupMs + failures * spacingMs + 20_000,
  beaconIntervalMs: 500,
  net: { loss, duplicate: 0, minDelayMs: 0, maxDelayMs: 5 },
  cuts: [],
  hostDeaths: victims.map((h, i) => [h, warmupMs + i * spacingMs + Math.floor(((i * 7919) % 1000) / 2)]),
  hostReboots: [],
  monitorCrashes: [],
  monitorStalls: [],
  fenceFailProbability: 0,
  settings: () => {},
};

const started = Date.now();
const world = new World(sc);
const lastSent = new Map<string, number>();
world.onHostDeath = (host, lastSentAt) => {
  if (lastSentAt !== null) lastSent.set(host, lastSentAt);
};
await world.run();

const latencies: number[] = [];
let falseFailures = 0;
const victimSet = new Set(victims);
for (const d of world.declarations) {
  if (!victimSet.has(d.host)) {
    falseFailures++;
    continue;
  }
  const sent = lastSent.get(d.host);
  if (sent !== undefined && !latencies[victims.indexOf(d.host)]) latencies[victims.indexOf(d.host)] = d.at - sent;
}
const measured = latencies.filter((x) => x !== undefined);
console.log(
  `simulated ${(sc.durationMs / 1000).toFixed(0)} s with ${sc.hosts} hosts, loss ${loss * 100}%, in ${((Date.now() - started) / 1000).toFixed(1)} s; ${measured.length}/${failures} failures detected`,
);
console.log(
  `latency ms: min ${Math.min(...measured)} p50 ${percentile(measured, 50)} p90 ${percentile(measured, 90)} p99 ${percentile(measured, 99)} max ${Math.max(...measured)}`,
);
console.log(`detection p50_ms=${percentile(measured, 50)} p99_ms=${percentile(measured, 99)} false_failures=${falseFailures}`);
