import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeCell } from '../../src/cli/status-format.js';
import { COMPUTE_DOWN_REASON_PREFIX } from '../../src/core/compute-down.js';
import { startNovaSim, type NovaSim } from '../../src/testbed/nova-sim/server.js';
import { writeClusterFiles, type ClusterLayout } from '../../src/testbed/demo/cluster-files.js';
import { agentPath } from '../helpers/build.js';
import { clusterBasePort } from '../helpers/ports.js';
import { simComputeSection } from '../helpers/sim-compute-section.js';
import { Processes, hostState, waitForStatus } from '../helpers/processes.js';

/**
 * nova-compute dead on a live host, on real processes: three monitors, two beacons whose health check
 * watches a stand-in process (a `sleep` renamed so that only it matches), the Nova simulator and a
 * fence_fake device per host. The stand-in killed → after the grace the service is disabled in Nova
 * with our reason, the host stays up and is never fenced; restarted → after the quiet period enabled
 * again. A disable of the operator's own is never undone.
 */
const hosts = ['cmp1', 'cmp2'];
const tag = randomBytes(4).toString('hex');
const standinName = (h: string): string => `iha-nova-compute-standin-${tag}-${h}`;
let sim: NovaSim;
let p: Processes;
let layout: ClusterLayout;
const standins = new Map<string, ChildProcess>();

function startStandin(host: string): void {
  // `exec -a` renames the sleep: its /proc/<pid>/cmdline is what the health check looks for.
  const child = spawn('bash', ['-c', `exec -a ${standinName(host)} sleep 3600`], { stdio: 'ignore' });
  standins.set(host, child);
}

function stopStandin(host: string): void {
  standins.get(host)?.kill('SIGKILL');
  standins.delete(host);
}

const service = (host: string) => sim.model.services.get(host)!;
const powerFile = (host: string): string => join(p.dir, `power-${host}`);

