import { describe, type ObjectReader } from '../config/reader.js';
import { hostNameKey, hostNameProblem } from '../config/host-name.js';
import { printable } from '../config/safe-file.js';

export { readComputeConfig, COMPUTE_DEFAULTS, type ComputeConfig } from '../openstack/config.js';

export type RecoveryMode = 'evacuate' | 'notify';
/** What becomes of a server whose root disk was local to the dead host: held and reported, or rebuilt from its image (data lost). */
export type LocalDiskPolicy = 'notify' | 'rebuild';

/** Hosts whose instance storage (nova's instances_path) the evacuation targets share: evacuate keeps the disk. */
export interface SharedStorageConfig {
  hosts: string[];
  /** Aggregate names: every host in one of them shares its instance storage. */
  aggregates: string[];
}

/** The local-disk policy (docs/recovery.md "Local disks"): most specific wins: server metadata, host, aggregate, default. */
export interface LocalDiskConfig {
  default: LocalDiskPolicy;
  hosts: Record<string, LocalDiskPolicy>;
  aggregates: Record<string, LocalDiskPolicy>;
  /** Server metadata key whose value (rebuild|notify) sets one server's policy. */
  metadataKey: string;
}

/** Which servers of a failed host are evacuated (docs/recovery.md "Selection"). */
export interface SelectionConfig {
  /** Server tag that opts a server in (Nova tags, ≥2.26). */
  tag: string;
  /** Opt in when the embedded flavor's extra_specs hold any of these key=value pairs. */
  flavorExtraSpecs: Record<string, string>;
  /** Opt in when the image (Glance v2) has any of these property=value pairs. */
  imageProperties: Record<string, string>;
  /** Opt in every server of the host when one of the host's aggregates has any of these metadata pairs. */
  aggregateMetadata: Record<string, string>;
  /** Never evacuate servers of these project ids. */
  excludeProjects: string[];
  /** Never evacuate servers booted from these image ids. */
  excludeImages: string[];
  /** Never evacuate servers whose name matches one of these regular expressions. */
  excludeNamePatterns: string[];
}

export interface UnfenceConfig {
  /** Opt-in: unfence a returned host by itself once it has been healthy for quietPeriodMs. */
  auto: boolean;
  quietPeriodMs: number;
  /** Wait between tries while Nova refuses to clear forced_down (400, `done` records remain). */
  retryIntervalMs: number;
  /** Give up (host stays forced down) after this long. */
  timeoutMs: number;
}

export interface NovaNotificationsConfig {
  enabled: boolean;
  /** Broker URL; empty: the monitor's `notifications.url` (the broker instance-ha already publishes to). */
  url: string | null;
  /** Nova's control_exchange (nova/config.py: `nova`). */
  exchange: string;
  /** Nova's versioned_notifications_topics (nova/conf/notifications.py: `versioned_notifications`). */
  topic: string;
}

export interface RecoveryConfig {
  /** Default mode for every host. */
  mode: RecoveryMode;
  /** Per-host override, e.g. hyper-converged hosts set to notify. */
  hostModes: Record<string, RecoveryMode>;
  /** Server metadata key whose value (evacuate|notify) sets one server's mode. */
  instanceModeKey: string;
  select: SelectionConfig;
  /** Server metadata key holding a number; higher evacuates first. */
  priorityKey: string;
  /** Reserved hosts to evacuate onto (round-robin); empty: the scheduler picks. */
  targetHosts: string[];
  /** Evacuate requests in flight at once. */
  concurrency: number;
  /** Evacuations accepted and not yet settled, at once. */
  maxInFlight: number;
  instanceTimeoutMs: number;
  /** Evacuate attempts per server (first one included). */
  maxAttempts: number;
  retryBackoffMs: number;
  maxRetryBackoffMs: number;
  /** Tracking's slowest cadence: polls back off to it while nothing changes. */
  pollIntervalMs: number;
  /** Tracking's fastest cadence: right after an evacuate is accepted and while polls show changes. */
  fastPollIntervalMs: number;
  /** Least time between two tracking polls, a burst of Nova notifications included. */
  minPollGapMs: number;
  /** Nova's own versioned notifications as a hint to poll now (never the authority). */
  novaNotifications: NovaNotificationsConfig;
  journalDir: string;
  unfence: UnfenceConfig;
  sharedStorage: SharedStorageConfig;
  localDisk: LocalDiskConfig;
  /** Zone name → its hosts (an availability zone, a rack, an aggregate): the unit of the recovery cap. */
  zones: Record<string, string[]>;
  /** Host recoveries running at once in one zone (hosts in no zone are not capped). */
  maxRecoveriesPerZone: number;
}

