import { hkdfSync } from 'node:crypto';
import type { KeySlot, MonitorKeys } from '../config/keys-config.js';
import { HmacSha256 } from './hmac.js';

/**
 * The keys that seal datagrams, and which of them a monitor accepts (docs/security.md):
 *  - the monitor key, held only by the monitors, seals monitor-to-monitor datagrams;
 *  - each compute host's own key, derived from the master beacon key over the host name, seals
 *    that host's beacon datagrams: a host's key is good for its own name and no other;
 *  - the old single cluster key (one release of migration) is still accepted for both kinds.
 * During a rollover a monitor accepts a current and a next key of each kind.
 */
// The configured keys are read by config/keys-config.ts; the types live there so config needs nothing of wire.
export type { KeySlot, MonitorKeys } from '../config/keys-config.js';

export interface Verifier {
  slot: KeySlot;
  mac: HmacSha256;
}

const HKDF_SALT = Buffer.from('instance-ha beacon host key v1', 'utf8');

/**
 * A compute host's key: HKDF-SHA256 (RFC 5869) of the master beacon key, with the host name as the
 * context. Like every key file it is text (base64 of the 32 derived bytes), and the HMAC key is that
 * text's bytes, so the file `instance-ha keys host NAME` prints is used exactly as it reads.
 */
export function deriveHostKey(master: Buffer, host: string): Buffer {
  const okm = Buffer.from(hkdfSync('sha256', master, HKDF_SALT, Buffer.from(host, 'utf8'), 32));
  return Buffer.from(okm.toString('base64'), 'utf8');
}

/**
 * Host keys are derived once per host and kept. Hosts whose datagrams verified are kept up to
 * MAX_TRUSTED_HOSTS (far above any cluster's size); names nobody has proven yet (a new host's first
 * beat, or a flood of made-up names) go to a small probation cache that is emptied when full, so
 * made-up names cost a derivation each but never memory.
 */
const MAX_TRUSTED_HOSTS = 100_000;
const MAX_PROBATION_HOSTS = 1024;

export class KeyRing {
  private readonly monitorVerifiers: Verifier[];
  private readonly legacy: Verifier | null;
  private readonly trusted = new Map<string, Verifier[]>();
  private readonly probation = new Map<string, Verifier[]>();
  readonly perHost: boolean;

  constructor(readonly keys: MonitorKeys) {
    this.legacy = keys.legacyCluster ? { slot: 'legacy', mac: new HmacSha256(keys.legacyCluster) } : null;
    this.monitorVerifiers = [
      ...(keys.monitor ? [{ slot: 'current' as const, mac: new HmacSha256(keys.monitor) }] : []),
      ...(keys.monitorNext ? [{ slot: 'next' as const, mac: new HmacSha256(keys.monitorNext) }] : []),
      ...(this.legacy ? [this.legacy] : []),
    ];
    this.perHost = !!(keys.beaconMaster || keys.beaconMasterNext);
  }

  /** The key this monitor seals its own datagrams with. */
  monitorSealKey(): Buffer {
    const k = this.keys;
    const key = k.sealWith === 'next' ? k.monitorNext : k.sealWith === 'legacy' ? k.legacyCluster : k.monitor;
    if (!key) throw new Error(`no ${k.sealWith} monitor key configured`); // the config reader refuses this
    return key;
  }

  forMonitors(): readonly Verifier[] {
    return this.monitorVerifiers;
  }

  /** The keys a beacon datagram claiming to come from `host` may be sealed with. */
  forHost(host: string): readonly Verifier[] {
    const known = this.trusted.get(host) ?? this.probation.get(host);
    if (known) return known;
    const k = this.keys;
    const v: Verifier[] = [];
    if (k.beaconMaster) v.push({ slot: 'current', mac: new HmacSha256(deriveHostKey(k.beaconMaster, host)) });
    if (k.beaconMasterNext) v.push({ slot: 'next', mac: new HmacSha256(deriveHostKey(k.beaconMasterNext, host)) });
    if (this.legacy) v.push(this.legacy);
    if (this.probation.size >= MAX_PROBATION_HOSTS) this.probation.clear();
    this.probation.set(host, v);
    return v;
  }

  /** A datagram from `host` verified: its keys move out of probation. */
  proven(host: string): void {
    // One lookup on the hot path: a host already trusted is not in probation.
    const v = this.probation.size > 0 ? this.probation.get(host) : undefined;
    if (!v || this.trusted.size >= MAX_TRUSTED_HOSTS) return;
    this.probation.delete(host);
    this.trusted.set(host, v);
  }

  /** Accepting every kind under one shared key (a forged heartbeat cannot be told from a real one). */
  get legacyAccepted(): boolean {
    return this.legacy !== null;
  }
}