describe('nova-compute dead on a live host: disabled, never fenced', () => {
  beforeAll(async () => {
    p = new Processes();
    for (const h of hosts) {
      startStandin(h);
      writeFileSync(powerFile(h), 'on\n');
    }
    sim = await startNovaSim({ hosts, servers: [{ name: 'cmp1-vm1', host: 'cmp1', tags: ['automatic-recovery'] }] });
    const compute = simComputeSection(sim, p.dir);
    const devices = Object.fromEntries(
      hosts.map((h) => [`fake-${h}`, { agent: agentPath('fence_fake'), options: { state_file: powerFile(h) } }]),
    );
    layout = writeClusterFiles(p.dir, {
      monitors: 3,
      hosts,
      basePort: await clusterBasePort(3),
      beaconHealth: (h) => ({ process: standinName(h), interval: '200ms' }),
      monitorExtra: (id) => ({
        fencing: {
          retries: 0,
          action_timeout: '10s',
          devices,
          hosts: Object.fromEntries(hosts.map((h) => [h, { levels: [[`fake-${h}`]] }])),
        },
        mass_failure: { max_failed_fraction: 1 },
        compute,
        recovery: { journal_dir: join(p.dir, `${id}-state`, 'recovery'), poll_interval: '200ms' },
        compute_down: { grace: '2s', quiet_period: '2s' },
      }),
    });
    for (const m of layout.monitors) p.start(m.id, ['monitor', '--config', m.config]);
    for (const h of layout.hosts) p.start(h.name, ['beacon', '--config', h.config]);
    for (const m of layout.monitors) {
      const ok = await waitForStatus(
        m.socket,
        (s) => s.cluster.coordinator !== null && s.hosts.every((h) => h.state === 'up' && h.novaCompute === 'up'),
        15_000,
      );
      expect(ok.ok, `${m.id}: ${JSON.stringify(ok.snap?.hosts)}`).toBe(true);
    }
  });

  afterAll(async () => {
    for (const h of [...standins.keys()]) stopStandin(h);
    await p?.cleanup();
    await sim?.stop();
  });

  it('disables the service of the host whose nova-compute died, with our reason, and never fences it', async () => {
    const killedAt = Date.now();
    stopStandin('cmp1');
    const mon = layout.monitors[0]!.socket;
    const seen = await waitForStatus(mon, (s) => s.hosts.find((h) => h.host === 'cmp1')?.novaCompute === 'down', 5000);
    expect(seen.ok).toBe(true);
    // Within the grace: nothing done yet.
    expect(service('cmp1').status).toBe('enabled');
    const deadline = Date.now() + 10_000;
    while (service('cmp1').status !== 'disabled' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(service('cmp1')).toMatchObject({ status: 'disabled', forcedDown: false });
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(2000);
    const reason = service('cmp1').disabledReason ?? '';
    expect(reason.startsWith(COMPUTE_DOWN_REASON_PREFIX)).toBe(true);
    // The time in the reason is an ISO time near when the stand-in died.
    const since = Date.parse(reason.slice(COMPUTE_DOWN_REASON_PREFIX.length));
    expect(Math.abs(since - killedAt)).toBeLessThan(3000);
    // Only the coordinator learns Nova's answer; the others say the disable was asked of it.
    const any = await waitForStatus(mon, (s) => s.cluster.coordinator !== null, 2000);
    const acting = layout.monitors.find((m) => m.id === any.snap!.cluster.coordinator)!;
    const shown = await waitForStatus(
      acting.socket,
      (s) => s.hosts.find((h) => h.host === 'cmp1')?.computeDown?.service === 'disabled' && hostState(s, 'cmp1') === 'up',
      5000,
    );
    expect(shown.ok, JSON.stringify(shown.snap?.hosts)).toBe(true);
    const elsewhere = await waitForStatus(layout.monitors.find((m) => m.id !== acting.id)!.socket, () => true, 2000);
    expect(elsewhere.snap!.hosts.find((h) => h.host === 'cmp1')?.computeDown?.service).toBe('pending');
    // Some time later: still up, never fenced, its server untouched, the other host untouched.
    await new Promise((r) => setTimeout(r, 3000));
    const after = await waitForStatus(mon, () => true, 2000);
    expect(hostState(after.snap, 'cmp1')).toBe('up');
    expect(readFileSync(powerFile('cmp1'), 'utf8').trim()).toBe('on');
    expect([...sim.model.servers.values()].every((s) => s.host === 'cmp1' && (sim.model.evacuateCalls.get(s.id) ?? 0) === 0)).toBe(true);
    expect(service('cmp2').status).toBe('enabled');
    const coordinator = layout.monitors.find((m) => m.id === after.snap!.cluster.coordinator)!;
    const c = await waitForStatus(coordinator.socket, () => true, 2000);
    const types = c.snap!.recentEvents.filter((e) => 'host' in e && e.host === 'cmp1').map((e) => e.type);
    expect(types).toContain('host.compute_down');
    expect(types.filter((t) => ['host.failed', 'host.fencing', 'host.fenced'].includes(t))).toEqual([]);
    // Status text and metrics say so.
    expect(computeCell(c.snap!.hosts.find((h) => h.host === 'cmp1')!)).toMatch(
      /^down: compute down since \d\d:\d\d:\d\dZ, service disabled by instance-ha$/,
    );
    const metrics = await (await fetch(`http://${coordinator.metrics}/metrics`)).text();
    expect(metrics).toMatch(/instance_ha_compute_down_hosts\{service="disabled"\} 1/);
  });

  it('enables it again once nova-compute has been back for the quiet period', async () => {
    const backAt = Date.now();
    startStandin('cmp1');
    const deadline = Date.now() + 15_000;
    while (service('cmp1').status !== 'enabled' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(service('cmp1')).toMatchObject({ status: 'enabled', disabledReason: null });
    expect(Date.now() - backAt).toBeGreaterThanOrEqual(2000);
    const mon = layout.monitors[1]!.socket;
    const cleared = await waitForStatus(mon, (s) => s.hosts.find((h) => h.host === 'cmp1')?.computeDown === undefined, 5000);
    expect(cleared.ok).toBe(true);
    const coordinator = layout.monitors.find((m) => m.id === cleared.snap!.cluster.coordinator)!;
    const c = await waitForStatus(
      coordinator.socket,
      (s) => s.recentEvents.some((e) => e.type === 'host.compute_up' && e.host === 'cmp1' && e.serviceEnabled),
      5000,
    );
    expect(c.ok).toBe(true);
  });

  it("never undoes an operator's own disable", async () => {
    stopStandin('cmp2');
    const deadline = Date.now() + 10_000;
    while (service('cmp2').status !== 'disabled' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(service('cmp2').disabledReason?.startsWith(COMPUTE_DOWN_REASON_PREFIX)).toBe(true);
    // The operator takes the host out of scheduling for their own reasons, over ours.
    service('cmp2').disabledReason = 'hardware ticket 4711';
    startStandin('cmp2');
    const mon = layout.monitors[2]!.socket;
    const done = await waitForStatus(mon, (s) => s.hosts.find((h) => h.host === 'cmp2')?.computeDown === undefined, 15_000);
    expect(done.ok, JSON.stringify(done.snap?.hosts)).toBe(true);
    await new Promise((r) => setTimeout(r, 1000));
    expect(service('cmp2')).toMatchObject({ status: 'disabled', disabledReason: 'hardware ticket 4711' });
    expect(readFileSync(powerFile('cmp2'), 'utf8').trim()).toBe('on');
  });
});
