import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { readBeaconConfig } from '../../src/config/beacon-config.js';
import type { GuestEventBeat } from '../../src/core/guest-failures.js';
import { writeClusterFiles, type ClusterLayout } from '../../src/testbed/demo/cluster-files.js';
import { seal } from '../../src/wire/codec.js';
import { encodeGuestBody, GUEST_KIND } from '../../src/wire/guest-format.js';
import { NO_INSTANCE } from '../../src/daemon/guest-reporter.js';
import { clusterBasePort } from '../helpers/ports.js';
import { REQUIRE_SERVICES } from '../helpers/require.js';
import { Processes, waitForStatus } from '../helpers/processes.js';

/**
 * Guest events as a monitor process receives them, with no libvirt in the way: kind-7 datagrams
 * sealed with a host's own key sent at a real monitor over UDP. Counted once however often repeated,
 * refused when sealed with another host's key, rate-limited per host, and shown in status, the status
 * API, metrics and the dashboard (in chromium when it is installed).
 */
let p: Processes;
let layout: ClusterLayout;
const key = new Map<string, Buffer>();
const sock = createSocket('udp4');
const bootId = randomBytes(16).toString('hex');
let seq = 0;
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!existsSync(CHROMIUM) && REQUIRE_SERVICES)
  throw new Error(`${CHROMIUM} not installed; INSTANCE_HA_REQUIRE_SERVICES=1 forbids skipping`);

function send(sealedAs: string, o: Partial<GuestEventBeat> = {}): void {
  const beat: GuestEventBeat = {
    host: 'cmp1',
    bootId,
    seq: ++seq,
    sentAtMs: Date.now(),
    atMs: Date.now() - 5,
    instance: randomUUID(),
    down: true,
    dropped: 0,
    event: 'lifecycle',
    action: '',
    detail: 'Crashed Panicked',
    domain: 'instance-00000001',
    ...o,
  };
  const buf = seal(GUEST_KIND, encodeGuestBody(beat), key.get(sealedAs)!);
  sock.send(buf, layout.monitors[0]!.port, '127.0.0.1');
}

