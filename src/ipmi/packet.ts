/**
 * RMCP and session framing (IPMI v2.0 rev 1.1 §13.1 RMCP header, §13.6 IPMI v1.5 session header,
 * §13.6/Table 13-8 IPMI v2.0 RMCP+ session header and trailer, §13.28.4 integrity). Pure: no I/O.
 *
 * Session packets are authenticated (HMAC-SHA1-96 under K1) and encrypted (AES-CBC-128 under K2)
 * as cipher suite 3 requires; anything that fails a check throws IpmiProtocolError so the caller
 * drops it.
 */
import { randomBytes } from 'node:crypto';
import { aesDecrypt, aesEncrypt, hmacSha1, sameBytes } from './crypto.js';
import { IpmiProtocolError } from './errors.js';

/** RMCP header: version 6, reserved, sequence 0xFF (no RMCP ACK), class 7 = IPMI (§13.1.3). */
const RMCP_HEADER = Buffer.from([0x06, 0x00, 0xff, 0x07]);
const AUTHTYPE_NONE = 0x00;
const AUTHTYPE_RMCPP = 0x06;
const PT_ENCRYPTED = 0x80;
const PT_AUTHENTICATED = 0x40;
/** Next header byte in the session trailer: always 07h (§13.6, Table 13-8). */
const NEXT_HEADER = 0x07;
const AUTHCODE_LEN = 12;

/** RMCP+ payload types (§13.27.3). */
export const PayloadType = {
  ipmi: 0x00,
  openSessionRequest: 0x10,
  openSessionResponse: 0x11,
  rakp1: 0x12,
  rakp2: 0x13,
  rakp3: 0x14,
  rakp4: 0x15,
} as const;

export type Decoded =
  | { kind: 'v15'; sessionId: number; seq: number; message: Buffer }
  | { kind: 'v20'; payloadType: number; encrypted: boolean; authenticated: boolean; sessionId: number; seq: number; payload: Buffer };

/** Keys of an established session. Only suite 3 (HMAC-SHA1-96 + AES-CBC-128) is produced by this client. */
export interface SessionKeys {
  k1: Buffer;
  /** AES key: K2[0:16]. */
  aesKey: Buffer;
}

/** IPMI v1.5 framing with authtype NONE: used only for the pre-session Get Channel Auth Capabilities. */
export function encodeV15(message: Uint8Array, sessionId = 0, seq = 0): Buffer {
  const h = Buffer.alloc(10);
  h[0] = AUTHTYPE_NONE;
  h.writeUInt32LE(seq, 1);
  h.writeUInt32LE(sessionId, 5);
  h[9] = message.length;
  return Buffer.concat([RMCP_HEADER, h, message]);
}

/** An unauthenticated RMCP+ packet (session 0): Open Session and RAKP messages (§13.17–§13.23). */
export function encodeV20(payloadType: number, payload: Uint8Array): Buffer {
  const h = Buffer.alloc(12);
  h[0] = AUTHTYPE_RMCPP;
  h[1] = payloadType;
  h.writeUInt16LE(payload.length, 10);
  return Buffer.concat([RMCP_HEADER, h, payload]);
}

/** Parses the framing only; for an authenticated packet the AuthCode is checked by `openSecure`. */
export function decodePacket(b: Buffer): Decoded {
  if (b.length < 14) throw new IpmiProtocolError(`packet truncated: ${b.length} bytes`);
  if (b[0] !== 0x06 || b[3] !== 0x07) throw new IpmiProtocolError('not an RMCP/IPMI packet');
  const authType = b[4]!;
  if (authType === AUTHTYPE_NONE) {
    const len = b[13]!;
    if (b.length < 14 + len) throw new IpmiProtocolError('IPMI v1.5 packet truncated');
    return { kind: 'v15', seq: b.readUInt32LE(5), sessionId: b.readUInt32LE(9), message: Buffer.from(b.subarray(14, 14 + len)) };
  }
  if (authType !== AUTHTYPE_RMCPP) throw new IpmiProtocolError(`unsupported session authtype 0x${authType.toString(16)}`);
  if (b.length < 16) throw new IpmiProtocolError('RMCP+ header truncated');
  const pt = b[5]!;
  const len = b.readUInt16LE(14);
  if (b.length < 16 + len) throw new IpmiProtocolError(`RMCP+ payload truncated: header says ${len}, got ${b.length - 16}`);
  return {
    kind: 'v20',
    payloadType: pt & 0x3f,
    encrypted: (pt & PT_ENCRYPTED) !== 0,
    authenticated: (pt & PT_AUTHENTICATED) !== 0,
    sessionId: b.readUInt32LE(6),
    seq: b.readUInt32LE(10),
    payload: Buffer.from(b.subarray(16, 16 + len)),
  };
}

