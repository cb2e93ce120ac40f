import { timingSafeEqual } from 'node:crypto';
import { hmacFor } from './hmac.js';
import type { KeySlot, Verifier } from './keys.js';
import { PROTOCOL_MAJOR, decodeHeaderBody, decodePageBody, type MonitorHeader, type ViewPage } from './monitor-format.js';
import type { BeaconBeat, ComputeHealth, MonitorBeat } from '../core/messages.js';
import type { DropReason } from '../core/status-snapshot.js';
import type { GuestEventBeat } from '../core/guest-failures.js';
import { decodeGuestBody, GUEST_KIND } from './guest-format.js';

/**
 * Datagram format (all integers big-endian):
 *   "IHA" | version u8 (1) | kind u8 (1 beacon, 2 monitor) | body | HMAC-SHA256(key, everything before) [32]
 * Beacon body: bootId [16] | seq u32 | sentAtMs f64 | intervalMs u16 | health u8 | hostLen u8 | host utf8
 * Kind 2 (protocol 0.1 monitors): JSON of MonitorBeat. Still read, so a rolling upgrade from 0.1 keeps
 * quorum; no longer sent: it listed every non-up host and outgrew one datagram at ~740 of them.
 * Kinds 3 (monitor header) and 4 (monitor view page): monitor-format.ts, each ≤ 1,400 bytes sealed.
 * Kind 5 (leaving): a beacon's last words on a clean stop, the beacon body exactly (its boot id and the
 * next sequence number of that boot), sealed with the host's own key like a heartbeat. Its own kind, so
 * an older monitor drops it as malformed (and fences as before) rather than taking it for a heartbeat.
 * Keys (keys.ts): a beacon datagram is sealed with its host's own key, a monitor datagram with the monitor key.
 * Beacons are binary because a monitor may take 10,000 of them a second.
 */
const MAGIC = Buffer.from('IHA');
const VERSION = 1;
const MAC_BYTES = 32;
const HEADER_BYTES = 5;
/** Largest datagram read (a 0.1 monitor's JSON beat could be this large); every datagram sent is ≤ 1,400. */
export const MAX_DATAGRAM_BYTES = 60_000;
const HEALTH: readonly ComputeHealth[] = ['unknown', 'up', 'down'];

export type Decoded =
  | { ok: true; kind: 'beacon'; beat: BeaconBeat }
  | { ok: true; kind: 'leaving'; beat: BeaconBeat }
  | { ok: true; kind: 'monitor'; beat: MonitorBeat }
  | { ok: true; kind: 'monitor_header'; header: MonitorHeader }
  | { ok: true; kind: 'view_page'; page: ViewPage }
  | { ok: true; kind: 'guest'; guest: GuestEventBeat }
  | { ok: false; reason: DropReason };

export type { DropReason };

export function encodeBeacon(beat: BeaconBeat, key: Buffer): Buffer {
  return seal(1, beaconBody(beat), key);
}

/** A beacon's leaving (kind 5): the same body as a heartbeat, so it is bound to a boot and a sequence number. */
export function encodeLeaving(beat: BeaconBeat, key: Buffer): Buffer {
  return seal(5, beaconBody(beat), key);
}

function beaconBody(beat: BeaconBeat): Buffer {
  const host = Buffer.from(beat.host, 'utf8');
  if (host.length === 0 || host.length > 255) throw new RangeError(`host name must be 1-255 bytes: '${beat.host}'`);
  const boot = bootIdBytes(beat.bootId);
  const body = Buffer.alloc(16 + 4 + 8 + 2 + 1 + 1 + host.length);
  boot.copy(body, 0);
  body.writeUInt32BE(beat.seq >>> 0, 16);
  body.writeDoubleBE(beat.sentAtMs, 20);
  body.writeUInt16BE(Math.min(65_535, Math.round(beat.intervalMs)), 28);
  body.writeUInt8(HEALTH.indexOf(beat.novaCompute), 30);
  body.writeUInt8(host.length, 31);
  host.copy(body, 32);
  return body;
}

/** The 0.1 monitor beat (kind 2, JSON): only tests send it now, to stand for a 0.1 peer. */
export function encodeMonitor(beat: MonitorBeat, key: Buffer): Buffer {
  const out = seal(2, Buffer.from(JSON.stringify(beat), 'utf8'), key);
  if (out.length > MAX_DATAGRAM_BYTES) throw new RangeError(`monitor beat too large: ${out.length} bytes`);
  return out;
}

/** Frames and authenticates a body of a kind: the one place a datagram is sealed, with the key given. */
export function seal(kind: number, body: Buffer, key: Buffer): Buffer {
  const out = Buffer.alloc(HEADER_BYTES + body.length + MAC_BYTES);
  MAGIC.copy(out, 0);
  out.writeUInt8(VERSION, 3);
  out.writeUInt8(kind, 4);
  body.copy(out, HEADER_BYTES);
  hmacFor(key)
    .digest(out.subarray(0, HEADER_BYTES + body.length))
    .copy(out, HEADER_BYTES + body.length);
  return out;
}

