import type { GuestEventBeat } from '../core/guest-failures.js';

/**
 * Kind 7: a guest event a compute host's beacon reports about one of its own guests, sealed like a
 * heartbeat with that host's own key (codec.ts), so a host can speak for nothing but itself.
 *   bootId [16] | seq u32 | sentAtMs f64 | eventAtMs f64 | instance [16] | flags u8 (1 down)
 *   | dropped u16 | event str8 | action str8 | detail str8 | domain str8 | host str8
 * `seq` numbers the beacon's guest events (per boot id): the beacon sends each event a few times
 * (UDP may lose one) and monitors keep one. `dropped`: events the beacon's rate limit left out since
 * the previous one it sent. Every field is bounded, so the datagram is at most 55 + 5 × 256 + 37 =
 * 1,372 bytes (≤ 1,400).
 */
export const GUEST_KIND = 7;
const FIXED = 16 + 4 + 8 + 8 + 16 + 1 + 2;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function encodeGuestBody(g: GuestEventBeat): Buffer {
  if (!UUID.test(g.instance)) throw new RangeError(`instance must be a UUID: '${g.instance}'`);
  const strs = [g.event, g.action, g.detail, g.domain, g.host].map(str8);
  if (strs[4]!.length <= 1) throw new RangeError('host name must be 1-255 bytes');
  const body = Buffer.alloc(FIXED + strs.reduce((n, s) => n + s.length, 0));
  Buffer.from(g.bootId, 'hex').copy(body, 0, 0, 16);
  body.writeUInt32BE(g.seq >>> 0, 16);
  body.writeDoubleBE(g.sentAtMs, 20);
  body.writeDoubleBE(g.atMs, 28);
  Buffer.from(g.instance.replace(/-/g, ''), 'hex').copy(body, 36);
  body.writeUInt8(g.down ? 1 : 0, 52);
  body.writeUInt16BE(Math.min(65_535, Math.max(0, g.dropped)), 53);
  let at = FIXED;
  for (const s of strs) at += s.copy(body, at);
  return body;
}

/** null for anything that is not a well-formed guest body; never throws. */
export function decodeGuestBody(body: Buffer): GuestEventBeat | null {
  try {
    if (body.length < FIXED + 5) return null;
    const sentAtMs = body.readDoubleBE(20);
    const atMs = body.readDoubleBE(28);
    const flags = body.readUInt8(52);
    if (!Number.isFinite(sentAtMs) || !Number.isFinite(atMs) || flags > 1) return null;
    const hex = body.subarray(36, 52).toString('hex');
    const instance = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    const strs: string[] = [];
    let at = FIXED;
    for (let i = 0; i < 5; i++) {
      const len = body.readUInt8(at);
      if (at + 1 + len > body.length) return null;
      strs.push(body.subarray(at + 1, at + 1 + len).toString('utf8'));
      at += 1 + len;
    }
    if (at !== body.length) return null;
    const [event, action, detail, domain, host] = strs as [string, string, string, string, string];
    if (host.length === 0 || event.length === 0) return null;
    return {
      host,
      bootId: body.subarray(0, 16).toString('hex'),
      seq: body.readUInt32BE(16),
      sentAtMs,
      atMs,
      instance,
      down: flags === 1,
      dropped: body.readUInt16BE(53),
      event,
      action,
      detail,
      domain,
    };
  } catch {
    return null;
  }
}

/** A length byte and at most 255 bytes of UTF-8, cut on a character boundary. */
function str8(s: string): Buffer {
  let b = Buffer.from(s, 'utf8');
  if (b.length > 255) {
    let end = 255;
    while (end > 0 && (b[end]! & 0xc0) === 0x80) end--;
    b = b.subarray(0, end);
  }
  return Buffer.concat([Buffer.from([b.length]), b]);
}
