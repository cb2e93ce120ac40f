/**
 * bench:guest — a real QEMU guest under a real libvirt crashing N times (default 5): from the
 * guest's panic (libvirt's own event timestamp, `virsh event --timestamp`) to the
 * instance_ha.instance.guest_failed notification delivered by RabbitMQ to a consumer of ours
 * (so the broker has it), through the real beacon (its virsh event watch), a sealed kind-7
 * datagram, and the real monitor. Goal: detected = notified = crashes, detect_p50_ms ≤ 1000.
 * Last line exactly: `guest crashes=<n> detected=<n> notified=<n> detect_p50_ms=<n>`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { controlRequest } from '../src/control/client.js';
import type { StatusSnapshot } from '../src/core/status-snapshot.js';
import { writeClusterFiles } from '../src/testbed/demo/cluster-files.js';
import { ProcessGroup } from '../src/testbed/demo/processes.js';
import { freePortBlock } from '../src/testbed/loopback-ports.js';
import { consumeNotifications } from '../src/testbed/notification-consumer.js';
import { CrashGuests, followEvents, kvmUsable, libvirtProblem } from '../src/testbed/guest/crash-guest.js';
import { parseVirshEventLine } from '../src/guest/virsh-events.js';
import { arg, percentile } from './stats.js';

const N = Math.max(5, arg('crashes', 5));
const RABBIT = process.env.INSTANCE_HA_RABBIT_URL ?? 'amqp://guest:guest@127.0.0.1:5672/';
const problem = libvirtProblem();
if (problem) {
  console.error(`bench:guest needs libvirt and QEMU: ${problem}`);
  process.exit(1);
}

const dir = mkdtempSync(join(tmpdir(), 'iha-bench-guest-'));
// QEMU runs as libvirt's user: the kernel and initramfs must be readable to it.
const guestDir = mkdtempSync('/tmp/iha-guest-');
chmodSync(guestDir, 0o755);
const procs = new ProcessGroup(dir);
const guests = new CrashGuests(guestDir);
if (kvmUsable()) guests.accel = 'kvm';
const exchange = `iha-bench-guest-${randomBytes(4).toString('hex')}`;
const latencies: number[] = [];
let crashes = 0;
let detected = 0;
let notified = 0;
const conn = await amqp.connect(RABBIT);
const events = followEvents((line) => {
  const f = parseVirshEventLine(line);
  if (f && f.domain.startsWith('iha-test-bench-') && f.detail.startsWith('Crashed')) crashes++;
});
try {
  await consumeNotifications<{ event_type: string; payload: Record<string, Record<string, unknown>> }>(conn, exchange, (inner, at) => {
    if (inner.event_type !== 'instance_ha.instance.guest_failed') return;
    notified++;
    latencies.push(at - Date.parse(String(inner.payload['instance_ha_object.data']?.failed_at)));
  });
  const needs = [
    { offset: 0, kind: 'udp' as const },
    { offset: 100, kind: 'tcp' as const },
    { offset: 200, kind: 'tcp' as const },
  ];
  const layout = writeClusterFiles(dir, {
    monitors: 1,
    hosts: ['cmp1'],
    basePort: await freePortBlock(300, needs),
    logLevel: 'warn',
    beaconGuestWatch: () => ({ enabled: true }),
    monitorExtra: (id) => ({
      notifications: { enabled: true, url: RABBIT, exchange, outbox: { dir: join(dir, `${id}-state`, 'outbox') } },
    }),
  });
  procs.start('mon1', ['monitor', '--config', layout.monitors[0]!.config]);
  procs.start('cmp1', ['beacon', '--config', layout.hosts[0]!.config]);
  const socket = layout.monitors[0]!.socket;
  const status = async (): Promise<StatusSnapshot | null> => {
    try {
      return (await controlRequest(socket, 'GET', '/status', undefined, 2000)).body as unknown as StatusSnapshot;
    } catch {
      return null;
    }
  };
  const until = async (pred: (s: StatusSnapshot) => boolean, ms: number): Promise<StatusSnapshot | null> => {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      const s = await status();
      if (s && pred(s)) return s;
      await new Promise((r) => setTimeout(r, 100));
    }
    return null;
  };
  if (!(await until((s) => s.cluster.acting && s.hosts.some((h) => h.host === 'cmp1' && h.state === 'up'), 30_000)))
    throw new Error('the monitor did not come up within 30 s');
  await new Promise((r) => setTimeout(r, 1000));
  const d = guests.define(`iha-test-bench-${randomBytes(3).toString('hex')}`, randomUUID());
  for (let i = 0; i < N; i++) {
    const before = notified;
    const crashedBefore = crashes;
    guests.start(d);
    // A panic comes a second (KVM) to several seconds (TCG) after the start; then the notification.
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline && (crashes === crashedBefore || notified === before)) await new Promise((r) => setTimeout(r, 50));
    // on_crash=destroy: wait until libvirt has it shut off before starting it again.
    while (Date.now() < deadline && guests.state(d) !== 'shut off') await new Promise((r) => setTimeout(r, 100));
    console.log(`crash ${i + 1}: ${notified > before ? `${latencies[latencies.length - 1]} ms` : 'not notified'} (accel ${guests.accel})`);
  }
  await new Promise((r) => setTimeout(r, 1000));
  detected = (await status())?.guests?.failures ?? 0;
} finally {
  events.kill();
  guests.cleanup();
  procs.killAll();
  await conn.close().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
  rmSync(guestDir, { recursive: true, force: true });
}
console.log(`guest crashes=${crashes} detected=${detected} notified=${notified} detect_p50_ms=${Math.round(percentile(latencies, 50))}`);