/** Authenticates under one key, then parses; never throws, whatever the bytes. */
export function decode(buf: Buffer, key: Buffer): Decoded {
  const one: readonly Verifier[] = [{ slot: 'current', mac: hmacFor(key) }];
  const r = openDatagram(buf, { forHost: () => one, forMonitors: () => one });
  if (!r.ok) return { ok: false, reason: r.reason === 'forged' ? 'bad_mac' : r.reason };
  const { slot: _slot, ...decoded } = r;
  return decoded;
}

/** Which keys a datagram may be sealed with: those of the compute host it claims to be, or the monitors'. */
export interface KeyChooser {
  forHost(host: string): readonly Verifier[];
  forMonitors(): readonly Verifier[];
}

export type Opened =
  | { ok: true; kind: 'beacon'; beat: BeaconBeat; slot: KeySlot }
  | { ok: true; kind: 'leaving'; beat: BeaconBeat; slot: KeySlot }
  | { ok: true; kind: 'monitor'; beat: MonitorBeat; slot: KeySlot }
  | { ok: true; kind: 'monitor_header'; header: MonitorHeader; slot: KeySlot }
  | { ok: true; kind: 'view_page'; page: ViewPage; slot: KeySlot }
  | { ok: true; kind: 'guest'; guest: GuestEventBeat; slot: KeySlot }
  /** `claimed`: who a forged datagram said it was (read from its unauthenticated body, for the alarm only). */
  | { ok: false; reason: DropReason; claimed?: string };

/**
 * Picks the key from the identity the datagram claims, then authenticates, then trusts the body.
 * A beacon's host name is inside its body: the body is parsed unauthenticated only to pick that
 * host's key, and nothing read from it is used unless the seal verifies under that key. A datagram
 * that fails under every key of the identity it claims is `forged` (`bad_mac` when only the shared
 * legacy key was tried: under one shared key a forgery cannot be told from noise). Never throws.
 */
export function openDatagram(buf: Buffer, keys: KeyChooser): Opened {
  if (buf.length > MAX_DATAGRAM_BYTES) return { ok: false, reason: 'oversized' };
  if (buf.length < HEADER_BYTES + MAC_BYTES + 1) return { ok: false, reason: 'malformed' };
  if (buf[0] !== MAGIC[0] || buf[1] !== MAGIC[1] || buf[2] !== MAGIC[2] || buf[3] !== VERSION) return { ok: false, reason: 'malformed' };
  const macAt = buf.length - MAC_BYTES;
  const body = buf.subarray(HEADER_BYTES, macAt);
  try {
    switch (buf[4]) {
      // Any future kind a compute host sends (guest events) names its host and is opened like this one:
      // under that host's key only, so a host can report on nothing but itself.
      case 1:
      case 5: {
        // A heartbeat, or a leaving: the same body, the same key (the host's own), so a host says
        // leaving for itself only.
        const b = decodeBeaconBody(body);
        if (!b.ok || b.kind !== 'beacon') return b.ok ? { ok: false, reason: 'malformed' } : b;
        const tried = keys.forHost(b.beat.host);
        const slot = verifySeal(buf, tried);
        if (slot === null) return refused(tried, b.beat.host);
        return { ok: true, kind: buf[4] === 5 ? 'leaving' : 'beacon', beat: b.beat, slot };
      }
      case 2: {
        const tried = keys.forMonitors();
        const slot = verifySeal(buf, tried);
        if (slot === null) return refused(tried, claimedMonitor(body));
        const m = decodeMonitorBody(body);
        if (!m.ok || m.kind !== 'monitor') return m.ok ? { ok: false, reason: 'malformed' } : m;
        return { ok: true, kind: 'monitor', beat: m.beat, slot };
      }
      case 3:
      case 4: {
        // A monitor header or view page (monitor-format.ts): the monitor key, then the body.
        const tried = keys.forMonitors();
        const slot = verifySeal(buf, tried);
        if (slot === null) return refused(tried, '(a monitor)');
        // Authenticated, but of another major: said as such (not `malformed`), naming its version.
        if (body.length >= 2 && body[0] !== PROTOCOL_MAJOR)
          return { ok: false, reason: 'incompatible', claimed: `protocol ${body[0]}.${body[1]}` };
        if (buf[4] === 3) {
          const header = decodeHeaderBody(body);
          return header ? { ok: true, kind: 'monitor_header', header, slot } : { ok: false, reason: 'malformed' };
        }
        const page = decodePageBody(body);
        return page ? { ok: true, kind: 'view_page', page, slot } : { ok: false, reason: 'malformed' };
      }
      case GUEST_KIND: {
        // A guest event (guest-format.ts): like a heartbeat, under the claimed host's own key only.
        const g = decodeGuestBody(body);
        if (!g) return { ok: false, reason: 'malformed' };
        const tried = keys.forHost(g.host);
        const slot = verifySeal(buf, tried);
        if (slot === null) return refused(tried, g.host);
        return { ok: true, kind: 'guest', guest: g, slot };
      }
      default:
        return { ok: false, reason: 'malformed' };
    }
  } catch {
    return { ok: false, reason: 'malformed' };
  }
}

