import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNovaSim, type NovaSim } from '../../src/testbed/nova-sim/server.js';
import { rabbitReachable, requireServices, SHARED_RABBIT_URL } from '../helpers/services.js';
import { writeClusterFiles, type ClusterLayout } from '../../src/testbed/demo/cluster-files.js';
import { consumeNotifications } from '../../src/testbed/notification-consumer.js';
import { startIpmiSim, SIM_PASSWORD, SIM_USER, type IpmiSim } from '../../src/testbed/bmc/ipmi-sim-launcher.js';
import { agentPath } from '../helpers/build.js';
import { haveTools } from '../helpers/require.js';
import { clusterBasePort } from '../helpers/ports.js';
import { simComputeSection } from '../helpers/sim-compute-section.js';
import { Processes, hostState, waitForStatus } from '../helpers/processes.js';

/**
 * The whole path on real processes: three monitors, three beacons, one ipmi_sim BMC per host, the
 * Nova simulator, RabbitMQ. A beacon SIGKILLed → failed by quorum → powered off through
 * agents/fence_ipmi → forced down → tagged servers ACTIVE elsewhere, untagged ones left in place with
 * one instance_ha.instance.failed each on the bus. A host whose BMC rejects our password is never
 * reported fenced: `fence_failed` with an alarm, and none of its servers moves.
 */
const rabbit = await rabbitReachable();
if (!rabbit && requireServices) throw new Error('RabbitMQ is not reachable and INSTANCE_HA_REQUIRE_SERVICES=1 forbids skipping');
const run = haveTools('detect-and-fence', ['ipmi_sim', 'ipmitool']) && rabbit;
const exchange = `iha-e2e-${randomBytes(4).toString('hex')}`;
let sim: NovaSim;
let conn: amqp.ChannelModel;
const bus: Array<{ event_type: string; payload: Record<string, unknown> }> = [];
const hosts = ['cmp1', 'cmp2', 'cmp3'];
let p: Processes;
let layout: ClusterLayout;
const bmcs = new Map<string, IpmiSim>();

