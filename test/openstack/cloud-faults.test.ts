import { spawnSync } from 'node:child_process';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startCloudCluster, type CloudCluster } from '../../bench/cloud-cluster.js';
import type { StatusSnapshot } from '../../src/core/status-snapshot.js';
import { createLogger } from '../../src/log.js';
import { payloadData, type OsloNotification } from '../../src/notify/envelope.js';
import { COMPUTE_DEFAULTS } from '../../src/openstack/config.js';
import type { ComputeClient } from '../../src/openstack/compute.js';
import type { Server } from '../../src/openstack/types.js';
import { createComputeClient } from '../../src/openstack/factory.js';
import { ipmitoolArgs } from '../../src/testbed/bmc/ipmi-sim-launcher.js';
import { ensureBuilt } from '../helpers/build.js';
import { perServer, tapFreshExchange } from '../helpers/notification-tap.js';
import { CLI, hostState, statusExit } from '../helpers/processes.js';
import { haveTools } from '../helpers/require.js';
import { SHARED_RABBIT_URL } from '../helpers/services.js';
import { CLOUD_NAME, CLOUDS_YAML, evacuationsFrom, harnessBaseline, harnessCloudUp, setComputeForcedDown } from './harness-cloud.js';

/**
 * The whole monitor (bench/cloud-cluster.ts: three monitors, beacons, fence_ipmi on ipmi_sim BMCs
 * whose power-off kills that host's nova-compute and beacon) against the harness's real Nova while
 * things go wrong: the coordinator SIGKILLed after Nova accepted its evacuations (a successor
 * finishes, each server evacuated once by Nova's own records, one notification each on RabbitMQ),
 * and no capacity left (Nova's scheduler answers NoValidHost: recovery_failed with an alarm naming
 * the servers and Nova's reason, then `recover` once capacity is back). The same scenarios run on
 * the simulator in test/integration/recovery-faults.test.ts.
 */
const HOSTS = ['compute-1', 'compute-2', 'compute-3'];
const victim = 'compute-1';
const TAG = 'automatic-recovery';
const run = (await harnessCloudUp('real cloud (faults)')) && haveTools('real cloud (faults)', ['ipmi_sim', 'ipmitool']);
let cl: CloudCluster | undefined;
let stopTap: (() => void) | undefined;
let compute: ComputeClient;

afterEach(async () => {
  const t = Date.now();
  stopTap?.();
  stopTap = undefined;
  await cl?.stop();
  cl = undefined;
  const stopped = Date.now() - t;
  // Capacity back for the next suite, whatever this one left behind (its baseline does the rest).
  for (const h of HOSTS.filter((x) => x !== victim)) await setComputeForcedDown(h, false).catch(() => {});
  console.log(`cleanup: cluster stopped in ${stopped} ms, capacity back in ${Date.now() - t - stopped} ms`);
}, 120_000);

/** A tap of a fresh exchange (bound before the monitors start), then the cluster publishing to it. */
async function start(recovery: Record<string, unknown>): Promise<{ c: CloudCluster; seen: OsloNotification[] }> {
  const { exchange, seen, stop } = await tapFreshExchange(SHARED_RABBIT_URL, 'iha-cf');
  stopTap = stop;
  cl = await startCloudCluster({ hosts: HOSTS, rabbitUrl: SHARED_RABBIT_URL, exchange, recovery });
  return { c: cl, seen };
}

async function victimServers(): Promise<{ tagged: Server[]; untagged: Server[] }> {
  const all = await compute.listServers({ host: victim });
  return { tagged: all.filter((s) => s.tags.includes(TAG)), untagged: all.filter((s) => !s.tags.includes(TAG)) };
}

function powerOff(c: CloudCluster, host: string): void {
  const off = spawnSync('ipmitool', ipmitoolArgs(c.bmcs.get(host)!, 'chassis', 'power', 'off'), { encoding: 'utf8' });
  expect(off.status, off.stderr).toBe(0);
}

