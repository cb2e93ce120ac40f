import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StatusSnapshot } from '../../src/core/status-snapshot.js';
import { writeClusterFiles, type ClusterLayout } from '../../src/testbed/demo/cluster-files.js';
import { agentPath } from './build.js';
import { clusterBasePort } from './ports.js';
import { Processes, waitForStatus } from './processes.js';

export interface OpsCluster {
  p: Processes;
  layout: ClusterLayout;
  /** Status API base URL and metrics URL per monitor id. */
  api: Record<string, string>;
  metrics: Record<string, string>;
  powerFile: (host: string) => string;
}

/**
 * Real monitors and beacons on loopback, each monitor with its own status API and metrics port, and
 * fencing through agents/fence_fake (power state in a file per host). Beacons at 200 ms so a death
 * is declared within about a second.
 */
export async function startOpsCluster(o: {
  monitors: number;
  hosts: string[];
  fencing?: boolean;
  beaconIntervalMs?: number;
  /** Hosts whose fence device refuses to power off. */ unfenceable?: string[];
  /** fence_fake waits this long before powering off. */ fenceDelaySeconds?: number;
  /** Runs once the files are written, before any daemon starts (e.g. to mount a monitor's state dir). */
  beforeStart?: (layout: ClusterLayout) => void;
}): Promise<OpsCluster> {
  const p = new Processes('iha-ops-');
  try {
    const powerFile = (h: string): string => join(p.dir, `power-${h}`);
    for (const h of o.hosts) writeFileSync(powerFile(h), 'on\n');
    const fencing = {
      retries: 0,
      action_timeout: '10s',
      devices: Object.fromEntries(
        o.hosts.map((h) => {
          const options = {
            state_file: powerFile(h),
            ...(o.unfenceable?.includes(h) ? { fail_action: 'off' } : {}),
            ...(o.fenceDelaySeconds ? { delay: String(o.fenceDelaySeconds) } : {}),
          };
          return [`fake-${h}`, { agent: agentPath('fence_fake'), options }];
        }),
      ),
      hosts: Object.fromEntries(o.hosts.map((h) => [h, { levels: [[`fake-${h}`]] }])),
    };
    // Each monitor's status API and metrics listen where the layout puts them (checked free with its UDP port).
    const layout = writeClusterFiles(p.dir, {
      monitors: o.monitors,
      hosts: o.hosts,
      basePort: await clusterBasePort(o.monitors),
      beaconIntervalMs: o.beaconIntervalMs ?? 200,
      monitorExtra: () => ({ ...(o.fencing === false ? {} : { fencing }), mass_failure: { max_failed_fraction: 1 } }),
    });
    o.beforeStart?.(layout);
    for (const m of layout.monitors) p.start(m.id, ['monitor', '--config', m.config]);
    for (const h of layout.hosts) p.start(h.name, ['beacon', '--config', h.config]);
    const allUp = (s: StatusSnapshot): boolean =>
      s.cluster.coordinator !== null &&
      s.hosts.length === o.hosts.length &&
      s.hosts.every((h) => h.state === 'up' && h.lastHeartbeatAgeMs !== null);
    const ok = await waitForStatus(layout.monitors[0]!.socket, allUp, 20_000);
    if (!ok.ok) throw new Error(`cluster did not come up: ${JSON.stringify(ok.snap?.cluster)}`);
    const api = Object.fromEntries(layout.monitors.map((m) => [m.id, `http://${m.statusApi}`]));
    const metrics = Object.fromEntries(layout.monitors.map((m) => [m.id, `http://${m.metrics}/metrics`]));
    return { p, layout, api, metrics, powerFile };
  } catch (err) {
    // The caller never gets a handle to clean up: whatever did start is stopped here.
    await p.cleanup();
    throw err;
  }
}

export async function getJson<T = unknown>(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(url, { headers });
  return { status: res.status, body: (await res.json()) as T };
}
