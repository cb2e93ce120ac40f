import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNovaSim, type NovaSim } from '../../src/testbed/nova-sim/server.js';
import { writeClusterFiles, type ClusterLayout } from '../../src/testbed/demo/cluster-files.js';
import { consumeNotifications } from '../../src/testbed/notification-consumer.js';
import { CrashGuests, libvirtProblem, kvmUsable, type CrashDomain } from '../../src/testbed/guest/crash-guest.js';
import { rabbitReachable, requireServices, SHARED_RABBIT_URL } from '../helpers/services.js';
import { clusterBasePort } from '../helpers/ports.js';
import { simComputeSection } from '../helpers/sim-compute-section.js';
import { Processes, waitForStatus } from '../helpers/processes.js';

/**
 * A guest OS crash inside a live host, with the real thing: a real libvirt daemon, real QEMU guests
 * that panic (crash-guest.ts: Debian's kernel, no disk, pvpanic), the real beacon following
 * `virsh event`, a real monitor, RabbitMQ, and the Nova simulator as the compute API. Three guests
 * crash on cmp1: one whose server is tagged automatic-recovery (hard-rebooted through Nova), one
 * untagged (notified only), one Nova places on another host (never touched: a host speaks only for
 * its own guests). The host itself is never fenced.
 */
const problem = libvirtProblem();
if (problem && requireServices) throw new Error(`libvirt: ${problem}; INSTANCE_HA_REQUIRE_SERVICES=1 forbids skipping`);
if (problem) console.warn(`SKIP guest-crash: ${problem}`);
const rabbit = !problem && (await rabbitReachable());
const exchange = `iha-guest-${randomBytes(4).toString('hex')}`;
const run = !problem && rabbit;
const tag = randomBytes(3).toString('hex');
const ids = { tagged: randomUUID(), untagged: randomUUID(), elsewhere: randomUUID() };
const bus: Array<{ event_type: string; data: Record<string, unknown> }> = [];
let sim: NovaSim;
let conn: amqp.ChannelModel;
let p: Processes;
let layout: ClusterLayout;
let guests: CrashGuests;
let guestDir: string;
const domains: Record<keyof typeof ids, CrashDomain> = {} as never;

