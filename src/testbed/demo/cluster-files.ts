import { freePortBlock, type PortKind } from '../loopback-ports.js';
import { randomBytes } from 'node:crypto';
import { deriveHostKey } from '../../wire/keys.js';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';

export interface ClusterLayout {
  dir: string;
  monitors: Array<{ id: string; port: number; config: string; socket: string; stateDir: string; statusApi: string; metrics: string }>;
  hosts: Array<{ name: string; config: string; keyFile: string }>;
  /** Held by the monitors only. */
  monitorKeyFile: string;
  /** The master beacon key, from which each host's key is derived (monitors only). */
  beaconMasterKeyFile: string;
  /** Only with `legacyClusterKey`: the one deprecated key every monitor and beacon holds. */
  clusterKeyFile: string | null;
}

export interface ClusterOptions {
  monitors: number;
  hosts: string[];
  /** First UDP port; monitor i listens on basePort + i. */
  basePort: number;
  beaconIntervalMs?: number;
  /** Extra top-level monitor settings (fencing, compute, recovery, notifications, detection...). */
  monitorExtra?: (id: string, index: number) => Record<string, unknown>;
  logLevel?: string;
  /** Configure the deprecated single `cluster_key` everywhere (migration tests) instead of the new keys. */
  legacyClusterKey?: boolean;
  /** A beacon's `health:` section (default: `command: true`, always up). */
  beaconHealth?: (host: string) => Record<string, unknown>;
  /** A beacon's `guest_watch:` section (default: off, so test beacons start no virsh). */
  beaconGuestWatch?: (host: string) => Record<string, unknown>;
}

/**
 * Writes a complete loopback cluster: the keys (mode 0600: a monitor key and a master beacon key for
 * the monitors, each host's own key for its beacon, as `instance-ha keys` makes them), one YAML per
 * monitor and per beacon. Used by the demo, the real-process tests and the benchmarks.
 */
export function writeClusterFiles(dir: string, o: ClusterOptions): ClusterLayout {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const newKey = (file: string): string => {
    const path = join(dir, file);
    writeFileSync(path, randomBytes(32).toString('base64') + '\n', { mode: 0o600 });
    return path;
  };
  const monitorKeyFile = newKey('monitor.key');
  const beaconMasterKeyFile = newKey('beacon-master.key');
  const clusterKeyFile = o.legacyClusterKey ? newKey('cluster.key') : null;
  const master = Buffer.from(readFileSync(beaconMasterKeyFile, 'utf8').trim(), 'utf8');
  const monitorKeys = clusterKeyFile
    ? { cluster_key_file: clusterKeyFile }
    : { monitor_key_file: monitorKeyFile, beacon_master_key_file: beaconMasterKeyFile };
  const monitors = Array.from({ length: o.monitors }, (_, i) => {
    const id = `mon${i + 1}`;
    // Each monitor its own TCP ports for the status API and metrics (the defaults would collide).
    const statusApi = `127.0.0.1:${o.basePort + 100 + i}`;
    const metrics = `127.0.0.1:${o.basePort + 200 + i}`;
    return {
      id,
      port: o.basePort + i,
      config: join(dir, `${id}.yaml`),
      socket: join(dir, `${id}.sock`),
      stateDir: join(dir, `${id}-state`),
      statusApi,
      metrics,
    };
  });
  const monitorList = monitors.map((m) => ({ id: m.id, address: `127.0.0.1:${m.port}` }));
  monitors.forEach((m, i) => {
    const doc = {
      id: m.id,
      listen: [`127.0.0.1:${m.port}`],
      monitors: monitorList,
      ...monitorKeys,
      state_dir: m.stateDir,
      control_socket: m.socket,
      hosts: o.hosts,
      log_level: o.logLevel ?? 'info',
      status_api: { listen: m.statusApi },
      metrics: { listen: m.metrics },
      ...(o.monitorExtra?.(m.id, i) ?? {}),
    };
    writeFileSync(m.config, stringify(doc));
  });
  const hosts = o.hosts.map((name) => {
    const config = join(dir, `beacon-${name}.yaml`);
    const keyFile = clusterKeyFile ?? join(dir, `host-${name}.key`);
    if (!clusterKeyFile) writeFileSync(keyFile, deriveHostKey(master, name).toString('utf8') + '\n', { mode: 0o600 });
    const doc = {
      host: name,
      monitors: monitors.map((m) => `127.0.0.1:${m.port}`),
      interval: `${o.beaconIntervalMs ?? 500}ms`,
      ...(clusterKeyFile ? { cluster_key_file: clusterKeyFile } : { host_key_file: keyFile }),
      health: o.beaconHealth?.(name) ?? { command: 'true', interval: '5s' },
      guest_watch: o.beaconGuestWatch?.(name) ?? { enabled: false },
      log_level: o.logLevel ?? 'info',
    };
    writeFileSync(config, stringify(doc));
    return { name, config, keyFile };
  });
  return { dir, monitors, hosts, monitorKeyFile, beaconMasterKeyFile, clusterKeyFile };
}

/** Where writeClusterFiles puts monitor i: UDP on base + i, its status API on base + 100 + i, metrics on base + 200 + i. */
const CLUSTER_SPAN = 300;

/** A base port for writeClusterFiles whose every port is free now, below the kernel's ephemeral range. */
export function clusterBasePort(monitors: number): Promise<number> {
  const needs = Array.from({ length: monitors }, (_, i): Array<{ offset: number; kind: PortKind }> => [
    { offset: i, kind: 'udp' },
    { offset: 100 + i, kind: 'tcp' },
    { offset: 200 + i, kind: 'tcp' },
  ]).flat();
  return freePortBlock(CLUSTER_SPAN, needs);
}
