/**
 * Host losses on the REAL Nova of the project's harness cloud (test/openstack/harness/up.sh must have
 * brought it up): the whole product (bench/cloud-cluster.ts), one compute powered off at its ipmi_sim
 * BMC per run, timed from that power-off to every tagged server of the host ACTIVE elsewhere (the
 * coordinator's instance.evacuate_end, which it publishes only after seeing ACTIVE on another host
 * in Nova). Between runs the host is powered on, its beacon restarted, unfenced, and the servers put
 * back at home (the harness baseline), so every run starts from the same cloud.
 *   npm run bench:real-cloud [-- --runs 5 --per-host 4 --beacon-interval 500 --nova-notifications --fence-agent fence_ipmi --keep-logs]
 * `--keep-logs` keeps every process's log (IHA_BENCH_LOG_LEVEL=debug for a detailed timeline).
 * Defaults are the product's: 500 ms beacons, tracking by polling alone, fencing through native-ipmi
 * (as the shipped examples/monitor.yaml; `--fence-agent fence_ipmi` runs the agent process of the
 * CI suites instead, two process starts per fence and one per early power check: ~0.1 s each here). `--nova-notifications` adds
 * Nova's versioned notifications as a hint (the harness's Nova emits them unless IHA_CLOUD_NOTIFICATIONS=off);
 * `--beacon-interval 200` is the faster detection a small cluster can afford (docs/operations.md).
 * Wrap it in `flock /tmp/iha-cloud.lock` where other work shares the harness.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ClusterEvent } from '../src/core/events.js';
import type { StatusSnapshot } from '../src/core/status-snapshot.js';
import { ipmitoolArgs } from '../src/testbed/bmc/ipmi-sim-launcher.js';
import { CLI_PATH } from '../src/testbed/demo/processes.js';
import { HARNESS_CLOUD_NAME, HARNESS_CLOUDS_YAML, HARNESS_SCRIPTS, startCloudCluster, type CloudCluster } from './cloud-cluster.js';
import { startNovaTap, type NovaTap } from './nova-tap.js';
import { arg, percentile } from './stats.js';

const runs = arg('runs', 5);
const perHost = arg('per-host', 4);
const beaconIntervalMs = arg('beacon-interval', 500);
const novaNotifications = process.argv.includes('--nova-notifications');
/** `--fence-agent fence_ipmi`: the agent process of the CI suites; by default the shipped examples/monitor.yaml's in-process native-ipmi. */
const fenceAgentArg = process.argv.indexOf('--fence-agent');
const fenceAgent = fenceAgentArg > 0 ? process.argv[fenceAgentArg + 1] : 'native-ipmi';
if (fenceAgent !== 'native-ipmi' && fenceAgent !== 'fence_ipmi') {
  console.error(`bench:real-cloud: --fence-agent must be native-ipmi or fence_ipmi, got '${fenceAgent}'`);
  process.exit(64);
}
/** Seconds of beating before the first loss: a monitor's detector starts cautious (a prior of 5 % loss) and learns. */
const warmupS = arg('warmup', 60);
const HOSTS = ['compute-1', 'compute-2', 'compute-3'];
const RABBIT = process.env.INSTANCE_HA_RABBIT_URL ?? 'amqp://guest:guest@127.0.0.1:5672/';
const env = { ...process.env, OS_CLIENT_CONFIG_FILE: HARNESS_CLOUDS_YAML, OS_CLOUD: HARNESS_CLOUD_NAME };

if (!existsSync(HARNESS_CLOUDS_YAML)) {
  console.error(`bench:real-cloud: ${HARNESS_CLOUDS_YAML} missing: bring the harness up first (test/openstack/harness/up.sh, as root)`);
  process.exit(2);
}

function admin(...args: string[]): void {
  execFileSync(process.execPath, [join(HARNESS_SCRIPTS, 'admin.mjs'), ...args], { stdio: ['ignore', 'ignore', 'inherit'], env });
}

