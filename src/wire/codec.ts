import { timingSafeEqual } from 'node:crypto';
import { hmacFor } from './hmac.js';
import type { BeaconBeat, ComputeHealth, MonitorBeat } from '../core/messages.js';
import type { DropReason } from '../core/status-snapshot.js';
import { decodeHeaderBody, decodePageBody, type MonitorHeader, type ViewPage } from './monitor-format.js';

/**
 * Datagram format (all integers big-endian):
 *   "IHA" | version u8 (1) | kind u8 (1 beacon, 2 monitor) | body | HMAC-SHA256(key, everything before) [32]
 * Beacon body: bootId [16] | seq u32 | sentAtMs f64 | intervalMs u16 | health u8 | hostLen u8 | host utf8
 * Kind 2 (protocol 0.1 monitors): JSON of MonitorBeat. Still read, so a rolling upgrade from 0.1 keeps
 * quorum; no longer sent: it listed every non-up host and outgrew one datagram at ~740 of them.
 * Kinds 3 (monitor header) and 4 (monitor view page): monitor-format.ts, each ≤ 1,400 bytes sealed.
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
  | { ok: true; kind: 'monitor'; beat: MonitorBeat }
  | { ok: true; kind: 'monitor_header'; header: MonitorHeader }
  | { ok: true; kind: 'view_page'; page: ViewPage }
  | { ok: false; reason: DropReason };

export type { DropReason };

export function encodeBeacon(beat: BeaconBeat, key: Buffer): Buffer {
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
  return seal(1, body, key);
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

/** Authenticates then parses; never throws, whatever the bytes. */
export function decode(buf: Buffer, key: Buffer): Decoded {
  if (buf.length > MAX_DATAGRAM_BYTES) return { ok: false, reason: 'oversized' };
  if (buf.length < HEADER_BYTES + MAC_BYTES + 1) return { ok: false, reason: 'malformed' };
  if (buf[0] !== MAGIC[0] || buf[1] !== MAGIC[1] || buf[2] !== MAGIC[2] || buf[3] !== VERSION) return { ok: false, reason: 'malformed' };
  const macAt = buf.length - MAC_BYTES;
  const want = hmacFor(key).digest(buf.subarray(0, macAt));
  if (!timingSafeEqual(want, buf.subarray(macAt))) return { ok: false, reason: 'bad_mac' };
  const body = buf.subarray(HEADER_BYTES, macAt);
  try {
    switch (buf[4]) {
      case 1:
        return decodeBeaconBody(body);
      case 2:
        return decodeMonitorBody(body);
      case 3: {
        const header = decodeHeaderBody(body);
        return header ? { ok: true, kind: 'monitor_header', header } : { ok: false, reason: 'malformed' };
      }
      case 4: {
        const page = decodePageBody(body);
        return page ? { ok: true, kind: 'view_page', page } : { ok: false, reason: 'malformed' };
      }
      default:
        return { ok: false, reason: 'malformed' };
    }
  } catch {
    return { ok: false, reason: 'malformed' };
  }
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