describe.runIf(run)('a guest that crashes on a live host: seen, notified, restarted if tagged', () => {
  beforeAll(async () => {
    p = new Processes();
    // QEMU runs as libvirt's own user: the kernel and initramfs live in a directory it can read.
    guestDir = mkdtempSync('/tmp/iha-guest-');
    chmodSync(guestDir, 0o755);
    guests = new CrashGuests(guestDir);
    if (kvmUsable()) guests.accel = 'kvm';
    sim = await startNovaSim({
      hosts: ['cmp1', 'cmp2'],
      servers: [
        { id: ids.tagged, name: 'vm-tagged', host: 'cmp1', tags: ['automatic-recovery'] },
        { id: ids.untagged, name: 'vm-untagged', host: 'cmp1', tags: [] },
        { id: ids.elsewhere, name: 'vm-elsewhere', host: 'cmp2', tags: ['automatic-recovery'] },
      ],
    });
    const compute = simComputeSection(sim, p.dir);
    conn = await amqp.connect(SHARED_RABBIT_URL);
    await consumeNotifications<{ event_type: string; payload: Record<string, Record<string, unknown>> }>(conn, exchange, (inner) =>
      bus.push({ event_type: inner.event_type, data: inner.payload['instance_ha_object.data'] ?? {} }),
    );
    layout = writeClusterFiles(p.dir, {
      monitors: 1,
      hosts: ['cmp1', 'cmp2'],
      basePort: await clusterBasePort(1),
      beaconGuestWatch: (h) => (h === 'cmp1' ? { enabled: true } : { enabled: false }),
      monitorExtra: (id) => ({
        compute,
        notifications: { enabled: true, url: SHARED_RABBIT_URL, exchange, outbox: { dir: join(p.dir, `${id}-state`, 'outbox') } },
        guest_restart: { max_restarts: 3, window: '1h', settle: '5s' },
      }),
    });
    for (const m of layout.monitors) p.start(m.id, ['monitor', '--config', m.config]);
    for (const h of layout.hosts) p.start(h.name, ['beacon', '--config', h.config]);
    const ok = await waitForStatus(layout.monitors[0]!.socket, (s) => s.cluster.acting && s.hosts.every((h) => h.state === 'up'), 20_000);
    expect(ok.ok, JSON.stringify(ok.snap?.hosts)).toBe(true);
    for (const k of Object.keys(ids) as Array<keyof typeof ids>) domains[k] = guests.define(`iha-test-${tag}-${k}`, ids[k]);
    // The beacon's virsh event loop is running by now (it starts with the beacon).
    await new Promise((r) => setTimeout(r, 1000));
  }, 60_000);

  afterAll(async () => {
    guests?.cleanup();
    await p?.cleanup();
    await sim?.stop();
    await conn?.close();
    if (guestDir) rmSync(guestDir, { recursive: true, force: true });
  });

  it('notifies every crash on the bus, hard-reboots only the tagged server on that host, never fences the host', async () => {
    for (const d of Object.values(domains)) guests.start(d);
    const failed = (id: string) => bus.find((b) => b.event_type === 'instance_ha.instance.guest_failed' && b.data.instance_uuid === id);
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline && !Object.values(ids).every((id) => failed(id))) await new Promise((r) => setTimeout(r, 250));
    for (const id of Object.values(ids))
      expect(failed(id), `no guest_failed for ${id}; bus: ${JSON.stringify(bus.map((b) => b.event_type))}`).toBeDefined();
    const t = failed(ids.tagged)!.data;
    expect(t).toMatchObject({
      host: 'cmp1',
      libvirt_event: 'lifecycle',
      detail: 'Crashed Panicked',
      recovery: 'restart',
      watchdog_action: null,
    });
    expect(t.domain).toBe(domains.tagged.name);
    // libvirt's own time of the panic, not ours: a moment ago.
    expect(Math.abs(Date.now() - Date.parse(String(t.failed_at)))).toBeLessThan(120_000);
    // The restart edge decides the rest: tagged → hard reboot, untagged → notify, elsewhere → refused.
    const restarted = (id: string) =>
      bus.find((b) => b.event_type === 'instance_ha.instance.guest_restarted' && b.data.instance_uuid === id);
    const until = Date.now() + 15_000;
    while (Date.now() < until && !Object.values(ids).every((id) => restarted(id))) await new Promise((r) => setTimeout(r, 200));
    expect(restarted(ids.tagged)?.data.outcome).toBe('restarted');
    expect(restarted(ids.untagged)?.data.outcome).toBe('not_tagged');
    expect(restarted(ids.elsewhere)?.data.outcome).toBe('not_on_host');
    expect(sim.model.reboots.get(ids.tagged)).toBe(1);
    expect(sim.model.reboots.get(ids.untagged)).toBeUndefined();
    expect(sim.model.reboots.get(ids.elsewhere)).toBeUndefined();
    // Status and metrics say so; the host is up, never fenced.
    const s = await waitForStatus(layout.monitors[0]!.socket, (x) => (x.guests?.restarted ?? 0) >= 1, 5000);
    expect(s.snap!.guests).toMatchObject({ failures: expect.any(Number), restarted: 1 });
    expect(s.snap!.guests!.failures).toBeGreaterThanOrEqual(3);
    expect(s.snap!.hosts.find((h) => h.host === 'cmp1')?.state).toBe('up');
    expect(s.snap!.recentEvents.some((e) => e.type === 'host.failed' || e.type === 'host.fencing')).toBe(false);
    const metrics = await (await fetch(`http://${layout.monitors[0]!.metrics}/metrics`)).text();
    expect(metrics).toMatch(/instance_ha_guest_restarts_total\{outcome="restarted"\} 1/);
    expect(metrics).toMatch(/instance_ha_guest_failures_total [3-9]/);
  }, 150_000);
});
