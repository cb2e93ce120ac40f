/**
 * The cipher suite 3 primitives (IPMI v2.0 rev 1.1 §13.28–§13.32): RAKP-HMAC-SHA1 key exchange,
 * HMAC-SHA1-96 integrity, AES-CBC-128 confidentiality. Pure functions over node:crypto.
 */
import { createCipheriv, createDecipheriv, createHmac, timingSafeEqual } from 'node:crypto';
import { IpmiProtocolError } from './errors.js';

export function hmacSha1(key: Uint8Array, ...parts: Uint8Array[]): Buffer {
  const h = createHmac('sha1', key);
  for (const p of parts) h.update(p);
  return h.digest();
}

/** Constant-time comparison, false (not a throw) on a length mismatch. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Kuid: the user's password as a 20-byte key, zero padded (§13.31; 20 bytes = IPMI 2.0 password size). */
export function passwordKey(password: string): Buffer {
  const raw = Buffer.from(password, 'utf8');
  if (raw.length > 20) throw new RangeError('IPMI v2.0 passwords are at most 20 bytes');
  const k = Buffer.alloc(20);
  raw.copy(k);
  return k;
}

/** K1 (integrity) and K2 (confidentiality) from the SIK: HMAC(SIK, const_n) with const_n = 20 bytes of n (§13.32). */
export function deriveK(sik: Uint8Array, n: 1 | 2): Buffer {
  return hmacSha1(sik, Buffer.alloc(20, n));
}

/** AES-CBC-128 payload (§13.29): IV ‖ E(data ‖ 01 02 … n ‖ n), the pad making the plaintext a multiple of 16. */
export function aesEncrypt(key16: Uint8Array, iv: Uint8Array, data: Uint8Array): Buffer {
  const padLen = (16 - ((data.length + 1) % 16)) % 16;
  const plain = Buffer.alloc(data.length + padLen + 1);
  plain.set(data, 0);
  for (let i = 1; i <= padLen; i++) plain[data.length + i - 1] = i;
  plain[plain.length - 1] = padLen;
  const c = createCipheriv('aes-128-cbc', key16, iv).setAutoPadding(false);
  return Buffer.concat([Buffer.from(iv), c.update(plain), c.final()]);
}

/** Reverses aesEncrypt, rejecting a payload whose length or confidentiality pad is wrong. */
export function aesDecrypt(key16: Uint8Array, payload: Buffer): Buffer {
  if (payload.length < 32 || payload.length % 16 !== 0)
    throw new IpmiProtocolError(`encrypted payload of ${payload.length} bytes is not IV + n×16`);
  const d = createDecipheriv('aes-128-cbc', key16, payload.subarray(0, 16)).setAutoPadding(false);
  const plain = Buffer.concat([d.update(payload.subarray(16)), d.final()]);
  const padLen = plain[plain.length - 1]!;
  if (padLen > 15 || padLen + 1 > plain.length) throw new IpmiProtocolError(`confidentiality pad length ${padLen} invalid`);
  const dataLen = plain.length - 1 - padLen;
  for (let i = 1; i <= padLen; i++) {
    if (plain[dataLen + i - 1] !== i) throw new IpmiProtocolError('confidentiality pad bytes invalid');
  }
  return plain.subarray(0, dataLen);
}
