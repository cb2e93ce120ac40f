/**
 * Detection latency on real processes and real time, the twin of bench/detection.ts (simulated
 * time): 3 monitors and `--hosts` beacons at 500 ms on loopback, beacons SIGKILLed one at a time;
 * from the last heartbeat the coordinator heard to its `host.failed`, against the documented bound
 * (detectionBoundMs). The process tests only check that a death is declared, not how fast.
 *   npm run bench:detection:processes [-- --failures 5 --hosts 8]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { controlRequest } from '../src/control/client.js';
import type { ClusterEvent } from '../src/core/events.js';
import { defaultCoreSettings, detectionBoundMs } from '../src/core/settings.js';
import type { StatusSnapshot } from '../src/core/status-snapshot.js';
import { writeClusterFiles, type ClusterLayout } from '../src/testbed/demo/cluster-files.js';
import { ProcessGroup } from '../src/testbed/demo/processes.js';
import { freePortBlock } from '../src/testbed/loopback-ports.js';
import { arg, percentile } from './stats.js';

const failures = arg('failures', 5);
const hostCount = Math.max(arg('hosts', 8), failures + 1);
const BEACON_MS = 500;
const MONITORS = ['mon1', 'mon2', 'mon3'];
const bound = detectionBoundMs(defaultCoreSettings('mon1', MONITORS), BEACON_MS);

async function snapshot(socket: string): Promise<StatusSnapshot | null> {
  try {
    return (await controlRequest(socket, 'GET', '/status', undefined, 2000)).body as unknown as StatusSnapshot;
  } catch {
    return null;
  }
}

/** Polls every monitor until one's snapshot satisfies `pred`; null after `timeoutMs`. */
async function until(layout: ClusterLayout, pred: (s: StatusSnapshot) => boolean, timeoutMs: number): Promise<StatusSnapshot | null> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const m of layout.monitors) {
      const s = await snapshot(m.socket);
      if (s && pred(s)) return s;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return null;
}

const dir = mkdtempSync(join(tmpdir(), 'iha-bench-detection-'));
const procs = new ProcessGroup(dir);
const latencies: number[] = [];
let falseFailures = 0;
try {
  const hosts = Array.from({ length: hostCount }, (_, i) => `cmp${i + 1}`);
  // writeClusterFiles: monitor i on UDP base + i, its status API on base + 100 + i, metrics on base + 200 + i.
  const needs = MONITORS.flatMap((_, i) => [
    { offset: i, kind: 'udp' as const },
    { offset: 100 + i, kind: 'tcp' as const },
    { offset: 200 + i, kind: 'tcp' as const },
  ]);
  const layout = writeClusterFiles(dir, {
    monitors: MONITORS.length,
    hosts,
    basePort: await freePortBlock(300, needs),
    beaconIntervalMs: BEACON_MS,
    logLevel: 'warn',
    // One death at a time is no mass failure, however many the run has.
    monitorExtra: () => ({ mass_failure: { max_failed_fraction: 1 } }),
  });
  for (const m of layout.monitors) procs.start(m.id, ['monitor', '--config', m.config]);
  for (const h of layout.hosts) procs.start(h.name, ['beacon', '--config', h.config]);
  const allUp = (s: StatusSnapshot): boolean =>
    s.cluster.coordinator !== null && s.hosts.length === hosts.length && s.hosts.every((h) => h.state === 'up');
  const up = await until(layout, allUp, 30_000);
  if (!up) throw new Error('the cluster did not come up within 30 s');
  for (const victim of hosts.slice(0, failures)) {
    procs.signal(victim, 'SIGKILL');
    const declared = (e: ClusterEvent): e is Extract<ClusterEvent, { type: 'host.failed' }> =>
      e.type === 'host.failed' && e.host === victim;
    const s = await until(layout, (x) => x.cluster.coordinator === x.monitor.id && x.recentEvents.some(declared), bound + 30_000);
    const failed = s?.recentEvents.find(declared);
    if (failed?.lastHeardAt != null) latencies.push(Math.round(failed.at - failed.lastHeardAt));
    else console.log(`${victim}: not declared failed`);
  }
  const last = await until(layout, (x) => x.cluster.coordinator === x.monitor.id, 5000);
  falseFailures = last?.hosts.filter((h) => !hosts.slice(0, failures).includes(h.host) && h.state !== 'up').length ?? 0;
} finally {
  procs.killAll();
  rmSync(dir, { recursive: true, force: true });
}
console.log(`latency ms (last heartbeat heard → host.failed): ${latencies.join(' ')}; bound ${bound}`);
const within = latencies.filter((l) => l <= bound).length;
console.log(
  `detection_processes p50_ms=${percentile(latencies, 50)} max_ms=${Math.max(...latencies)} bound_ms=${bound} ` +
    `within_bound=${within}/${failures} false_failures=${falseFailures}`,
);
