/**
 * The whole product on the harness cloud (test/openstack/harness/): three monitor processes, one
 * beacon per compute and one ipmi_sim BMC per compute whose power-off kills that host's beacon and
 * nova-compute at once (as pulling the power would), fenced through agents/fence_ipmi (or the
 * in-process native-ipmi device of the shipped examples/monitor.yaml, `fenceAgent`). Shared by the
 * real-cloud suites (test/openstack/) and bench/real-cloud.ts, so both measure the same setup.
 * No vitest here: the benchmark runs it from dist/.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { controlRequest } from '../src/control/client.js';
import type { StatusSnapshot } from '../src/core/status-snapshot.js';
import { startIpmiSim, SIM_PASSWORD, SIM_USER, type IpmiSim } from '../src/testbed/bmc/ipmi-sim-launcher.js';
import { clusterBasePort, writeClusterFiles, type ClusterLayout } from '../src/testbed/demo/cluster-files.js';
import { ProcessGroup } from '../src/testbed/demo/processes.js';

/** The repository root, from bench/ (vitest, source) or dist/bench/ (compiled). */
export const REPO_ROOT = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '..' : '../..', import.meta.url));
export const HARNESS_SCRIPTS = join(REPO_ROOT, 'test/openstack/harness');
export const HARNESS_CLOUD_DIR = process.env.IHA_CLOUD_DIR ?? '/var/lib/instance-ha-cloud';
export const HARNESS_CLOUDS_YAML = join(HARNESS_CLOUD_DIR, 'clouds.yaml');
export const HARNESS_CLOUD_NAME = 'instance-ha-ci';

export interface CloudClusterOptions {
  hosts: string[];
  rabbitUrl: string;
  /** The test's own notification exchange, so a tap counts only this run's messages. */
  exchange: string;
  /** Extra `recovery:` settings (poll_interval, max_attempts...). */
  recovery?: Record<string, unknown>;
  logLevel?: string;
  /** The beacons' heartbeat interval (the product's default, 500 ms, when unset). */
  beaconIntervalMs?: number;
  /** Keep the run's directory (configs, journals, every process's log) at stop, and say where. */
  keepDir?: boolean;
  /**
   * How the monitors reach the BMCs: the `agents/fence_ipmi` executable (the default: the suites
   * exercise a ClusterLabs-style agent process) or `native-ipmi`, the same client in-process.
   */
  fenceAgent?: 'fence_ipmi' | 'native-ipmi';
}

export interface CloudCluster {
  dir: string;
  p: ProcessGroup;
  layout: ClusterLayout;
  bmcs: Map<string, IpmiSim>;
  /** Starts (or starts again, under a new process name) a host's beacon and arms its BMC's power hook. */
  startBeacon(host: string, name?: string): void;
  /** The first monitor whose snapshot satisfies `pred` (any monitor: the coordinator may change). */
  snapshot(socket: string): Promise<StatusSnapshot | null>;
  until(socket: string, pred: (s: StatusSnapshot) => boolean, timeoutMs: number, everyMs?: number): Promise<StatusSnapshot | null>;
  /** The acting coordinator's monitor entry, from the first monitor that names one. */
  coordinator(): Promise<ClusterLayout['monitors'][number]>;
  stop(): Promise<void>;
}

async function snapshot(socket: string): Promise<StatusSnapshot | null> {
  try {
    return (await controlRequest(socket, 'GET', '/status', undefined, 2000)).body as unknown as StatusSnapshot;
  } catch {
    return null;
  }
}