export const RECOVERY_DEFAULTS: RecoveryConfig = {
  mode: 'evacuate',
  hostModes: {},
  instanceModeKey: 'instance-ha:mode',
  select: {
    tag: 'automatic-recovery',
    flavorExtraSpecs: {},
    imageProperties: {},
    aggregateMetadata: {},
    excludeProjects: [],
    excludeImages: [],
    excludeNamePatterns: [],
  },
  priorityKey: 'instance-ha:priority',
  targetHosts: [],
  concurrency: 8,
  maxInFlight: 32,
  instanceTimeoutMs: 600_000,
  maxAttempts: 3,
  retryBackoffMs: 5_000,
  maxRetryBackoffMs: 60_000,
  pollIntervalMs: 1_000,
  fastPollIntervalMs: 250,
  minPollGapMs: 200,
  novaNotifications: { enabled: false, url: null, exchange: 'nova', topic: 'versioned_notifications' },
  journalDir: '/var/lib/instance-ha/recovery',
  unfence: { auto: false, quietPeriodMs: 300_000, retryIntervalMs: 5_000, timeoutMs: 600_000 },
  sharedStorage: { hosts: [], aggregates: [] },
  localDisk: { default: 'notify', hosts: {}, aggregates: {}, metadataKey: 'instance-ha:local-disk' },
  zones: {},
  maxRecoveriesPerZone: 2,
};

const LOCAL_DISK = ['notify', 'rebuild'] as const;

const MODES = ['evacuate', 'notify'] as const;
/** Nova tag rules (2.26): 1–60 characters, no '/' or ','. */
const TAG = /^[^/,]{1,60}$/;
/** AMQP short strings we accept for exchange and topic names: letters, digits, . _ - : */
const AMQP_NAME = /^[A-Za-z0-9._:-]{1,255}$/;

