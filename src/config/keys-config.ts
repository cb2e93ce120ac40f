import type { ObjectReader } from './reader.js';

/** Which of a kind's configured keys sealed a datagram: the current one, the next (a rollover), or the old cluster key. */
export type KeySlot = 'current' | 'next' | 'legacy';

/** The keys a monitor's configuration names (wire/keys.ts turns them into verifiers). */
export interface MonitorKeys {
  monitor: Buffer | null;
  monitorNext: Buffer | null;
  /** Which key this monitor seals its own datagrams with. */
  sealWith: KeySlot;
  beaconMaster: Buffer | null;
  beaconMasterNext: Buffer | null;
  /** The old `cluster_key`: accepted with a loud warning, for one release. */
  legacyCluster: Buffer | null;
}

/** A configuration setting that works but should change: said in the log, in status (an alarm) and by `config check`. */
export interface ConfigWarning {
  kind: string;
  message: string;
}

/** Printed in logs, status and `config check` while a configuration still uses the one shared key. */
export const LEGACY_KEY_WARNING: ConfigWarning = {
  kind: 'legacy_cluster_key',
  message:
    "'cluster_key' is deprecated and will be refused in the next release: with one key shared by every host, any compute " +
    "host can forge any other host's heartbeats and the monitors' own; move to monitor_key + beacon_master_key " +
    '(monitors) and host_key (beacons): docs/operations.md, "Moving from cluster_key"',
};

const GENERATE_HINT = 'generate one with: instance-ha keys generate --out FILE';

function keyOf(r: ObjectReader, name: string): Buffer | null {
  const v = r.secret(name);
  if (v === undefined) return null;
  if (Buffer.byteLength(v) < 16) {
    r.problem(r.has(`${name}_file`) ? `${name}_file` : name, `must be at least 16 bytes (${GENERATE_HINT})`);
    return null;
  }
  return Buffer.from(v, 'utf8');
}

/**
 * The monitor's keys: `monitor_key` (seals and opens monitor-to-monitor datagrams; only monitors hold
 * it), `beacon_master_key` (from which each compute host's key is derived), a `_next` of each for a
 * rollover, `monitor_key_seal` (which one this monitor seals with), and the deprecated `cluster_key`.
 */
export function readMonitorKeys(r: ObjectReader): { keys: MonitorKeys; warnings: ConfigWarning[] } {
  const legacyCluster = keyOf(r, 'cluster_key');
  const monitor = keyOf(r, 'monitor_key');
  const monitorNext = keyOf(r, 'monitor_key_next');
  const beaconMaster = keyOf(r, 'beacon_master_key');
  const beaconMasterNext = keyOf(r, 'beacon_master_key_next');
  const keysGiven = (n: string): boolean => r.has(n) || r.has(`${n}_file`);
  if (!legacyCluster && !keysGiven('cluster_key')) {
    if (!keysGiven('monitor_key')) r.problem('monitor_key', `is required (or 'monitor_key_file'; ${GENERATE_HINT})`);
    if (!keysGiven('beacon_master_key')) r.problem('beacon_master_key', `is required (or 'beacon_master_key_file'; ${GENERATE_HINT})`);
  }
  if (keysGiven('monitor_key_next') && !keysGiven('monitor_key')) r.problem('monitor_key_next', "needs 'monitor_key' (the current one)");
  if (keysGiven('beacon_master_key_next') && !keysGiven('beacon_master_key'))
    r.problem('beacon_master_key_next', "needs 'beacon_master_key' (the current one)");
  const defaultSeal = keysGiven('monitor_key') || !keysGiven('cluster_key') ? 'current' : 'legacy';
  const sealWith = r.string('monitor_key_seal', {
    default: defaultSeal,
    oneOf: ['current', 'next', 'legacy'] as const,
  })! as MonitorKeys['sealWith'];
  if (sealWith === 'next' && !keysGiven('monitor_key_next')) r.problem('monitor_key_seal', "is 'next' but no 'monitor_key_next' is set");
  if (sealWith === 'legacy' && !keysGiven('cluster_key') && r.has('monitor_key_seal'))
    r.problem('monitor_key_seal', "is 'legacy' but no 'cluster_key' is set");
  if (sealWith === 'current' && !keysGiven('monitor_key') && r.has('monitor_key_seal'))
    r.problem('monitor_key_seal', "is 'current' but no 'monitor_key' is set");
  // The monitors' key must never equal what compute hosts' keys are derived from.
  if (monitor && (beaconMaster?.equals(monitor) || beaconMasterNext?.equals(monitor)))
    r.problem('beacon_master_key', 'must differ from monitor_key');
  if (monitorNext && (beaconMaster?.equals(monitorNext) || beaconMasterNext?.equals(monitorNext)))
    r.problem('beacon_master_key', 'must differ from monitor_key_next');
  const warnings = keysGiven('cluster_key') ? [LEGACY_KEY_WARNING] : [];
  return { keys: { monitor, monitorNext, sealWith, beaconMaster, beaconMasterNext, legacyCluster }, warnings };
}

/** The beacon's key: `host_key` (this host's own, from `instance-ha keys host NAME`), or the deprecated `cluster_key`. */
export function readBeaconKey(r: ObjectReader): { key: Buffer; slot: 'host' | 'legacy'; warnings: ConfigWarning[] } {
  const hasHost = r.has('host_key') || r.has('host_key_file');
  const hasLegacy = r.has('cluster_key') || r.has('cluster_key_file');
  if (hasHost && hasLegacy) {
    for (const k of ['host_key', 'host_key_file', 'cluster_key', 'cluster_key_file']) r.raw(k);
    r.problem('cluster_key', "and 'host_key' are mutually exclusive: a beacon seals with one key (remove cluster_key)");
    return { key: Buffer.alloc(0), slot: 'host', warnings: [] };
  }
  if (hasLegacy) {
    const k = keyOf(r, 'cluster_key');
    return { key: k ?? Buffer.alloc(0), slot: 'legacy', warnings: [LEGACY_KEY_WARNING] };
  }
  if (!hasHost) {
    r.problem('host_key', "is required (or 'host_key_file'): this host's key, from `instance-ha keys host NAME` on a controller");
    return { key: Buffer.alloc(0), slot: 'host', warnings: [] };
  }
  return { key: keyOf(r, 'host_key') ?? Buffer.alloc(0), slot: 'host', warnings: [] };
}
