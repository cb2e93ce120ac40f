import { setMaxListeners } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClusterEvent } from '../src/core/events.js';
import { silentLogger } from '../src/log.js';
import { ComputeClient } from '../src/openstack/compute.js';
import { RECOVERY_DEFAULTS } from '../src/recovery/config.js';
import { startNovaListener } from '../src/recovery/nova-notifications.js';
import { NovaRecoverer } from '../src/recovery/workflow.js';
import { startNovaSim } from '../src/testbed/nova-sim/server.js';
import { arg, percentile } from './stats.js';
import { simSession } from './sim-session.js';

/**
 * Tracking at cloud scale (issue #12): 40 fenced hosts × 25 tagged servers = 1,000 evacuations on
 * the Nova simulator, each rebuild drawn from 1–20 s (seeded), with the default settings. Counts every
 * request the simulator receives while tracking (from the first evacuate accepted to the last
 * server done), the evacuate calls themselves apart (one per server, whatever the tracking), and the
 * lag from the simulator marking a server ACTIVE to instance-ha's `instance.evacuate_end` for it.
 * `--notifications`: the simulator also emits Nova's versioned notifications on the machine's
 * RabbitMQ (127.0.0.1:5672, or RABBIT_URL) and the recoverer listens to them.
 */
const HOSTS = arg('hosts', 40);
const PER_HOST = arg('per-host', 25);
const TARGETS = 20;
const withNotifications = process.argv.includes('--notifications');
const rabbitUrl = process.env.RABBIT_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

let seed = arg('seed', 12);
const random = (): number => {
  // mulberry32: the same rebuild times every run.
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

const failed = Array.from({ length: HOSTS }, (_, i) => `compute-${i + 1}`);
const healthy = Array.from({ length: TARGETS }, (_, i) => `compute-${HOSTS + i + 1}`);
const rebuildMs = new Map<string, number>();
const sim = await startNovaSim({
  hosts: [...failed, ...healthy],
  servers: failed.flatMap((h) =>
    Array.from({ length: PER_HOST }, (_, i) => ({ name: `${h}-vm-${i + 1}`, host: h, tags: ['automatic-recovery'] })),
  ),
  claimMs: 100,
  rebuildMsFor: (id) => {
    if (!rebuildMs.has(id)) rebuildMs.set(id, 1_000 + Math.round(random() * 19_000));
    return rebuildMs.get(id)!;
  },
  ...(withNotifications ? { notifications: { url: rabbitUrl } } : {}),
});
for (const h of failed) sim.model.killCompute(h);

const log = silentLogger();
const { http, session } = simSession(sim, log);
const journalDir = mkdtempSync(join(tmpdir(), 'iha-bench-tracking-'));
const total = HOSTS * PER_HOST;
const lags: number[] = [];
let firstAccepted = 0;
let windowStart = 0;
let lastAccepted = 0;
let trackingStart = 0;
let done = 0;
let windowEnd = 0;
let allDone: () => void = () => undefined;
const finished = new Promise<void>((res) => (allDone = res));
const events = {
  publish(e: ClusterEvent): void {
    if (e.type !== 'instance.evacuate_end') return;
    const at = sim.model.settledAt.get(e.server.id);
    if (at !== undefined) lags.push(Date.now() - at);
    if (++done === total) {
      windowEnd = sim.requests.length;
      allDone();
    }
  },
};
const compute = new ComputeClient({ session, http, log });
const recoverer = new NovaRecoverer({
  compute,
  events,
  log,
  cfg: { ...RECOVERY_DEFAULTS, journalDir, novaNotifications: { ...RECOVERY_DEFAULTS.novaNotifications, enabled: withNotifications } },
  onJournalAppend: (r) => {
    if (r.t === 'accepted' && !firstAccepted) {
      firstAccepted = performance.now();
      windowStart = sim.requests.length;
    }
  },
});
const listener = withNotifications
  ? await startNovaListener({
      broker: { url: rabbitUrl, password: undefined, vhost: undefined, heartbeatS: 10, connectTimeoutMs: 5_000, tls: { verify: true } },
      cfg: { ...RECOVERY_DEFAULTS.novaNotifications, enabled: true },
      tracker: recoverer.tracker,
      log,
      connectionName: 'instance-ha bench:tracking',
    })
  : null;
if (listener) await listener.ready();
// Pre-authenticated and negotiated, as a monitor is from its start (the first incident as fast as the tenth).
await compute.versions();

const fence = { ok: true, durationMs: 0, attempts: [], by: 'bench', at: Date.now() };
const ac = new AbortController();
setMaxListeners(0, ac.signal);
const started = performance.now();
const summaries = Promise.all(failed.map((h) => recoverer.recover(h, fence, ac.signal)));
// Every evacuation accepted by the simulator (Nova's side, whatever instance-ha heard back): from
// here on the simulator hears tracking alone.
const sent = setInterval(() => {
  if (sim.model.evacuateAccepted.size < total) return;
  lastAccepted = performance.now();
  trackingStart = sim.requests.length;
  clearInterval(sent);
}, 5);
await Promise.race([finished, summaries]);
const end = performance.now();
const results = await summaries;
await listener?.close();
await sim.stop();
rmSync(journalDir, { recursive: true, force: true });

const evacuated = results.reduce((n, s) => n + s.evacuated, 0);
const stop = windowEnd || sim.requests.length;
// The whole window from the first evacuate accepted, by kind (for the detail line).
const during = sim.requests.slice(windowStart, stop);
const kinds = new Map<string, number>();
for (const r of during) {
  const k = r.replace(/\?.*$/, '').replace(/[0-9a-f-]{36}/g, '{id}');
  kinds.set(k, (kinds.get(k) ?? 0) + 1);
}
// The counted window: all evacuations accepted → the last server done; every request counts.
const tracking = sim.requests.slice(trackingStart, stop);
const trackingCalls = tracking.length;
const seconds = (end - lastAccepted) / 1000;
const once = [...sim.model.evacuateAccepted.values()].every((n) => n === 1) && sim.model.evacuateAccepted.size === total;
const c = recoverer.tracker.counters;
console.log(
  [
    `detail evacuated=${evacuated}/${total} exactly_once=${once}`,
    `sending_s=${((lastAccepted - firstAccepted) / 1000).toFixed(1)} tracking_s=${seconds.toFixed(1)} tracking_calls=${trackingCalls}`,
    `from_first_accept=${JSON.stringify(Object.fromEntries(kinds))}`,
    `polls=${c.polls} server_only_polls=${c.serverOnlyPolls} kicks=${c.kicks} direct_reads=${c.directReads} total_ms=${Math.round(end - started)}`,
  ].join(' '),
);
if (evacuated !== total || lags.length !== total || !once) {
  console.error('bench: not every server was evacuated exactly once and seen to its end');
  process.exit(1);
}
const perS = (trackingCalls / seconds).toFixed(1);
const p50 = Math.round(percentile(lags, 50));
const p99 = Math.round(percentile(lags, 99));
console.log(`tracking servers=${total} api_calls_per_s=${perS} lag_p50_ms=${p50} lag_p99_ms=${p99}`);
