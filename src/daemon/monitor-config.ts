import { DEFAULT_DETECTOR } from '../core/detector.js';
import { defaultCoreSettings, type CoreSettings } from '../core/settings.js';
import { formatHostPort, parseHostPort, type HostPort } from '../config/address.js';
import { readLogLevel } from '../config/common.js';
import { MAX_LIST_ITEMS, describe, type ObjectReader } from '../config/reader.js';
import { hostNameKey } from '../config/host-name.js';
import { readMonitorKeys, type ConfigWarning } from '../config/keys-config.js';
import type { MonitorKeys } from '../wire/keys.js';
import { readFencingConfig, type FencingConfig } from '../fence/config.js';
import { readNotificationsConfig, type NotificationsConfig } from '../notify/config.js';
import { readComputeConfig, type ComputeConfig } from '../openstack/config.js';
import { readRecoveryConfig, type RecoveryConfig } from '../recovery/config.js';
import { readOpsConfig, type OpsConfig } from '../config/ops-config.js';
import { readControlSocketKey } from '../config/control-socket-key.js';

export interface MonitorPeer {
  id: string;
  address: HostPort;
}

export interface MonitorConfig {
  id: string;
  listen: HostPort[];
  monitors: MonitorPeer[];
  /** Monitor key, master beacon key (each with a next one for a rollover), or the deprecated cluster key. */
  keys: MonitorKeys;
  /** Said at start in the log, in status (an alarm) and by `config check`: e.g. the deprecated cluster key. */
  warnings: ConfigWarning[];
  stateDir: string;
  controlSocket: string;
  /** Hosts watched from the start (others are learned from their beacons). */
  hosts: string[];
  maxClockSkewMs: number;
  core: CoreSettings;
  logLevel: string;
  /** Fencing devices and per-host topology; null when no `fencing:` section (hosts are only declared). */
  fencing: FencingConfig | null;
  /** Notifications on the OpenStack bus; null when there is no `notifications:` section. */
  notifications: NotificationsConfig | null;
  /** Recovery through the compute API; null without a `recovery:` section (hosts are fenced only). */
  recovery: { compute: ComputeConfig; recovery: RecoveryConfig } | null;
  /** The compute API (`compute:` section), with or without recovery; the compute-down rule needs it. */
  computeApi: ComputeConfig | null;
  ops: OpsConfig;
}

/** At most this many monitors (and expected votes): quorum needs a datagram from a majority of them every peer_interval. */
export const MAX_MONITORS = 99;

/**
 * The expected_votes a cluster of n listed monitors may use: quorum is a strict majority of
 * expected_votes, so it must be more than half of n (two partitions can never both hold it) and
 * expected_votes at most n (votes of monitors that are not configured can never be cast).
 */
export function allowedExpectedVotes(n: number): { min: number; max: number } {
  let min = 1;
  while (2 * (Math.floor(min / 2) + 1) <= n) min++;
  return { min, max: Math.max(1, n) };
}