describe.runIf(run)('beacon killed → failed by quorum → fenced through fence_ipmi on ipmi_sim', () => {
  beforeAll(async () => {
    p = new Processes();
    for (const h of hosts) bmcs.set(h, await startIpmiSim());
    sim = await startNovaSim({
      hosts,
      servers: ['cmp2', 'cmp3'].flatMap((h) =>
        Array.from({ length: 4 }, (_, i) => ({ name: `${h}-vm${i + 1}`, host: h, tags: i < 2 ? ['automatic-recovery'] : [] })),
      ),
      claimMs: 100,
      rebuildMs: 500,
    });
    const compute = simComputeSection(sim, p.dir);
    // Our own consumer on the notification exchange, as a tenant's tooling would bind one.
    conn = await amqp.connect(SHARED_RABBIT_URL);
    await consumeNotifications(conn, exchange, (inner) => bus.push(inner));
    const devices = Object.fromEntries(
      hosts.map((h) => [
        `bmc-${h}`,
        {
          agent: agentPath('fence_ipmi'),
          options: { ip: '127.0.0.1', ipport: String(bmcs.get(h)!.port), username: SIM_USER, lanplus: '1', cipher: '3' },
          password: h === 'cmp3' ? 'not-the-password' : SIM_PASSWORD,
        },
      ]),
    );
    const fencing = {
      retries: 0,
      action_timeout: '10s',
      devices,
      hosts: Object.fromEntries(hosts.map((h) => [h, { levels: [[`bmc-${h}`]] }])),
    };
    layout = writeClusterFiles(p.dir, {
      monitors: 3,
      hosts,
      basePort: await clusterBasePort(3),
      monitorExtra: (id) => ({
        fencing,
        mass_failure: { max_failed_fraction: 1 },
        compute,
        recovery: { journal_dir: join(p.dir, `${id}-state`, 'recovery'), poll_interval: '200ms' },
        notifications: { enabled: true, url: SHARED_RABBIT_URL, exchange, outbox: { dir: join(p.dir, `${id}-state`, 'outbox') } },
      }),
    });
    for (const m of layout.monitors) p.start(m.id, ['monitor', '--config', m.config]);
    for (const h of layout.hosts) {
      const child = p.start(h.name, ['beacon', '--config', h.config]);
      // The BMC powering the host off ends its beacon, as a real power-off would.
      bmcs.get(h.name)!.setHook(`#!/bin/sh\n[ "$1" = 0 ] && kill -9 -${child.pid} 2>/dev/null\nexit 0\n`);
    }
    for (const m of layout.monitors) {
      const ok = await waitForStatus(
        m.socket,
        (s) => s.cluster.coordinator !== null && s.hosts.every((h) => h.state === 'up' && h.lastHeartbeatAgeMs !== null),
        15_000,
      );
      expect(ok.ok, `${m.id}: ${JSON.stringify(ok.snap?.hosts)}`).toBe(true);
    }
  });

  afterAll(async () => {
    await p?.cleanup();
    await sim?.stop();
    await conn?.close();
    await Promise.all([...bmcs.values()].map((b) => b.stop()));
  });

  it('fences the host, verifies it off, recovers its tagged servers and reports the others on the bus', async () => {
    expect(bmcs.get('cmp2')!.power()).toBe('on');
    p.kill('cmp2');
    sim.model.killCompute('cmp2');
    // It may be past `fenced` (recovering, recovered) by the time we look.
    const res = await waitForStatus(
      layout.monitors[2]!.socket,
      (s) => ['fenced', 'recovering', 'evacuated'].includes(hostState(s, 'cmp2') ?? ''),
      20_000,
    );
    expect(res.ok, JSON.stringify(res.snap?.hosts.find((h) => h.host === 'cmp2'))).toBe(true);
    expect(bmcs.get('cmp2')!.power()).toBe('off');
    const fence = res.snap!.hosts.find((h) => h.host === 'cmp2')!.fence as {
      ok: boolean;
      level: number;
      agent: string;
      durationMs: number;
      by: string;
    };
    expect(fence).toMatchObject({ ok: true, level: 1 });
    expect(fence.agent).toMatch(/fence_ipmi/);
    expect(fence.durationMs).toBeGreaterThan(0);
    // The other hosts were left alone.
    expect(bmcs.get('cmp1')!.power()).toBe('on');
    expect(hostState(res.snap, 'cmp1')).toBe('up');

    const recovered = await waitForStatus(layout.monitors[0]!.socket, (s) => hostState(s, 'cmp2') === 'evacuated', 20_000);
    expect(recovered.ok).toBe(true);
    const service = [...sim.model.services.values()].find((s) => s.host === 'cmp2')!;
    expect(service).toMatchObject({ forcedDown: true, status: 'disabled' });
    const servers = [...sim.model.servers.values()].filter((s) => s.name.startsWith('cmp2-'));
    for (const s of servers.filter((x) => x.tags.includes('automatic-recovery')))
      expect([s.status, s.host !== 'cmp2']).toEqual(['ACTIVE', true]);
    for (const s of servers.filter((x) => !x.tags.includes('automatic-recovery'))) expect(s.host).toBe('cmp2');
    // The outbox publishes in order after the state changes, so the bus may trail the status by a
    // few messages: wait for the last ones we expect (evacuate.end comes after both failed notes).
    const expected = ['instance_ha.host.failed', 'instance_ha.host.fenced', 'instance_ha.instance.evacuate.end'];
    const deadline = Date.now() + 10_000;
    const arrived = () =>
      bus.filter((n) => n.event_type === 'instance_ha.instance.failed').length >= 2 &&
      expected.every((t) => bus.some((n) => n.event_type === t));
    while (!arrived() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const failedNotes = bus.filter((n) => n.event_type === 'instance_ha.instance.failed');
    expect(
      failedNotes
        .map((n) => JSON.stringify(n.payload))
        .sort()
        .join(),
    ).toMatch(/cmp2-vm3/);
    expect(failedNotes).toHaveLength(2);
    expect(bus.map((n) => n.event_type)).toEqual(expect.arrayContaining(expected));
  });

  it('never reports a host fenced when its BMC refuses us: fence_failed, with an alarm', async () => {
    p.kill('cmp3');
    sim.model.killCompute('cmp3');
    const res = await waitForStatus(layout.monitors[0]!.socket, (s) => hostState(s, 'cmp3') === 'fence_failed', 20_000);
    expect(res.ok, JSON.stringify(res.snap?.hosts.find((h) => h.host === 'cmp3'))).toBe(true);
    expect(bmcs.get('cmp3')!.power()).toBe('on');
    expect(res.snap!.alarms.some((a) => a.kind === 'fence_failed' && a.message.includes('cmp3'))).toBe(true);
    // The coordinator's event log on the acting monitor records the failed fence and no success.
    const coordinator = layout.monitors.find((m) => m.id === res.snap!.cluster.coordinator)!;
    const s = await waitForStatus(
      coordinator.socket,
      (x) => x.recentEvents.some((e) => e.type === 'host.fence_failed' && e.host === 'cmp3'),
      5000,
    );
    expect(s.snap!.recentEvents.some((e) => e.type === 'host.fenced' && e.host === 'cmp3')).toBe(false);
    const cmp3Servers = [...sim.model.servers.values()].filter((x) => x.name.startsWith('cmp3-'));
    expect(cmp3Servers.every((x) => x.host === 'cmp3' && (sim.model.evacuateCalls.get(x.id) ?? 0) === 0)).toBe(true);
  });
});