/** Every compute up, enabled and not forced down, the servers ACTIVE at home. */
function baseline(): void {
  admin('reset-services');
  admin('wait-computes', String(HOSTS.length), '180');
  admin('baseline', String(HOSTS.length), String(perHost));
}

interface Migration {
  instance_uuid: string;
  status: string;
  /** Nova's UTC time without a zone, e.g. 2026-12-02T06:35:20.000000. */
  updated_at: string | null;
}

let token: { value: string; until: number } | null = null;
async function nova<T>(path: string, o: { method?: string; body?: unknown; mv?: string } = {}): Promise<T> {
  if (!token || token.until < Date.now()) {
    const password = process.env.IHA_CLOUD_ADMIN_PASSWORD ?? 'iha-admin';
    const auth = await fetch('http://127.0.0.1:5000/v3/auth/tokens', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        auth: {
          identity: { methods: ['password'], password: { user: { name: 'admin', domain: { name: 'Default' }, password } } },
          scope: { project: { name: 'admin', domain: { name: 'Default' } } },
        },
      }),
    });
    if (auth.status !== 201) throw new Error(`Keystone refused the admin password: ${auth.status}`);
    token = { value: auth.headers.get('x-subject-token')!, until: Date.now() + 30 * 60_000 };
  }
  const r = await fetch(`http://127.0.0.1:8774/v2.1${path}`, {
    method: o.method ?? 'GET',
    headers: { 'x-auth-token': token.value, 'x-openstack-nova-api-version': o.mv ?? '2.59', 'content-type': 'application/json' },
    ...(o.body === undefined ? {} : { body: JSON.stringify(o.body) }),
  });
  if (!r.ok) throw new Error(`${o.method ?? 'GET'} ${path}: ${r.status}`);
  return (await r.json()) as T;
}

/**
 * Each nova-api worker pays 0.3–0.7 s on its first request of a kind after it starts (seen: the
 * first force-down, host listing and migration listing of a run 1 s slower than the rest). A
 * production nova-api has been up for days; so before the first loss, every call a recovery makes
 * that changes nothing is made a few times over, in parallel so that each worker gets some: the
 * host's service (and a force-up of a compute that is up, a no-op; not an enable: on a compute that
 * is up, nova-api then waits out an RPC call, 60 s here, harness README), its servers, its evacuations
 * since a minute ago, the server groups.
 */