/** An in-session IPMI message, encrypted then authenticated (§13.6 trailer, §13.28.4, §13.29). */
export function sealSecure(
  keys: SessionKeys,
  sessionId: number,
  seq: number,
  message: Uint8Array,
  iv: Uint8Array = randomBytes(16),
): Buffer {
  const payload = aesEncrypt(keys.aesKey, iv, message);
  const h = Buffer.alloc(12);
  h[0] = AUTHTYPE_RMCPP;
  h[1] = PayloadType.ipmi | PT_ENCRYPTED | PT_AUTHENTICATED;
  h.writeUInt32LE(sessionId >>> 0, 2);
  h.writeUInt32LE(seq >>> 0, 6);
  h.writeUInt16LE(payload.length, 10);
  // Integrity pad: authtype … next header must be a multiple of 4 bytes.
  const padLen = (4 - ((h.length + payload.length + 2) % 4)) % 4;
  const trailer = Buffer.alloc(padLen + 2, 0xff);
  trailer[padLen] = padLen;
  trailer[padLen + 1] = NEXT_HEADER;
  const signed = Buffer.concat([h, payload, trailer]);
  return Buffer.concat([RMCP_HEADER, signed, hmacSha1(keys.k1, signed).subarray(0, AUTHCODE_LEN)]);
}

/**
 * Verifies and decrypts an in-session packet. Checks, in order: framing, that it is an encrypted and
 * authenticated IPMI payload, the trailer layout, the AuthCode, then the confidentiality pad. The
 * session ID and sequence number are returned for the caller to check against its session.
 */
export function openSecure(keys: SessionKeys, b: Buffer): { sessionId: number; seq: number; message: Buffer } {
  const d = decodePacket(b);
  if (d.kind !== 'v20') throw new IpmiProtocolError('expected an RMCP+ session packet, got IPMI v1.5');
  if (d.payloadType !== PayloadType.ipmi) throw new IpmiProtocolError(`unexpected payload type 0x${d.payloadType.toString(16)} in session`);
  if (!d.encrypted || !d.authenticated) throw new IpmiProtocolError('session packet not encrypted and authenticated as negotiated');
  const payloadEnd = 16 + d.payload.length;
  const rest = b.length - payloadEnd;
  if (rest < 2 + AUTHCODE_LEN) throw new IpmiProtocolError('session trailer truncated');
  const padLen = b[b.length - AUTHCODE_LEN - 2]!;
  if (b[b.length - AUTHCODE_LEN - 1] !== NEXT_HEADER) throw new IpmiProtocolError('session trailer next-header is not 07h');
  if (rest !== padLen + 2 + AUTHCODE_LEN) throw new IpmiProtocolError('session trailer length inconsistent');
  for (let i = payloadEnd; i < payloadEnd + padLen; i++) {
    if (b[i] !== 0xff) throw new IpmiProtocolError('integrity pad bytes are not FFh');
  }
  const signed = b.subarray(4, b.length - AUTHCODE_LEN);
  const expected = hmacSha1(keys.k1, signed).subarray(0, AUTHCODE_LEN);
  if (!sameBytes(expected, b.subarray(b.length - AUTHCODE_LEN)))
    throw new IpmiProtocolError('AuthCode mismatch (forged or corrupted packet)');
  return { sessionId: d.sessionId, seq: d.seq, message: aesDecrypt(keys.aesKey, d.payload) };
}
