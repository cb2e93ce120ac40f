import { hostname } from 'node:os';
import { formatHostPort, parseHostPort, type HostPort } from './address.js';
import { isValidHostName } from './host-name.js';
import { describe, type ObjectReader } from './reader.js';
import { readLogLevel } from './common.js';
import { readBeaconKey, type ConfigWarning } from './keys-config.js';

/** The most restarts of nova-compute a beacon tries in an hour (documented; a crash loop is then left alone). */
export const RESTART_BUDGET_MAX_PER_HOUR = 12;

export interface BeaconConfig {
  host: string;
  monitors: HostPort[];
  intervalMs: number;
  /** This host's own key (or, deprecated, the cluster key): seals every datagram the beacon sends. */
  key: Buffer;
  keySlot: 'host' | 'legacy';
  warnings: ConfigWarning[];
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
  /** libvirt guest-failure watching (guest-reporter.ts); off: no virsh is started. */
  guestWatch: {
    enabled: boolean;
    virsh: string;
    uri: string;
    /** Guest events sent per minute at most (a storm cannot crowd out heartbeats); the rest counted as dropped. */
    maxEventsPerMinute: number;
    /** Each event is sent this many times (UDP may lose one); monitors keep one. */
    repeats: number;
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
  const { key, slot: keySlot, warnings } = readBeaconKey(r);
  const h = r.object('health');
  const process = h.string('process', { default: 'nova-compute' }) ?? null;
  const command = h.string('command') ?? null;
  const health = {
    process: command ? (h.has('process') ? process : null) : process,
    command,
    intervalMs: h.durationMs('interval', { default: 2000, min: 100, max: 600_000 }),
    timeoutMs: h.durationMs('timeout', { default: 1000, min: 10, max: 600_000 }),
    restartCommand: h.string('restart_command') ?? null,
    restartBudgetPerHour: h.number('restart_budget_per_hour', { default: 3, min: 1, max: RESTART_BUDGET_MAX_PER_HOUR, integer: true }),
    restartTimeoutMs: h.durationMs('restart_timeout', { default: 60_000, min: 1000, max: 600_000 }),
  };
  h.finish();
  const g = r.object('guest_watch');
  const guestWatch = {
    enabled: g.boolean('enabled', true),
    virsh: g.string('virsh', { default: 'virsh', maxLength: 4096 })!,
    uri: g.string('uri', { default: 'qemu:///system', maxLength: 1024 })!,
    maxEventsPerMinute: g.number('max_events_per_minute', { default: 30, min: 1, max: 600, integer: true }),
    repeats: g.number('repeats', { default: 3, min: 1, max: 10, integer: true }),
  };
  g.finish();
  return { host, monitors, intervalMs, key, keySlot, warnings, health, guestWatch, logLevel: readLogLevel(r) };
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
