import { hostname } from 'node:os';
import { formatHostPort, parseHostPort, type HostPort } from './address.js';
import { isValidHostName } from './host-name.js';
import { describe, type ObjectReader } from './reader.js';
import { checkClusterKey, readLogLevel } from './common.js';

export interface BeaconConfig {
  host: string;
  monitors: HostPort[];
  intervalMs: number;
  clusterKey: Buffer;
  health: {
    /** Process whose presence means nova-compute is alive (matched against /proc/<pid>/cmdline). */
    process: string | null;
    /** Or a command whose exit status 0 means alive (run with a timeout, never blocking heartbeats). */
    command: string | null;
    intervalMs: number;
    timeoutMs: number;
  };
  logLevel: string;
}

export function readBeaconConfig(r: ObjectReader): BeaconConfig {
  if (!r.has('host') && !isValidHostName(hostname().split('.')[0]!))
    r.problem('host', `is required: this machine's short host name ${describe(hostname().split('.')[0])} is not a valid host name`);
  const host = r.hostName('host', { default: hostname().split('.')[0]! }) ?? '';
  const monitors = readAddresses(r, 'monitors');
  if (monitors.length === 0 && !r.problems.some((p) => p.path === r.keyPath('monitors')))
    r.problem('monitors', 'must list at least one monitor address (host:port)');
  const intervalMs = r.durationMs('interval', { default: 500, min: 50, max: 10_000 });
  const key = r.secret('cluster_key', { required: true });
  checkClusterKey(r, key);
  const h = r.object('health');
  const process = h.string('process', { default: 'nova-compute' }) ?? null;
  const command = h.string('command') ?? null;
  const health = {
    process: command ? (h.has('process') ? process : null) : process,
    command,
    intervalMs: h.durationMs('interval', { default: 2000, min: 100, max: 600_000 }),
    timeoutMs: h.durationMs('timeout', { default: 1000, min: 10, max: 600_000 }),
  };
  h.finish();
  return { host, monitors, intervalMs, clusterKey: Buffer.from(key ?? '', 'utf8'), health, logLevel: readLogLevel(r) };
}

/** A list of distinct `host:port` addresses (at most 99, as many as monitors). */
export function readAddresses(r: ObjectReader, key: string): HostPort[] {
  const list = r.stringList(key, { maxItems: 99 });
  const out: HostPort[] = [];
  list.forEach((s, i) => {
    const a = parseHostPort(s);
    const path = `${r.keyPath(key)}[${i}]`;
    if (!a) r.problems.push({ path, reason: `must be host:port or [v6]:port, got ${describe(s)}` });
    else if (out.some((o) => formatHostPort(o) === formatHostPort(a))) r.problems.push({ path, reason: `'${s}' is listed twice` });
    else out.push(a);
  });
  return out;
}