export function readRecoveryConfig(r: ObjectReader): RecoveryConfig {
  const d = RECOVERY_DEFAULTS;
  const s = r.object('select');
  const ex = r.object('exclude');
  const u = r.object('unfence');
  const nn = r.object('nova_notifications');
  const pollIntervalMs = r.durationMs('poll_interval', { default: d.pollIntervalMs, min: 10, max: 300_000 });
  // Unset, the fast cadence and the gap never exceed the slow cadence (a test's 20 ms poll_interval stays 20 ms).
  const fastPollIntervalMs = r.durationMs('fast_poll_interval', {
    default: Math.min(d.fastPollIntervalMs, pollIntervalMs),
    min: 10,
    max: 60_000,
  });
  const minPollGapMs = r.durationMs('min_poll_gap', { default: Math.min(d.minPollGapMs, fastPollIntervalMs), min: 10, max: 60_000 });
  const ss = r.object('shared_storage');
  const cfg: RecoveryConfig = {
    mode: r.string('mode', { default: d.mode, oneOf: MODES }) as RecoveryMode,
    hostModes: stringMap(r, 'host_modes', MODES, 'host') as Record<string, RecoveryMode>,
    instanceModeKey: r.string('instance_mode_key', { default: d.instanceModeKey, maxLength: 255 })!,
    select: {
      tag: s.string('tag', { default: d.select.tag, pattern: TAG, patternHint: 'a Nova tag (1-60 characters, no / or ,)' })!,
      flavorExtraSpecs: stringMap(s, 'flavor_extra_specs'),
      imageProperties: stringMap(s, 'image_properties'),
      aggregateMetadata: stringMap(s, 'aggregate_metadata'),
      excludeProjects: ex.stringList('projects', { maxItems: 10_000, maxLength: 255 }),
      excludeImages: ex.stringList('images', { maxItems: 10_000, maxLength: 255 }),
      excludeNamePatterns: ex.stringList('name_patterns', { maxItems: 1000, maxLength: 1000 }),
    },
    priorityKey: r.string('priority_key', { default: d.priorityKey, maxLength: 255 })!,
    targetHosts: r.hostList('target_hosts', { maxItems: 10_000 }),
    concurrency: r.number('concurrency', { default: d.concurrency, min: 1, max: 256, integer: true }),
    maxInFlight: r.number('max_in_flight', { default: d.maxInFlight, min: 1, max: 10_000, integer: true }),
    instanceTimeoutMs: r.durationMs('instance_timeout', { default: d.instanceTimeoutMs, min: 1_000, max: 21_600_000 }),
    maxAttempts: r.number('max_attempts', { default: d.maxAttempts, min: 1, max: 20, integer: true }),
    retryBackoffMs: r.durationMs('retry_backoff', { default: d.retryBackoffMs, min: 0, max: 3_600_000 }),
    maxRetryBackoffMs: r.durationMs('max_retry_backoff', { default: d.maxRetryBackoffMs, min: 0, max: 21_600_000 }),
    pollIntervalMs,
    fastPollIntervalMs,
    minPollGapMs,
    novaNotifications: {
      enabled: nn.boolean('enabled', d.novaNotifications.enabled),
      url: nn.string('url', { maxLength: 2048 }) ?? null,
      exchange: nn.string('exchange', {
        default: d.novaNotifications.exchange,
        maxLength: 255,
        pattern: AMQP_NAME,
        patternHint: 'an AMQP exchange name',
      })!,
      topic: nn.string('topic', {
        default: d.novaNotifications.topic,
        maxLength: 255,
        pattern: AMQP_NAME,
        patternHint: 'an AMQP topic name',
      })!,
    },
    journalDir: r.string('journal_dir', { default: d.journalDir })!,
    unfence: {
      auto: u.boolean('auto', d.unfence.auto),
      quietPeriodMs: u.durationMs('quiet_period', { default: d.unfence.quietPeriodMs, min: 0, max: 86_400_000 }),
      retryIntervalMs: u.durationMs('retry_interval', { default: d.unfence.retryIntervalMs, min: 10, max: 600_000 }),
      timeoutMs: u.durationMs('timeout', { default: d.unfence.timeoutMs, min: 1_000, max: 86_400_000 }),
    },
    sharedStorage: {
      hosts: ss.hostList('hosts', { maxItems: 10_000 }),
      aggregates: ss.stringList('aggregates', { maxItems: 1000, maxLength: 255 }),
    },
    localDisk: readLocalDisk(r),
    zones: readZones(r),
    maxRecoveriesPerZone: r.number('max_recoveries_per_zone', { default: d.maxRecoveriesPerZone, min: 1, max: 1000, integer: true }),
  };
  if (cfg.fastPollIntervalMs > cfg.pollIntervalMs)
    r.problem('fast_poll_interval', `must not be more than poll_interval (${cfg.pollIntervalMs}ms), got ${cfg.fastPollIntervalMs}ms`);
  if (cfg.minPollGapMs > cfg.fastPollIntervalMs)
    r.problem('min_poll_gap', `must not be more than fast_poll_interval (${cfg.fastPollIntervalMs}ms), got ${cfg.minPollGapMs}ms`);
  if (cfg.novaNotifications.url !== null && !/^amqps?:\/\/[^\s]+$/.test(cfg.novaNotifications.url))
    nn.problem('url', 'must be an amqp:// or amqps:// URL');
  if (cfg.retryBackoffMs > cfg.maxRetryBackoffMs)
    r.problem('retry_backoff', `must not be more than max_retry_backoff (${cfg.maxRetryBackoffMs}ms), got ${cfg.retryBackoffMs}ms`);
  for (const [i, p] of cfg.select.excludeNamePatterns.entries()) {
    try {
      new RegExp(p);
    } catch {
      ex.problem(`name_patterns[${i}]`, `is not a valid regular expression: ${describe(p)}`);
    }
  }
  s.finish();
  ex.finish();
  u.finish();
  nn.finish();
  ss.finish();
  r.finish();
  return cfg;
}