describe('guest events at a real monitor', () => {
  beforeAll(async () => {
    p = new Processes();
    layout = writeClusterFiles(p.dir, {
      monitors: 1,
      hosts: ['cmp1', 'cmp2'],
      basePort: await clusterBasePort(1),
      monitorExtra: () => ({ guest_restart: { max_events_per_host_per_minute: 10 } }),
    });
    for (const h of layout.hosts) key.set(h.name, loadConfig(h.config, readBeaconConfig).key);
    p.start('mon1', ['monitor', '--config', layout.monitors[0]!.config]);
    for (const h of layout.hosts) p.start(h.name, ['beacon', '--config', h.config]);
    const ok = await waitForStatus(layout.monitors[0]!.socket, (s) => s.cluster.acting && s.hosts.every((h) => h.state === 'up'), 20_000);
    expect(ok.ok).toBe(true);
  }, 30_000);

  afterAll(async () => {
    sock.close();
    await p?.cleanup();
  });

  it('keeps one of each repeated event, refuses one sealed by another host, and shows it everywhere', async () => {
    const instance = randomUUID();
    const s0 = seq + 1;
    for (let i = 0; i < 3; i++) {
      seq = s0 - 1;
      send('cmp1', { instance, event: 'watchdog', action: 'reset', detail: 'reset', down: false });
    }
    // cmp2 cannot speak for cmp1's guests: sealed with cmp2's key, naming cmp1.
    send('cmp2', { instance: randomUUID() });
    const s = await waitForStatus(
      layout.monitors[0]!.socket,
      (x) => (x.guests?.failures ?? 0) >= 1 && x.counters.dropped.forged >= 1,
      5000,
    );
    expect(s.ok, JSON.stringify(s.snap?.guests)).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    const snap = (await waitForStatus(layout.monitors[0]!.socket, () => true, 2000)).snap!;
    expect(snap.guests!.failures).toBe(1);
    expect(snap.guests!.recent).toEqual([
      expect.objectContaining({ host: 'cmp1', instance, event: 'watchdog', detail: 'reset', action: 'reset', recovery: 'none' }),
    ]);
    const api = (await (await fetch(`http://${layout.monitors[0]!.statusApi}/api/status`)).json()) as { guests?: { failures: number } };
    expect(api.guests?.failures).toBe(1);
    const metrics = await (await fetch(`http://${layout.monitors[0]!.metrics}/metrics`)).text();
    expect(metrics).toMatch(/^instance_ha_guest_failures_total 1$/m);
    // Without a compute API nothing is restarted: a crash that stayed down says so. Only once cmp1 is
    // heard live again (a loaded machine can delay its heartbeats): a crash reported by a host that is
    // not live is never restarted (host_not_live), which is not what this step checks.
    const live = await waitForStatus(layout.monitors[0]!.socket, (x) => x.hosts.find((h) => h.host === 'cmp1')?.state === 'up', 10_000);
    expect(live.ok).toBe(true);
    send('cmp1', { instance: randomUUID() });
    const d = await waitForStatus(layout.monitors[0]!.socket, (x) => x.guests?.recent.at(-1)?.recovery === 'disabled', 5000);
    expect(d.ok, JSON.stringify(d.snap?.guests)).toBe(true);
  });

  it('takes at most max_events_per_host_per_minute from one host, and raises guest_events_dropped', async () => {
    for (let i = 0; i < 30; i++)
      send('cmp1', { down: false, event: 'agent-lifecycle', detail: "state: 'disconnected' reason: 'channel event'" });
    const s = await waitForStatus(layout.monitors[0]!.socket, (x) => (x.guests?.dropped ?? 0) > 0, 5000);
    expect(s.ok).toBe(true);
    expect(s.snap!.guests!.failures).toBe(10);
    expect(s.snap!.alarms.map((a) => a.kind)).toContain('guest_events_dropped');
    // Heartbeats were not crowded out.
    expect(s.snap!.hosts.every((h) => h.state === 'up')).toBe(true);
  });

  it('a host whose libvirt watch stopped raises guest_watch_down until it says it runs again', async () => {
    // A fresh minute of rate for cmp2 (cmp1 used its own up above).
    const watch = { host: 'cmp2', instance: NO_INSTANCE, event: 'watch', domain: '', action: 'stopped', detail: 'virsh exited (code 1)' };
    send('cmp2', { ...watch, down: true });
    const down = await waitForStatus(layout.monitors[0]!.socket, (x) => x.alarms.some((a) => a.kind === 'guest_watch_down'), 5000);
    expect(down.ok, JSON.stringify({ alarms: down.snap?.alarms, guests: down.snap?.guests, c: down.snap?.counters })).toBe(true);
    expect(down.snap!.alarms.find((a) => a.kind === 'guest_watch_down')!.message).toMatch(/^cmp2 cannot watch its guests .*virsh exited/);
    send('cmp2', { ...watch, down: false, action: 'running', detail: 'virsh event running again' });
    const up = await waitForStatus(layout.monitors[0]!.socket, (x) => !x.alarms.some((a) => a.kind === 'guest_watch_down'), 5000);
    expect(up.ok).toBe(true);
  });

  it.runIf(existsSync(CHROMIUM))(
    'the dashboard lists the guest failures',
    async () => {
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
      try {
        const page = await browser.newPage();
        await page.goto(`http://${layout.monitors[0]!.statusApi}/`);
        await page.waitForSelector('#guests li[data-instance]', { timeout: 10_000 });
        expect(await page.locator('#guest-counts').textContent()).toMatch(/^10 · 0 restarted/);
        expect(await page.locator('#guests li[data-instance]').first().textContent()).toMatch(/cmp1 · [0-9a-f-]{36} \(instance-00000001\)/);
      } finally {
        await browser.close();
      }
    },
    30_000,
  );
});
