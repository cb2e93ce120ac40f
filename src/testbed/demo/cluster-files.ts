import { freePortBlock, type PortKind } from '../loopback-ports.js';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';

export interface ClusterLayout {
  dir: string;
  monitors: Array<{ id: string; port: number; config: string; socket: string; stateDir: string; statusApi: string; metrics: string }>;
  hosts: Array<{ name: string; config: string }>;
  keyFile: string;
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
  /** A beacon's `health:` section (default: `command: true`, always up). */
  beaconHealth?: (host: string) => Record<string, unknown>;
}

/**
 * Writes a complete loopback cluster: a cluster key (mode 0600), one YAML per monitor and per
 * beacon. Used by the demo, the real-process tests and the benchmarks.
 */
export function writeClusterFiles(dir: string, o: ClusterOptions): ClusterLayout {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keyFile = join(dir, 'cluster.key');
  writeFileSync(keyFile, randomBytes(32).toString('base64') + '\n', { mode: 0o600 });
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
      cluster_key_file: keyFile,
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
    const doc = {
      host: name,
      monitors: monitors.map((m) => `127.0.0.1:${m.port}`),
      interval: `${o.beaconIntervalMs ?? 500}ms`,
      cluster_key_file: keyFile,
      health: o.beaconHealth?.(name) ?? { command: 'true', interval: '5s' },
      log_level: o.logLevel ?? 'info',
    };
    writeFileSync(config, stringify(doc));
    return { name, config };
  });
  return { dir, monitors, hosts, keyFile };
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