/** `zones: {rack-a: [cmp1, cmp2], …}`: at most 1,000 zones; a host in at most one of them. */
function readZones(r: ObjectReader): Record<string, string[]> {
  const v = r.raw('zones');
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) {
    r.problem('zones', 'must be a mapping of zone names to lists of hosts');
    return {};
  }
  const z = r.object('zones');
  const names = Object.keys(v as Record<string, unknown>);
  if (names.length > 1000) {
    r.problem('zones', `must have at most 1000 zones, got ${names.length}`);
    return {};
  }
  const out: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
  const seen = new Map<string, string>();
  for (const name of names) {
    if (name.length === 0 || name.length > 255 || /[\u0000-\u001f\u007f]/.test(name)) {
      z.problem(printable(name).slice(0, 80), 'is not a zone name (1-255 printable characters)');
      continue;
    }
    const hosts = z.hostList(name, { maxItems: 10_000 });
    for (const h of hosts) {
      const other = seen.get(hostNameKey(h));
      if (other !== undefined) z.problem(name, `host ${h} is already in zone ${other}: a host belongs to one zone`);
      else seen.set(hostNameKey(h), name);
    }
    out[name] = hosts;
  }
  z.finish();
  return out;
}

/**
 * `local_disk: rebuild` (the short form: the default only) or a mapping
 * `{default, hosts: {host: policy}, aggregates: {name: policy}, metadata_key}`.
 */
function readLocalDisk(r: ObjectReader): LocalDiskConfig {
  const d = RECOVERY_DEFAULTS.localDisk;
  const v = r.raw('local_disk');
  if (v === undefined || v === null || typeof v === 'string') {
    return {
      ...d,
      hosts: {},
      aggregates: {},
      default: r.string('local_disk', { default: d.default, oneOf: LOCAL_DISK }) as LocalDiskPolicy,
    };
  }
  const l = r.object('local_disk');
  const out: LocalDiskConfig = {
    default: l.string('default', { default: d.default, oneOf: LOCAL_DISK }) as LocalDiskPolicy,
    hosts: stringMap(l, 'hosts', LOCAL_DISK, 'host') as Record<string, LocalDiskPolicy>,
    aggregates: stringMap(l, 'aggregates', LOCAL_DISK) as Record<string, LocalDiskPolicy>,
    metadataKey: l.string('metadata_key', { default: d.metadataKey, maxLength: 255 })!,
  };
  l.finish();
  return out;
}

/**
 * A mapping of names to strings (optionally restricted to `oneOf`), at most 1000 entries. Keys are
 * metadata keys (Nova: 1-255 characters) or, with `keys: 'host'`, host names. The result has no
 * prototype, so a key such as `constructor` is only ever a key.
 */
function stringMap(
  r: ObjectReader,
  key: string,
  oneOf?: readonly string[],
  keys: 'host' | 'metadata' = 'metadata',
): Record<string, string> {
  const v = r.raw(key);
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) {
    r.problem(key, 'must be a mapping of names to strings');
    return {};
  }
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  const all = Object.entries(v as Record<string, unknown>);
  if (all.length > 1000) {
    r.problem(key, `must have at most 1000 entries, got ${all.length}`);
    return out;
  }
  const seen = new Set<string>();
  for (const [k, val] of all) {
    const ok = typeof val === 'string' || typeof val === 'number' || typeof val === 'boolean';
    const keyBad =
      keys === 'host'
        ? hostNameProblem(k)
        : k.length === 0 || k.length > 255 || /[\u0000-\u001f\u007f]/.test(k)
          ? 'is not a metadata key'
          : undefined;
    if (keyBad) r.problem(`${key}.${printable(k).slice(0, 80)}`, keyBad);
    else if (keys === 'host' && seen.has(hostNameKey(k)))
      r.problem(`${key}.${k}`, 'is the same host as another entry (host names ignore case)');
    else if (!ok || String(val).length > 255 || /[\u0000-\u001f\u007f]/.test(String(val)))
      r.problem(`${key}.${k}`, 'must be a single-line string of at most 255 characters');
    else if (oneOf && !oneOf.includes(String(val))) r.problem(`${key}.${k}`, `must be one of ${oneOf.join(', ')}, got '${String(val)}'`);
    else {
      seen.add(hostNameKey(k));
      out[k] = String(val);
    }
  }
  return out;
}
