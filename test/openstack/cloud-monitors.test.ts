import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { COMPUTE_DEFAULTS } from '../../src/openstack/config.js';
import { createComputeClient } from '../../src/openstack/factory.js';
import type { ComputeClient } from '../../src/openstack/compute.js';
import { ipmitoolArgs, startIpmiSim, SIM_PASSWORD, SIM_USER, type IpmiSim } from '../../src/testbed/bmc/ipmi-sim-launcher.js';
import { writeClusterFiles, type ClusterLayout } from '../../src/testbed/demo/cluster-files.js';
import { consumeNotifications } from '../../src/testbed/notification-consumer.js';
import { agentPath } from '../helpers/build.js';
import { clusterBasePort } from '../helpers/ports.js';
import { CLI, Processes, hostState, waitForStatus } from '../helpers/processes.js';
import { haveTools } from '../helpers/require.js';
import { SHARED_RABBIT_URL } from '../helpers/services.js';
import { CLOUD_NAME, CLOUDS_YAML, HARNESS_DIR, cloudEnv, evacuationsFrom, harnessBaseline, harnessCloudUp } from './harness-cloud.js';

/**
 * The whole product against a real Nova, in CI: the project's harness cloud (Debian's Zed packages,
 * three fake-driver computes), three monitor processes, a beacon per compute and one ipmi_sim BMC
 * per compute whose power-off kills that host's nova-compute and beacon, as pulling the power would.
 * A host powered off at its BMC → failed by quorum → fenced through agents/fence_ipmi (verified off)
 * → forced down in Nova → its tagged servers ACTIVE on another host, each evacuated exactly once by
 * Nova's own migration records; its untagged servers left in place with one
 * instance_ha.instance.failed each on RabbitMQ → powered on → unfenced → up.
 */
const hosts = ['compute-1', 'compute-2', 'compute-3'];
const victim = 'compute-1';
const TAG = 'automatic-recovery';
const run = (await harnessCloudUp('real cloud (monitors)')) && haveTools('real cloud (monitors)', ['ipmi_sim', 'ipmitool']);
const exchange = `iha-cloud-${randomBytes(4).toString('hex')}`;
const bus: Array<{ event_type: string; message_id: string; payload: Record<string, unknown> }> = [];
let p: Processes;
let layout: ClusterLayout;
let conn: amqp.ChannelModel;
let compute: ComputeClient;
const bmcs = new Map<string, IpmiSim>();

function startBeacon(host: string, name = host): void {
  const beacon = layout.hosts.find((h) => h.name === host)!;
  const child = p.start(name, ['beacon', '--config', beacon.config]);
  // Power off at the BMC: that host's nova-compute and beacon die at once, with no goodbye.
  // Power on: nova-compute boots again (the test starts the beacon itself, as an init system would).
  bmcs
    .get(host)!
    .setHook(
      `#!/bin/sh\nif [ "$1" = 0 ]; then kill -9 -${child.pid} 2>/dev/null; ${HARNESS_DIR}/power.sh off ${host}; ` +
        `else ${HARNESS_DIR}/power.sh on ${host}; fi\nexit 0\n`,
    );
}

