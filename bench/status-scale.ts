/**
 * Unit-level timing of the status path at scale (no processes, no sockets): one real MonitorCore
 * with 10,000 hosts beating, then 2,000 silent at once (a mass-failure hold), and the time each
 * status surface takes over that state — the control socket's snapshot + JSON (what
 * `status --json` costs the monitor and the CLI), the human summary, --all, and the status API's
 * capped /api/status and one /api/hosts page. Goal (issue 10): `status --json` < 1000 ms.
 *   npm run bench:status [-- --hosts 10000 --silent 2000 --runs 5]
 * Last line: `status-scale hosts=<n> silent=<n> json_bytes=<n> status_json_ms=<p50> status_text_ms=<p50>
 *   status_all_ms=<p50> api_status_ms=<p50> api_hosts_page_ms=<p50> held=<n>`
 */
import { MonitorCore } from '../src/core/monitor-core.js';
import { defaultCoreSettings } from '../src/core/settings.js';
import type { StatusSnapshot } from '../src/core/status-snapshot.js';
import { formatStatus } from '../src/cli/status-format.js';
import { buildSnapshot } from '../src/daemon/status.js';
import { queryHosts } from '../src/status-api/host-query.js';
import { API_LIMITS } from '../src/status-api/limits.js';
import { arg, percentile } from './stats.js';

const hostCount = arg('hosts', 10_000);
const silentCount = arg('silent', 2_000);
const runs = arg('runs', 5);
const names = Array.from({ length: hostCount }, (_, i) => `compute-${String(i).padStart(5, '0')}`);
const settings = defaultCoreSettings('m1', ['m1']);
const core = new MonitorCore(settings, 'bench-boot', 0, { knownHosts: names, maintenance: [], decisions: [], epoch: 0 });
const seq = new Map<string, number>();
let now = 0;
const beat = (host: string): void => {
  const n = (seq.get(host) ?? 0) + 1;
  seq.set(host, n);
  core.step({ type: 'beacon', at: now, beat: { host, bootId: `${host}-b1`, seq: n, sentAtMs: now, intervalMs: 1000, novaCompute: 'up' } });
};
/** Every host beats once a second (spread over the second), the core ticks every tickMs. */
function run(ms: number, beating: readonly string[]): void {
  const end = now + ms;
  let next = 0;
  while (now < end) {
    now += settings.tickMs;
    const share = Math.ceil((beating.length * settings.tickMs) / 1000);
    for (let i = 0; i < share; i++) beat(beating[(next + i) % beating.length]!);
    next = (next + share) % beating.length;
    core.step({ type: 'tick', at: now });
  }
}
run(10_000, names);
run(10_000, names.slice(silentCount));

const counters = {
  received: 0,
  accepted: 0,
  dropped: { oversized: 0, malformed: 0, bad_mac: 0, replay: 0, clock_skew: 0, unknown_sender: 0, forged: 0, incompatible: 0 },
  sent: 0,
  sendErrors: 0,
};
const snapshot = (): StatusSnapshot =>
  buildSnapshot({
    core,
    now,
    wallNow: Date.now(),
    startedAt: Date.now() - 60_000,
    version: 'bench',
    addresses: new Map([['m1', '127.0.0.1:7400']]),
    counters,
    recentEvents: [],
  });

function time(fn: () => unknown): number {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    samples.push(performance.now() - t0);
  }
  return Math.round(percentile(samples, 50));
}

let bytes = 0;
// The monitor builds and serialises the snapshot, the CLI parses it and prints it again.
const statusJson = time(() => {
  const text = JSON.stringify(snapshot());
  bytes = Buffer.byteLength(text);
  return JSON.stringify(JSON.parse(text));
});
const statusText = time(() => formatStatus(JSON.parse(JSON.stringify(snapshot())) as StatusSnapshot, false));
const statusAll = time(() => formatStatus(JSON.parse(JSON.stringify(snapshot())) as StatusSnapshot, false, Date.now(), { all: true }));
const apiStatus = time(() => {
  const s = snapshot();
  return JSON.stringify({ ...s, hosts: queryHosts(s.hosts, { limit: API_LIMITS.statusMaxHosts }).hosts });
});
const apiHosts = time(() =>
  JSON.stringify(queryHosts(snapshot().hosts, { state: 'suspect', limit: API_LIMITS.hostsDefaultLimit, offset: 1000 })),
);
const snap = snapshot();
const notUp = snap.hosts.filter((h) => h.state !== 'up').length;
console.log(`not up: ${notUp}; alarms: ${snap.alarms.map((a) => a.kind).join(', ') || 'none'}`);
console.log(formatStatus(snap, false).split('\n').slice(0, 12).join('\n'));
console.log(
  `status-scale hosts=${hostCount} silent=${silentCount} json_bytes=${bytes} status_json_ms=${statusJson} status_text_ms=${statusText} ` +
    `status_all_ms=${statusAll} api_status_ms=${apiStatus} api_hosts_page_ms=${apiHosts} held=${snap.alarms.some((a) => a.kind === 'mass_failure') ? 1 : 0}`,
);