async function until(
  socket: string,
  pred: (s: StatusSnapshot) => boolean,
  timeoutMs: number,
  everyMs = 100,
): Promise<StatusSnapshot | null> {
  const deadline = Date.now() + timeoutMs;
  let last: StatusSnapshot | null = null;
  while (Date.now() < deadline) {
    last = await snapshot(socket);
    if (last && pred(last)) return last;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return null;
}

/** Starts BMCs, monitors and beacons; resolves once every host is up and a coordinator acts. */
export async function startCloudCluster(o: CloudClusterOptions): Promise<CloudCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'iha-cloud-'));
  const p = new ProcessGroup(dir);
  const bmcs = new Map<string, IpmiSim>();
  const stop = async (): Promise<void> => {
    p.killAll();
    await Promise.all([...bmcs.values()].map((b) => b.stop()));
    // A failed run must not leave a compute dead for the next suite: power every compute back on.
    for (const h of o.hosts) execFileSync(join(HARNESS_SCRIPTS, 'power.sh'), ['on', h], { stdio: 'inherit' });
    if (o.keepDir) console.error(`cloud cluster: logs and state kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const h of o.hosts) bmcs.set(h, await startIpmiSim());
    const devices = Object.fromEntries(
      o.hosts.map((h) => [
        `bmc-${h}`,
        {
          agent: o.fenceAgent === 'native-ipmi' ? 'native-ipmi' : join(REPO_ROOT, 'agents/fence_ipmi'),
          options: { ip: '127.0.0.1', ipport: String(bmcs.get(h)!.port), username: SIM_USER, lanplus: '1', cipher: '3' },
          password: SIM_PASSWORD,
        },
      ]),
    );
    const layout = writeClusterFiles(dir, {
      monitors: 3,
      hosts: o.hosts,
      basePort: await clusterBasePort(3),
      ...(o.logLevel ? { logLevel: o.logLevel } : {}),
      ...(o.beaconIntervalMs ? { beaconIntervalMs: o.beaconIntervalMs } : {}),
      monitorExtra: (id) => ({
        fencing: {
          retries: 0,
          action_timeout: '10s',
          devices,
          hosts: Object.fromEntries(o.hosts.map((h) => [h, { levels: [[`bmc-${h}`]] }])),
        },
        mass_failure: { max_failed_fraction: 1 },
        compute: { cloud: HARNESS_CLOUD_NAME, clouds_file: HARNESS_CLOUDS_YAML },
        recovery: {
          journal_dir: join(dir, `${id}-state`, 'recovery'),
          poll_interval: '250ms',
          // The harness boots its servers from an image (local root): opt them in to the rebuild.
          local_disk: 'rebuild',
          unfence: { retry_interval: '2s', timeout: '3m' },
          ...o.recovery,
        },
        notifications: { enabled: true, url: o.rabbitUrl, exchange: o.exchange, outbox: { dir: join(dir, `${id}-state`, 'outbox') } },
      }),
    });
    const startBeacon = (host: string, name = host): void => {
      const beacon = layout.hosts.find((h) => h.name === host)!;
      const child = p.start(name, ['beacon', '--config', beacon.config]);
      // Power off at the BMC: that host's nova-compute and beacon die at once, with no goodbye.
      // Power on: nova-compute boots again (the caller starts the beacon itself, as an init system would).
      bmcs
        .get(host)!
        .setHook(
          `#!/bin/sh\nif [ "$1" = 0 ]; then kill -9 -${child.pid} 2>/dev/null; ${HARNESS_SCRIPTS}/power.sh off ${host}; ` +
            `else ${HARNESS_SCRIPTS}/power.sh on ${host}; fi\nexit 0\n`,
        );
    };
    for (const m of layout.monitors) p.start(m.id, ['monitor', '--config', m.config]);
    for (const h of o.hosts) startBeacon(h);
    const ready = await until(
      layout.monitors[0]!.socket,
      (s) =>
        s.cluster.coordinator !== null &&
        s.hosts.length === o.hosts.length &&
        s.hosts.every((h) => h.state === 'up' && h.lastHeartbeatAgeMs !== null),
      30_000,
    );
    if (!ready) throw new Error(`the cluster did not come up in 30 s (logs in ${dir})`);
    // Any monitor's view will do, and a busy machine may miss one status request: retry a while.
    const coordinator = async (): Promise<ClusterLayout['monitors'][number]> => {
      const deadline = Date.now() + 15_000;
      let last: unknown = null;
      while (Date.now() < deadline) {
        for (const each of layout.monitors) {
          const s = await snapshot(each.socket);
          const m = layout.monitors.find((x) => x.id === s?.cluster.coordinator);
          if (m) return m;
          last = s?.cluster ?? last;
        }
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error(`no acting coordinator in 15 s: ${JSON.stringify(last)}`);
    };
    return { dir, p, layout, bmcs, startBeacon, snapshot, until, coordinator, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