export function readMonitorConfig(r: ObjectReader): MonitorConfig {
  const id = r.hostName('id') ?? '';
  if (!r.has('id')) r.problem('id', 'is required');
  const monitors: MonitorPeer[] = [];
  const peers = r.objectList('monitors');
  if (peers.length > MAX_MONITORS) r.problem('monitors', `must list at most ${MAX_MONITORS} monitors, got ${peers.length}`);
  for (const m of peers.slice(0, MAX_MONITORS)) {
    const mid = m.hostName('id');
    if (!m.has('id')) m.problem('id', 'is required');
    const addr = m.requiredString('address');
    const address = parseHostPort(addr);
    if (addr && !address) m.problem('address', `must be host:port or [v6]:port, got ${describe(addr)}`);
    if (mid !== undefined && monitors.some((x) => hostNameKey(x.id) === hostNameKey(mid))) m.problem('id', `'${mid}' is listed twice`);
    else if (address && monitors.some((x) => formatHostPort(x.address) === formatHostPort(address)))
      m.problem('address', `'${addr}' is already another monitor's address`);
    else if (mid !== undefined && address) monitors.push({ id: mid, address });
    m.finish();
  }
  if (monitors.length === 0 && !r.problems.some((p) => p.path.startsWith('monitors')))
    r.problem('monitors', 'must list the monitors (id and address), this one included');
  const self = monitors.find((m) => m.id === id);
  if (id && monitors.length > 0 && !self) r.problem('id', `'${id}' is not among the configured monitors`);

  const listenRaw = r.stringList('listen', {
    default: self ? [`${self.address.host.includes(':') ? '[::]' : '0.0.0.0'}:${self.address.port}`] : [],
    maxItems: 16,
  });
  const listen: HostPort[] = [];
  listenRaw.forEach((s, i) => {
    const a = parseHostPort(s);
    const path = `${r.keyPath('listen')}[${i}]`;
    if (!a) r.problems.push({ path, reason: `must be host:port or [v6]:port, got ${describe(s)}` });
    else if (listen.some((l) => formatHostPort(l) === formatHostPort(a))) r.problems.push({ path, reason: `'${s}' is listed twice` });
    else listen.push(a);
  });

  const { keys, warnings } = readMonitorKeys(r);
  const votes = allowedExpectedVotes(peers.length);
  const expectedVotes = r.number('expected_votes', { default: Math.max(1, monitors.length), min: 1, max: MAX_MONITORS, integer: true });
  if (r.has('expected_votes') && peers.length > 0 && (expectedVotes < votes.min || expectedVotes > votes.max)) {
    r.problem(
      'expected_votes',
      `must be between ${votes.min} and ${votes.max} with ${peers.length} monitors, got ${expectedVotes}: ` +
        (expectedVotes < votes.min
          ? `a quorum of ${Math.floor(expectedVotes / 2) + 1} would let two partitions both act`
          : `votes of monitors that are not configured can never be cast`),
    );
  }

  const core = defaultCoreSettings(
    id || 'unset',
    monitors.map((m) => m.id),
  );
  core.expectedVotes = expectedVotes;
  const d = r.object('detection');
  core.detector = {
    ...DEFAULT_DETECTOR,
    defaultIntervalMs: d.durationMs('beacon_interval', { default: 500, min: 50, max: 10_000 }),
    minMissed: d.number('min_missed', { default: DEFAULT_DETECTOR.minMissed, min: 2, max: 50, integer: true }),
    maxMissed: d.number('max_missed', { default: DEFAULT_DETECTOR.maxMissed, min: 2, max: 100, integer: true }),
    suspectMissed: d.number('suspect_missed', { default: DEFAULT_DETECTOR.suspectMissed, min: 1, max: 50, integer: true }),
    minMarginMs: d.durationMs('min_margin', { default: DEFAULT_DETECTOR.minMarginMs, min: 0, max: 10_000 }),
  };
  if (core.detector.maxMissed < core.detector.minMissed)
    d.problem('max_missed', `must be at least min_missed (${core.detector.minMissed})`);
  core.falseFailureProbability = d.number('false_failure_probability', { default: core.falseFailureProbability, min: 1e-15, max: 0.01 });
  core.peerIntervalMs = d.durationMs('peer_interval', { default: core.peerIntervalMs, min: 20, max: 10_000 });
  core.peerTimeoutMs = d.durationMs('peer_timeout', { default: core.peerTimeoutMs, min: 100, max: 60_000 });
  if (core.peerTimeoutMs < 2 * core.peerIntervalMs)
    d.problem('peer_timeout', `must be at least twice peer_interval (${core.peerIntervalMs}ms)`);
  core.tickMs = d.durationMs('tick', { default: core.tickMs, min: 5, max: 1000 });
  core.stabilityWindowMs = d.durationMs('stability_window', { default: core.stabilityWindowMs, min: 0, max: 60_000 });
  core.pauseThresholdMs = d.durationMs('pause_threshold', { default: core.pauseThresholdMs, min: 50, max: 60_000 });
  core.pauseGraceMs = d.durationMs('pause_grace', { default: core.pauseGraceMs, min: 0, max: 600_000 });
  const maxClockSkewMs = d.durationMs('max_clock_skew', { default: 60_000, min: 1000, max: 3_600_000 });
  d.finish();

  const m = r.object('mass_failure');
  core.massGuard = {
    maxFailedFraction: m.number('max_failed_fraction', { default: core.massGuard.maxFailedFraction, min: 0, max: 1 }),
    maxFailedHosts: m.number('max_failed_hosts', { default: core.massGuard.maxFailedHosts, min: 0, max: MAX_LIST_ITEMS, integer: true }),
    windowMs: m.durationMs('window', { default: core.massGuard.windowMs, min: 1000, max: 3_600_000 }),
  };
  m.finish();

  const fencing = r.has('fencing') ? readFencingConfig(r.object('fencing')) : null;
  r.raw('fencing');
  const notifications = r.has('notifications') ? readNotificationsConfig(r.object('notifications')) : null;
  r.raw('notifications');
  let recovery: MonitorConfig['recovery'] = null;
  if (r.has('recovery')) {
    if (!r.has('compute')) r.problem('compute', 'is required with a recovery section (how to reach the compute API)');
    recovery = { compute: readComputeConfig(r.object('compute')), recovery: readRecoveryConfig(r.object('recovery')) };
    if (!fencing) r.problem('recovery', 'needs a fencing section: a host that is not confirmed off is never recovered');
  }
  if (recovery?.recovery.novaNotifications.enabled && !recovery.recovery.novaNotifications.url && !notifications)
    r.problem('recovery.nova_notifications', 'is enabled but has no url and there is no notifications section (which broker?)');
  const computeApi = recovery ? recovery.compute : r.has('compute') ? readComputeConfig(r.object('compute')) : null;
  r.raw('recovery');
  r.raw('compute');
  core.fencing.enabled = fencing !== null;
  if (fencing?.powerCheck.enabled) core.fencing.powerCheck = { maxInFlight: fencing.powerCheck.maxInFlight };
  core.recovery.enabled = fencing !== null && recovery !== null;
  if (core.recovery.enabled && recovery)
    core.recovery.autoUnfence = { enabled: recovery.recovery.unfence.auto, quietPeriodMs: recovery.recovery.unfence.quietPeriodMs };
  if (core.recovery.enabled && recovery && Object.keys(recovery.recovery.zones).length > 0) {
    const zoneOf: Record<string, string> = {};
    for (const [zone, hosts] of Object.entries(recovery.recovery.zones)) for (const h of hosts) zoneOf[h] = zone;
    core.recovery.zoneCap = { zoneOf, maxPerZone: recovery.recovery.maxRecoveriesPerZone };
  }

  // A dead nova-compute on a live host: disable its service (never fence). Acting needs the compute API.
  const cd = r.object('compute_down');
  if (cd.has('enabled') && cd.raw('enabled') === true && computeApi === null)
    cd.problem('enabled', 'needs a compute section (how to reach the compute API) to disable a service');
  core.computeDown = {
    ...core.computeDown,
    enabled: cd.boolean('enabled', true) && computeApi !== null,
    graceMs: cd.durationMs('grace', { default: core.computeDown.graceMs, min: 1000, max: 3_600_000 }),
    maxFraction: cd.number('max_fraction', { default: core.computeDown.maxFraction, min: 0, max: 1 }),
    quietPeriodMs: cd.durationMs('quiet_period', { default: core.computeDown.quietPeriodMs, min: 1000, max: 86_400_000 }),
  };
  cd.finish();

  // A crashed guest on a live host: always notified; tagged servers restarted within a budget (needs the compute API).
  const gr = r.object('guest_restart');
  if (gr.has('enabled') && gr.raw('enabled') === true && computeApi === null)
    gr.problem('enabled', 'needs a compute section (how to reach the compute API) to restart a server');
  core.guestRestart = {
    enabled: gr.boolean('enabled', true) && computeApi !== null,
    maxRestarts: gr.number('max_restarts', { default: core.guestRestart.maxRestarts, min: 0, max: 100, integer: true }),
    windowMs: gr.durationMs('window', { default: core.guestRestart.windowMs, min: 60_000, max: 7 * 86_400_000 }),
    settleMs: gr.durationMs('settle', { default: core.guestRestart.settleMs, min: 1000, max: 3_600_000 }),
    maxEventsPerHostPerMinute: gr.number('max_events_per_host_per_minute', {
      default: core.guestRestart.maxEventsPerHostPerMinute,
      min: 1,
      max: 6000,
      integer: true,
    }),
  };
  gr.finish();

  return {
    id,
    listen,
    monitors,
    keys,
    warnings,
    stateDir: r.string('state_dir', { default: '/var/lib/instance-ha' })!,
    controlSocket: readControlSocketKey(r),
    hosts: r.hostList('hosts'),
    maxClockSkewMs,
    core,
    logLevel: readLogLevel(r),
    fencing,
    notifications,
    recovery,
    computeApi,
    ops: readOpsConfig(r),
  };
}