/** The one check of a seal: the slot of the first key it verifies under, or null. */
export function verifySeal(buf: Buffer, verifiers: readonly Verifier[]): KeySlot | null {
  const macAt = buf.length - MAC_BYTES;
  const got = buf.subarray(macAt);
  for (const v of verifiers) if (timingSafeEqual(v.mac.digest(buf.subarray(0, macAt)), got)) return v.slot;
  return null;
}

function refused(tried: readonly Verifier[], claimed: string): Opened {
  return tried.some((v) => v.slot !== 'legacy') ? { ok: false, reason: 'forged', claimed } : { ok: false, reason: 'bad_mac' };
}

/** The sender a monitor datagram names, best effort and only for an alarm (the body is not authenticated). */
function claimedMonitor(body: Buffer): string {
  const m = /"from":"([A-Za-z0-9._-]{1,63})"/.exec(body.subarray(0, 256).toString('latin1'));
  return m ? m[1]! : '(a monitor)';
}

function decodeBeaconBody(body: Buffer): Decoded {
  if (body.length < 33) return { ok: false, reason: 'malformed' };
  const hostLen = body.readUInt8(31);
  if (body.length !== 32 + hostLen || hostLen === 0) return { ok: false, reason: 'malformed' };
  const health = HEALTH[body.readUInt8(30)];
  const sentAtMs = body.readDoubleBE(20);
  const intervalMs = body.readUInt16BE(28);
  if (!health || !Number.isFinite(sentAtMs) || intervalMs < 10) return { ok: false, reason: 'malformed' };
  return {
    ok: true,
    kind: 'beacon',
    beat: {
      bootId: body.subarray(0, 16).toString('hex'),
      seq: body.readUInt32BE(16),
      sentAtMs,
      intervalMs,
      novaCompute: health,
      host: body.subarray(32).toString('utf8'),
    },
  };
}

function decodeMonitorBody(body: Buffer): Decoded {
  const v: unknown = JSON.parse(body.toString('utf8'));
  return isMonitorBeat(v) ? { ok: true, kind: 'monitor', beat: v } : { ok: false, reason: 'malformed' };
}

/** Structural check: an authenticated peer is trusted, but a bug on its side must not crash us. */
function isMonitorBeat(v: unknown): v is MonitorBeat {
  if (typeof v !== 'object' || v === null) return false;
  const b = v as Record<string, unknown>;
  const str = (x: unknown): boolean => typeof x === 'string';
  const num = (x: unknown): boolean => typeof x === 'number' && Number.isFinite(x);
  const arr = (x: unknown, each: (e: Record<string, unknown>) => boolean): boolean =>
    Array.isArray(x) && x.every((e) => typeof e === 'object' && e !== null && each(e as Record<string, unknown>));
  return (
    str(b.from) &&
    str(b.bootId) &&
    num(b.seq) &&
    num(b.sentAtMs) &&
    num(b.epoch) &&
    Array.isArray(b.hears) &&
    b.hears.every(str) &&
    (b.vote === null || str(b.vote)) &&
    typeof b.acting === 'boolean' &&
    typeof b.paused === 'boolean' &&
    arr(b.verdicts, (e) => str(e.host) && (e.level === 'suspect' || e.level === 'dead') && str(e.bootId)) &&
    arr(b.decisions, (e) => str(e.host) && str(e.state) && str(e.bootId) && num(e.sinceMs) && num(e.fenceAttempts)) &&
    arr(b.maintenance, (e) => str(e.host) && typeof e.on === 'boolean' && num(e.atMs) && str(e.by)) &&
    (b.clears === undefined || arr(b.clears, (e) => str(e.host) && num(e.atMs) && str(e.by))) &&
    (b.forgets === undefined || arr(b.forgets, (e) => str(e.host) && num(e.atMs) && str(e.by)))
  );
}

/** Boot ids are 16 random bytes, carried as 32 hex characters. */
export function bootIdBytes(bootId: string): Buffer {
  const b = Buffer.from(bootId, 'hex');
  if (b.length !== 16) throw new RangeError(`boot id must be 32 hex characters: '${bootId}'`);
  return b;
}