async function until(ok: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Every tagged server ACTIVE off the victim; the untagged ones left in place. */
async function expectTaggedActiveElsewhere(tagged: Server[], untagged: Server[]): Promise<void> {
  for (const s of tagged) {
    const now = await compute.getServer(s.id);
    expect([s.name, now?.status, now?.host === victim]).toEqual([s.name, 'ACTIVE', false]);
  }
  for (const s of untagged) expect((await compute.getServer(s.id))!.host, s.name).toBe(victim);
}

/** Each untagged server's instance.failed and each tagged one's evacuate.end delivered once. */
async function expectOneNotificationPerServer(seen: OsloNotification[], tagged: Server[], untagged: Server[]): Promise<void> {
  await until(() => perServer(seen, 'instance.failed').size === untagged.length, 15_000, 'instance.failed for every untagged server');
  await until(
    () => perServer(seen, 'instance.evacuate.end').size === tagged.length,
    15_000,
    'instance.evacuate.end for every tagged server',
  );
  await new Promise((r) => setTimeout(r, 1_000)); // a late repeat would arrive now
  const failed = perServer(seen, 'instance.failed');
  for (const s of untagged) expect(failed.get(s.id)?.delivered, `instance.failed for ${s.name}`).toBe(1);
  const ended = perServer(seen, 'instance.evacuate.end');
  // A repeat of an end would carry the same id (dropped by consumers): one distinct id per server.
  for (const s of tagged) expect(ended.get(s.id)?.ids.size, `instance.evacuate.end for ${s.name}`).toBe(1);
}

const alarm = (s: StatusSnapshot | null, kind: string) => s?.alarms.find((a) => a.kind === kind);
const victimOf = (s: StatusSnapshot | null) => JSON.stringify(s?.hosts.find((h) => h.host === victim));

describe.runIf(run)('recovery on the harness cloud while things fail (real Nova, ipmi_sim BMCs)', () => {
  beforeAll(() => {
    ensureBuilt();
    compute = createComputeClient(
      { cloud: CLOUD_NAME, cloudsFile: CLOUDS_YAML, ...COMPUTE_DEFAULTS },
      { log: createLogger({ level: 'warn', destination: process.stderr }) },
    );
  });

  it('coordinator SIGKILLed after Nova accepted the evacuations: a successor finishes, each server evacuated once, one notification each', async () => {
    harnessBaseline();
    // The coordinator looks at Nova only every 30 s, also right after its evacuates (the fast cadence,
    // 250 ms by default, saw them ACTIVE before the kill on a loaded machine), so it is killed with
    // every evacuation accepted and none of them seen ACTIVE: the successor must find them from the
    // journal and Nova alone.
    const { c, seen } = await start({ poll_interval: '30s', fast_poll_interval: '30s' });
    const { tagged, untagged } = await victimServers();
    expect(tagged.length).toBeGreaterThan(0);
    expect(untagged.length).toBeGreaterThan(0);
    const first = await c.coordinator();
    const since = new Date(Date.now() - 1000).toISOString();
    powerOff(c, victim);

    // Nova accepted every evacuation (its migration records), and the untagged servers' notices
    // are on the bus (one still in a dead monitor's outbox would be sent by that monitor, not the successor).
    await until(async () => (await evacuationsFrom(victim, since)).length === tagged.length, 60_000, 'Nova to accept every evacuation');
    await until(() => perServer(seen, 'instance.failed').size === untagged.length, 15_000, 'instance.failed for the untagged servers');
    c.p.signal(first.id, 'SIGKILL');
    expect(perServer(seen, 'instance.evacuate.end').size, 'the killed coordinator recorded none of them').toBe(0);

    const successor = c.layout.monitors.find((m) => m.id !== first.id)!;
    const done = await c.until(successor.socket, (s) => hostState(s, victim) === 'evacuated', 90_000);
    expect(done, victimOf(await c.snapshot(successor.socket))).not.toBeNull();
    expect(done!.cluster.coordinator).not.toBe(first.id);
    const finished = done!.recentEvents.find((e) => e.type === 'host.recovery_end' && e.host === victim);
    expect(finished, 'the successor finished the recovery').toMatchObject({
      summary: { selected: tagged.length, evacuated: tagged.length },
    });

    await expectTaggedActiveElsewhere(tagged, untagged);
    // Exactly once, as Nova recorded it: one evacuation per tagged server, none for the others.
    const migrations = await evacuationsFrom(victim, since);
    expect(migrations.map((m) => m.instance_uuid).sort()).toEqual(tagged.map((s) => s.id).sort());
    expect(
      migrations.every((m) => m.status === 'done' || m.status === 'completed'),
      JSON.stringify(migrations),
    ).toBe(true);
    await expectOneNotificationPerServer(seen, tagged, untagged);
  }, 300_000);

  it('no capacity (NoValidHost): recovery_failed naming the servers and Nova’s reason, status exit 1, then `recover` once capacity is back', async () => {
    harnessBaseline();
    const { c, seen } = await start({ max_attempts: 1 });
    const { tagged, untagged } = await victimServers();
    const coord = await c.coordinator();
    // Every other compute forced down: Nova's scheduler has nowhere to put the evacuated servers.
    // (Their beacons still beat: instance-ha goes by its own heartbeats and fences none of them.)
    for (const h of HOSTS.filter((x) => x !== victim)) await setComputeForcedDown(h, true);
    const since = new Date(Date.now() - 1000).toISOString();
    powerOff(c, victim);

    const failed = await c.until(coord.socket, (s) => hostState(s, victim) === 'recovery_failed', 120_000);
    expect(failed, victimOf(await c.snapshot(coord.socket))).not.toBeNull();
    const a = alarm(failed, 'recovery_failed');
    expect(a, JSON.stringify(failed!.alarms)).toBeDefined();
    for (const s of tagged) expect(a!.message).toContain(s.name);
    expect(a!.message).toMatch(/No valid host/i);
    expect(a!.message).toContain(`instance-ha recover ${victim}`);
    for (const h of HOSTS.filter((x) => x !== victim)) expect(c.bmcs.get(h)!.power(), `${h} is healthy: never fenced`).toBe('on');
    const cli = statusExit(coord.socket);
    expect(cli.code, cli.out).toBe(1);
    expect(cli.out).toContain('recovery_failed');
    // One final evacuate.error per tagged server on the bus, carrying Nova's reason.
    await until(
      () => perServer(seen, 'instance.evacuate.error').size === tagged.length,
      15_000,
      'instance.evacuate.error per tagged server',
    );
    for (const n of seen.filter((x) => x.event_type === 'instance_ha.instance.evacuate.error')) {
      expect(payloadData(n)).toMatchObject({ final: true, reason: expect.stringMatching(/No valid host/i) });
    }

    await setComputeForcedDown('compute-2', false); // capacity back
    const retry = spawnSync(process.execPath, [CLI, 'recover', victim, '--socket', coord.socket], { encoding: 'utf8', timeout: 30_000 });
    expect(retry.status, retry.stdout + retry.stderr).toBe(0);
    const done = await c.until(coord.socket, (s) => hostState(s, victim) === 'evacuated', 120_000);
    expect(done, victimOf(await c.snapshot(coord.socket))).not.toBeNull();
    expect(alarm(done, 'recovery_failed')).toBeUndefined();
    await expectTaggedActiveElsewhere(tagged, untagged);
    for (const s of tagged) expect((await compute.getServer(s.id))!.host, s.name).toBe('compute-2');
    // Nova's records: per tagged server one evacuation the scheduler refused, then one that succeeded.
    const migrations = await evacuationsFrom(victim, since);
    for (const s of tagged) {
      const mine = migrations.filter((m) => m.instance_uuid === s.id).map((m) => m.status);
      expect(mine.sort(), `${s.name}: ${JSON.stringify(mine)}`).toEqual(['done', 'error'].sort());
    }
    expect(migrations.filter((m) => !tagged.some((s) => s.id === m.instance_uuid))).toEqual([]);
    await expectOneNotificationPerServer(seen, tagged, untagged);
  }, 400_000);
});
