import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { writeClusterFiles, type ClusterLayout } from '../../src/testbed/demo/cluster-files.js';
import { agentPath } from './build.js';
import { Processes, randomBasePort, waitForStatus } from './processes.js';

/** A free TCP port on 127.0.0.1 (bound then released; tests run one file at a time). */
export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

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
export async function startOpsCluster(o: { monitors: number; hosts: string[]; fencing?: boolean; beaconIntervalMs?: number; /** Hosts whose fence device refuses to power off. */ unfenceable?: string[]; /** fence_fake waits this long before powering off. */ fenceDelaySeconds?: number }): Promise<OpsCluster> {
  const p = new Processes('iha-ops-');
  const powerFile = (h: string): string => join(p.dir, `power-${h}`);
  for (const h of o.hosts) writeFileSync(powerFile(h), 'on\n');
  const fencing = {
    retries: 0,
    action_timeout: '10s',
    devices: Object.fromEntries(o.hosts.map((h) => [`fake-${h}`, { agent: agentPath('fence_fake'), options: { state_file: powerFile(h), ...(o.unfenceable?.includes(h) ? { fail_action: 'off' } : {}), ...(o.fenceDelaySeconds ? { delay: String(o.fenceDelaySeconds) } : {}) } }])),
    hosts: Object.fromEntries(o.hosts.map((h) => [h, { levels: [[`fake-${h}`]] }])),
  };
  const ports: Array<{ api: number; metrics: number }> = [];
  for (let i = 0; i < o.monitors; i++) ports.push({ api: await freeTcpPort(), metrics: await freeTcpPort() });
  const layout = writeClusterFiles(p.dir, {
    monitors: o.monitors,
    hosts: o.hosts,
    basePort: randomBasePort(),
    beaconIntervalMs: o.beaconIntervalMs ?? 200,
    monitorExtra: (_id, i) => ({
      ...(o.fencing === false ? {} : { fencing }),
      mass_failure: { max_failed_fraction: 1 },
      status_api: { listen: `127.0.0.1:${ports[i]!.api}` },
      metrics: { listen: `127.0.0.1:${ports[i]!.metrics}` },
    }),
  });
  for (const m of layout.monitors) p.start(m.id, ['monitor', '--config', m.config]);
  for (const h of layout.hosts) p.start(h.name, ['beacon', '--config', h.config]);
  const ok = await waitForStatus(layout.monitors[0]!.socket, (s) => s.cluster.coordinator !== null && s.hosts.length === o.hosts.length && s.hosts.every((h) => h.state === 'up' && h.lastHeartbeatAgeMs !== null), 20_000);
  if (!ok.ok) throw new Error(`cluster did not come up: ${JSON.stringify(ok.snap?.cluster)}`);
  const api = Object.fromEntries(layout.monitors.map((m, i) => [m.id, `http://127.0.0.1:${ports[i]!.api}`]));
  const metrics = Object.fromEntries(layout.monitors.map((m, i) => [m.id, `http://127.0.0.1:${ports[i]!.metrics}/metrics`]));
  return { p, layout, api, metrics, powerFile };
}

export async function getJson<T = unknown>(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(url, { headers });
  return { status: res.status, body: (await res.json()) as T };
}