async function warmNovaApi(): Promise<void> {
  const since = new Date(Date.now() - 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  for (let round = 0; round < 4; round++) {
    await Promise.all(
      HOSTS.map(async (host) => {
        const { services } = await nova<{ services: Array<{ id: string }> }>(`/os-services?binary=nova-compute&host=${host}`, {
          mv: '2.53',
        });
        await Promise.all([
          nova(`/os-services/${services[0]!.id}`, { method: 'PUT', body: { forced_down: false }, mv: '2.53' }),
          nova(`/servers/detail?all_tenants=1&host=${host}&limit=1000`, { mv: '2.93' }),
          nova(`/os-migrations?migration_type=evacuation&source_compute=${host}&changes-since=${since}`, { mv: '2.80' }),
          nova(`/servers/detail?all_tenants=1&changes-since=${since}&limit=1000`, { mv: '2.93' }),
          nova('/os-server-groups?all_projects=True&limit=1000&offset=0', { mv: '2.93' }),
        ]);
      }),
    );
  }
}

async function victimServers(host: string): Promise<{ tagged: string[]; untagged: string[] }> {
  const q = new URLSearchParams({ all_tenants: '1', host, name: '^srv-c' });
  const { servers } = await nova<{ servers: Array<{ id: string; tags?: string[] }> }>(`/servers/detail?${q}`);
  const tagged = servers.filter((s) => s.tags?.includes('automatic-recovery')).map((s) => s.id);
  return { tagged, untagged: servers.filter((s) => !tagged.includes(s.id)).map((s) => s.id) };
}

const eventsOf = (s: StatusSnapshot, host: string, since: number): ClusterEvent[] =>
  s.recentEvents.filter((e) => 'host' in e && e.host === host && e.at >= since);

interface Run {
  host: string;
  total: number;
  detected: number;
  fenced: number;
  forcedDown: number;
  firstEvacuate: number;
  /** Nova's own end: the last evacuation migration's updated_at (done), where its rebuild finished. */
  novaDone: number;
  /** Nova's own end, precisely: the last tagged server's instance.rebuild.end notification received (NaN without one). */
  novaActive: number;
  lastActive: number;
}

async function oneLoss(c: CloudCluster, tap: NovaTap, host: string): Promise<{ run: Run; healthyFenced: number; doubles: number }> {
  const { tagged, untagged } = await victimServers(host);
  if (tagged.length === 0) throw new Error(`${host} has no tagged server: the baseline did not hold`);
  const coord = await c.coordinator();
  const sinceIso = new Date(Date.now() - 1000).toISOString();
  const t0 = Date.now();
  const off = spawnSync('ipmitool', ipmitoolArgs(c.bmcs.get(host)!, 'chassis', 'power', 'off'), { encoding: 'utf8' });
  if (off.status !== 0) throw new Error(`ipmitool power off ${host}: ${off.stderr}`);
  const ended = (s: StatusSnapshot) => eventsOf(s, host, t0).filter((e) => e.type === 'instance.evacuate_end').length >= tagged.length;
  const s = await c.until(coord.socket, (x) => ended(x) && x.hosts.find((h) => h.host === host)?.state === 'evacuated', 120_000, 20);
  if (!s) throw new Error(`${host}: not recovered within 120 s (logs in ${c.dir})`);
  const ev = eventsOf(s, host, t0);
  const at = (type: ClusterEvent['type'], pick: 'first' | 'last' = 'first'): number => {
    const times = ev.filter((e) => e.type === type).map((e) => e.at);
    if (times.length === 0) return NaN;
    return ((pick === 'first' ? Math.min(...times) : Math.max(...times)) - t0) / 1000;
  };
  const run: Run = {
    host,
    detected: at('host.failed'),
    fenced: at('host.fenced'),
    forcedDown: at('host.forced_down'),
    firstEvacuate: at('instance.evacuate_start'),
    novaDone: NaN,
    novaActive: NaN,
    lastActive: at('instance.evacuate_end', 'last'),
    total: 0,
  };
  run.total = run.lastActive;
  // Healthy hosts fenced: any fence of another host, or another host's BMC found off.
  const healthyFenced =
    s.recentEvents.filter((e) => e.type === 'host.fenced' && e.host !== host && e.at >= t0).length +
    HOSTS.filter((h) => h !== host && c.bmcs.get(h)!.power() !== 'on').length;
  // Nova's own records: one evacuation per tagged server, none for the untagged ones.
  const { migrations } = await nova<{ migrations: Migration[] }>(
    `/os-migrations?${new URLSearchParams({ source_compute: host, migration_type: 'evacuation', 'changes-since': sinceIso })}`,
  );
  const done = migrations.filter((m) => m.status === 'done' && m.updated_at).map((m) => Date.parse(`${m.updated_at}Z`));
  if (done.length) run.novaDone = (Math.max(...done) - t0) / 1000;
  const rebuilt = tagged.map((id) => tap.rebuiltAt(id) ?? NaN);
  run.novaActive = (Math.max(...rebuilt) - t0) / 1000;
  const per = new Map<string, number>();
  for (const m of migrations) per.set(m.instance_uuid, (per.get(m.instance_uuid) ?? 0) + 1);
  const doubles = [...per.entries()].reduce((n, [id, k]) => n + (untagged.includes(id) ? k : Math.max(0, k - 1)), 0);
  const missing = tagged.filter((id) => !per.has(id));
  if (missing.length) throw new Error(`${host}: no evacuation recorded by Nova for ${missing.join(', ')}`);
  return { run, healthyFenced, doubles };
}

/** Power on, beacon again, unfence (forced_down cleared, enabled), then wait until the cluster sees it up. */
async function revive(c: CloudCluster, host: string, n: number): Promise<void> {
  const on = spawnSync('ipmitool', ipmitoolArgs(c.bmcs.get(host)!, 'chassis', 'power', 'on'), { encoding: 'utf8' });
  if (on.status !== 0) throw new Error(`ipmitool power on ${host}: ${on.stderr}`);
  c.startBeacon(host, `${host}-${n}`);
  const coord = await c.coordinator();
  const res = spawnSync(process.execPath, [CLI_PATH, 'unfence', host, '--config', coord.config], {
    encoding: 'utf8',
    env,
    timeout: 240_000,
  });
  if (res.status !== 0) throw new Error(`unfence ${host}: ${res.stdout}${res.stderr}`);
  const up = await c.until(coord.socket, (s) => s.hosts.find((h) => h.host === host)?.state === 'up', 60_000);
  if (!up) throw new Error(`${host}: not up again within 60 s after unfence`);
}

const f = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
const results: Run[] = [];
let healthyFenced = 0;
let doubles = 0;
baseline();
const c = await startCloudCluster({
  hosts: HOSTS,
  rabbitUrl: RABBIT,
  exchange: `iha-bench-${randomBytes(4).toString('hex')}`,
  logLevel: process.env.IHA_BENCH_LOG_LEVEL ?? 'warn',
  beaconIntervalMs,
  keepDir: process.argv.includes('--keep-logs'),
  fenceAgent,
  recovery: {
    // The product's tracking cadence (the test cluster's own is faster): 1 s, 250 ms right after an evacuate.
    poll_interval: '1s',
    fast_poll_interval: '250ms',
    ...(novaNotifications ? { nova_notifications: { enabled: true, url: RABBIT } } : {}),
  },
});
console.log(
  `fencing through ${fenceAgent}; beacons every ${beaconIntervalMs} ms; Nova notifications ${novaNotifications ? 'on' : 'off'} (polling ${novaNotifications ? 'stays the authority' : 'alone'})`,
);
const tap = await startNovaTap(RABBIT);
try {
  console.log(`warming up ${warmupS} s (the detectors learn the beacons' timing; nova-api's workers are warmed)`);
  const learning = new Promise((r) => setTimeout(r, warmupS * 1000));
  await warmNovaApi();
  await learning;
  // nova_done: Nova's own record of the last rebuild's end (second resolution); nova_active: Nova's
  // instance.rebuild.end for it, as received (precise; n/a when the harness runs with notifications off);
  // last_active: instance-ha saw it.
  console.log('run host      detected  fenced  forced_down  first_evacuate  nova_done  nova_active  last_active  (s from BMC power-off)');
  for (let i = 0; i < runs; i++) {
    const host = HOSTS[i % HOSTS.length]!;
    const r = await oneLoss(c, tap, host);
    results.push(r.run);
    healthyFenced += r.healthyFenced;
    doubles += r.doubles;
    const x = r.run;
    console.log(
      `${String(i + 1).padEnd(3)} ${host} ${f(x.detected).padStart(9)} ${f(x.fenced).padStart(7)} ${f(x.forcedDown).padStart(12)} ` +
        `${f(x.firstEvacuate).padStart(15)} ${f(x.novaDone).padStart(10)} ${f(x.novaActive).padStart(12)} ${f(x.lastActive).padStart(12)}`,
    );
    await revive(c, host, i + 1);
    baseline();
    // The revived nova-compute reported up (baseline waited for it): the beacons too, for the cluster.
    const all = await c.until((await c.coordinator()).socket, (s) => s.hosts.every((h) => h.state === 'up'), 60_000);
    if (!all) throw new Error(`not every host up again after run ${i + 1}`);
  }
} finally {
  await tap.close();
  await c.stop();
  // Leave the harness at the suites' baseline (2 servers per host).
  admin('baseline', String(HOSTS.length), '2');
}
const totals = results.map((r) => r.total);
console.log(
  `real-cloud runs=${results.length} median_s=${f(percentile(totals, 50))} max_s=${f(Math.max(...totals))} ` +
    `healthy_fenced=${healthyFenced} double_evacuations=${doubles}`,
);
