import { hostname } from 'node:os';
import { parseHostPort, type HostPort } from './address.js';
import type { ObjectReader } from './reader.js';
import { checkClusterKey, readLogLevel } from './common.js';
import { RESTART_BUDGET_MAX_PER_HOUR } from '../daemon/restart-budget.js';

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
    /** Optional: run when nova-compute is seen down, before the monitors disable its service; off by default. */
    restartCommand: string | null;
    /** Restart attempts allowed in any sliding hour (1..RESTART_BUDGET_MAX_PER_HOUR). */
    restartBudgetPerHour: number;
    restartTimeoutMs: number;
  };
  logLevel: string;
}

export function readBeaconConfig(r: ObjectReader): BeaconConfig {
  const host = r.string('host', {
    default: hostname().split('.')[0]!,
    pattern: /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/,
    patternHint: 'a host name as Nova knows it',
  })!;
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
    intervalMs: h.durationMs('interval', { default: 2000, min: 100 }),
    timeoutMs: h.durationMs('timeout', { default: 1000, min: 10 }),
    restartCommand: h.string('restart_command') ?? null,
    restartBudgetPerHour: h.number('restart_budget_per_hour', { default: 3, min: 1, max: RESTART_BUDGET_MAX_PER_HOUR, integer: true }),
    restartTimeoutMs: h.durationMs('restart_timeout', { default: 60_000, min: 1000, max: 600_000 }),
  };
  h.finish();
  return { host, monitors, intervalMs, clusterKey: Buffer.from(key ?? '', 'utf8'), health, logLevel: readLogLevel(r) };
}

export function readAddresses(r: ObjectReader, key: string): HostPort[] {
  const list = r.stringList(key);
  const out: HostPort[] = [];
  list.forEach((s, i) => {
    const a = parseHostPort(s);
    if (a) out.push(a);
    else r.problems.push({ path: `${r.keyPath(key)}[${i}]`, reason: `must be host:port or [v6]:port, got '${s}'` });
  });
  return out;
}