describe.runIf(run)('the monitors against the harness cloud (real Nova, ipmi_sim BMCs)', () => {
  beforeAll(async () => {
    harnessBaseline();
    const log = createLogger({ level: 'warn', destination: process.stderr });
    compute = createComputeClient({ cloud: CLOUD_NAME, cloudsFile: CLOUDS_YAML, ...COMPUTE_DEFAULTS }, { log });
    p = new Processes('iha-cloud-');
    for (const h of hosts) bmcs.set(h, await startIpmiSim());
    conn = await amqp.connect(SHARED_RABBIT_URL);
    await consumeNotifications<(typeof bus)[number]>(conn, exchange, (inner) => bus.push(inner));
    const devices = Object.fromEntries(
      hosts.map((h) => [
        `bmc-${h}`,
        {
          agent: agentPath('fence_ipmi'),
          options: { ip: '127.0.0.1', ipport: String(bmcs.get(h)!.port), username: SIM_USER, lanplus: '1', cipher: '3' },
          password: SIM_PASSWORD,
        },
      ]),
    );
    layout = writeClusterFiles(p.dir, {
      monitors: 3,
      hosts,
      basePort: await clusterBasePort(3),
      monitorExtra: (id) => ({
        fencing: {
          retries: 0,
          action_timeout: '10s',
          devices,
          hosts: Object.fromEntries(hosts.map((h) => [h, { levels: [[`bmc-${h}`]] }])),
        },
        mass_failure: { max_failed_fraction: 1 },
        compute: { cloud: CLOUD_NAME, clouds_file: CLOUDS_YAML },
        recovery: {
          journal_dir: join(p.dir, `${id}-state`, 'recovery'),
          poll_interval: '250ms',
          // The harness boots its servers from an image (local root): opt them in to the rebuild.
          local_disk: 'rebuild',
          unfence: { retry_interval: '2s', timeout: '3m' },
        },
        notifications: { enabled: true, url: SHARED_RABBIT_URL, exchange, outbox: { dir: join(p.dir, `${id}-state`, 'outbox') } },
      }),
    });
    for (const m of layout.monitors) p.start(m.id, ['monitor', '--config', m.config]);
    for (const h of hosts) startBeacon(h);
    const ready = await waitForStatus(
      layout.monitors[0]!.socket,
      (s) =>
        s.cluster.coordinator !== null &&
        s.hosts.length === hosts.length &&
        s.hosts.every((h) => h.state === 'up' && h.lastHeartbeatAgeMs !== null),
      30_000,
    );
    expect(ready.ok, JSON.stringify(ready.snap?.hosts)).toBe(true);
  }, 300_000);

  afterAll(async () => {
    await p?.cleanup();
    await conn?.close();
    await Promise.all([...bmcs.values()].map((b) => b.stop()));
    // A failed run must not leave a compute dead for the next suite: power everything back on.
    for (const h of hosts) execFileSync(join(HARNESS_DIR, 'power.sh'), ['on', h], { stdio: 'inherit' });
  });

  it('a host powered off at its BMC is fenced, its tagged servers ACTIVE elsewhere once each, the rest reported once', async () => {
    const before = await compute.listServers({ host: victim });
    const tagged = before.filter((s) => s.tags.includes(TAG));
    const untagged = before.filter((s) => !s.tags.includes(TAG));
    expect(tagged.length).toBeGreaterThan(0);
    expect(untagged.length).toBeGreaterThan(0);
    const since = new Date(Date.now() - 1000).toISOString();

    const started = Date.now();
    const off = spawnSync('ipmitool', ipmitoolArgs(bmcs.get(victim)!, 'chassis', 'power', 'off'), { encoding: 'utf8' });
    expect(off.status, off.stderr).toBe(0);
    const done = await waitForStatus(layout.monitors[0]!.socket, (s) => hostState(s, victim) === 'evacuated', 240_000);
    expect(done.ok, JSON.stringify(done.snap?.hosts.find((h) => h.host === victim))).toBe(true);
    console.log(`${victim}: BMC power-off → recovered by the monitors in ${Date.now() - started} ms`);

    const fence = done.snap!.hosts.find((h) => h.host === victim)!.fence as { ok: boolean; agent: string };
    expect(fence).toMatchObject({ ok: true });
    expect(fence.agent).toMatch(/fence_ipmi/);
    expect(bmcs.get(victim)!.power()).toBe('off');
    for (const h of hosts.filter((x) => x !== victim)) expect(bmcs.get(h)!.power()).toBe('on');
    expect(await compute.findService(victim)).toMatchObject({ forcedDown: true, status: 'disabled' });
    for (const s of tagged) {
      const now = await compute.getServer(s.id);
      expect([now?.status, now?.host === victim]).toEqual(['ACTIVE', false]);
    }
    for (const s of untagged) expect((await compute.getServer(s.id))!.host).toBe(victim);

    // Exactly once, as Nova recorded it: one evacuation migration per tagged server, none for the others.
    const migrations = await evacuationsFrom(victim, since);
    expect(migrations.map((m) => m.instance_uuid).sort()).toEqual(tagged.map((s) => s.id).sort());
    const deadline = Date.now() + 15_000;
    const failed = () => bus.filter((n) => n.event_type === 'instance_ha.instance.failed');
    while (failed().length < untagged.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    await new Promise((r) => setTimeout(r, 1000));
    expect(failed()).toHaveLength(untagged.length);
    for (const s of untagged) expect(failed().filter((n) => JSON.stringify(n.payload).includes(s.id))).toHaveLength(1);
  }, 300_000);

  it('powered on again, the host is unfenced: forced_down cleared, enabled, up', async () => {
    const on = spawnSync('ipmitool', ipmitoolArgs(bmcs.get(victim)!, 'chassis', 'power', 'on'), { encoding: 'utf8' });
    expect(on.status, on.stderr).toBe(0);
    startBeacon(victim, `${victim}-again`);
    const res = spawnSync(process.execPath, [CLI, 'unfence', victim, '--config', layout.monitors[0]!.config], {
      encoding: 'utf8',
      env: cloudEnv(),
      timeout: 240_000,
    });
    expect(res.status, `unfence: ${res.stdout}\n${res.stderr}`).toBe(0);
    expect(await compute.findService(victim)).toMatchObject({ forcedDown: false, status: 'enabled' });
    const back = await waitForStatus(layout.monitors[0]!.socket, (s) => hostState(s, victim) === 'up', 30_000);
    expect(back.ok, JSON.stringify(back.snap?.hosts.find((h) => h.host === victim))).toBe(true);
  }, 300_000);
});
