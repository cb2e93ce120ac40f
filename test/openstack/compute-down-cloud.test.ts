import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPUTE_DOWN_REASON_PREFIX } from '../../src/core/compute-down.js';
import { createLogger } from '../../src/log.js';
import { COMPUTE_DEFAULTS } from '../../src/openstack/config.js';
import { createComputeClient } from '../../src/openstack/factory.js';
import type { ComputeClient } from '../../src/openstack/compute.js';
import { writeClusterFiles, type ClusterLayout } from '../../src/testbed/demo/cluster-files.js';
import { agentPath } from '../helpers/build.js';
import { clusterBasePort } from '../helpers/ports.js';
import { Processes, hostState, waitForStatus } from '../helpers/processes.js';
import { CLOUD_DIR, CLOUD_NAME, CLOUDS_YAML, harnessBaseline, harnessCloudUp, harnessPower } from './harness-cloud.js';

/**
 * nova-compute dead on a live host, against a real Nova (the harness cloud): each beacon's health
 * check watches its compute's real `nova-compute` process (matched by its own config file,
 * `etc/nova/compute-<i>.conf`). `power.sh off compute-2` kills only that nova-compute; its beacon
 * keeps beating → after the grace Nova's service is disabled with our reason, the host is never
 * fenced (fence_fake state stays on) → `power.sh on` → enabled again after the quiet period.
 */
const hosts = ['compute-1', 'compute-2', 'compute-3'];
const victim = 'compute-2';
const run = await harnessCloudUp('real cloud (compute down)');
let p: Processes;
let layout: ClusterLayout;
let compute: ComputeClient;
const powerFile = (h: string): string => join(p.dir, `power-${h}`);

async function until(pred: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await pred()) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return pred();
}

describe.runIf(run)('a dead nova-compute on a live host of the harness cloud (real Nova)', () => {
  beforeAll(async () => {
    harnessBaseline();
    compute = createComputeClient(
      { cloud: CLOUD_NAME, cloudsFile: CLOUDS_YAML, ...COMPUTE_DEFAULTS },
      { log: createLogger({ level: 'warn', destination: process.stderr }) },
    );
    p = new Processes('iha-cloud-cd-');
    for (const h of hosts) writeFileSync(powerFile(h), 'on\n');
    const devices = Object.fromEntries(
      hosts.map((h) => [`fake-${h}`, { agent: agentPath('fence_fake'), options: { state_file: powerFile(h) } }]),
    );
    layout = writeClusterFiles(p.dir, {
      monitors: 3,
      hosts,
      basePort: await clusterBasePort(3),
      beaconHealth: (h) => ({ process: `${CLOUD_DIR}/etc/nova/${h}.conf`, interval: '500ms' }),
      monitorExtra: () => ({
        fencing: {
          retries: 0,
          action_timeout: '10s',
          devices,
          hosts: Object.fromEntries(hosts.map((h) => [h, { levels: [[`fake-${h}`]] }])),
        },
        mass_failure: { max_failed_fraction: 1 },
        compute: { cloud: CLOUD_NAME, clouds_file: CLOUDS_YAML },
        compute_down: { grace: '3s', quiet_period: '3s' },
      }),
    });
    for (const m of layout.monitors) p.start(m.id, ['monitor', '--config', m.config]);
    for (const h of layout.hosts) p.start(h.name, ['beacon', '--config', h.config]);
    const ready = await waitForStatus(
      layout.monitors[0]!.socket,
      (s) =>
        s.cluster.coordinator !== null &&
        s.hosts.length === hosts.length &&
        s.hosts.every((h) => h.state === 'up' && h.novaCompute === 'up'),
      30_000,
    );
    expect(ready.ok, JSON.stringify(ready.snap?.hosts)).toBe(true);
  }, 300_000);

  afterAll(async () => {
    await p?.cleanup();
    // A failed run must not leave a compute dead or disabled for the next suite.
    harnessPower('on', victim);
    const svc = await compute?.findService(victim).catch(() => null);
    if (svc?.status === 'disabled') await compute.setServiceEnabled(victim, true, undefined).catch(() => {});
  });

  it('disables the service with our reason, never fences, and enables it again once nova-compute is back', async () => {
    expect(await compute.findService(victim)).toMatchObject({ status: 'enabled' });
    const killedAt = Date.now();
    harnessPower('off', victim);
    const disabled = await until(async () => (await compute.findService(victim))?.status === 'disabled', 30_000);
    expect(disabled).toBe(true);
    const svc = await compute.findService(victim);
    expect(svc?.disabledReason?.startsWith(COMPUTE_DOWN_REASON_PREFIX)).toBe(true);
    expect(svc?.forcedDown).toBe(false);
    console.log(`${victim}: nova-compute killed → service disabled by instance-ha in ${Date.now() - killedAt} ms (grace 3 s)`);
    const s = await waitForStatus(layout.monitors[0]!.socket, () => true, 2000);
    expect(hostState(s.snap, victim)).toBe('up');
    for (const h of hosts) expect(readFileSync(powerFile(h), 'utf8').trim()).toBe('on');
    for (const h of hosts.filter((x) => x !== victim)) expect(await compute.findService(h)).toMatchObject({ status: 'enabled' });

    const backAt = Date.now();
    harnessPower('on', victim);
    const enabled = await until(async () => (await compute.findService(victim))?.status === 'enabled', 120_000);
    expect(enabled).toBe(true);
    console.log(`${victim}: nova-compute started → service enabled again in ${Date.now() - backAt} ms (quiet period 3 s)`);
    for (const m of layout.monitors) {
      const after = await waitForStatus(m.socket, () => true, 2000);
      expect(after.snap!.recentEvents.some((e) => e.type === 'host.failed' || e.type === 'host.fencing')).toBe(false);
    }
    for (const h of hosts) expect(readFileSync(powerFile(h), 'utf8').trim()).toBe('on');
  }, 240_000);
});
