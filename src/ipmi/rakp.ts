/**
 * RMCP+ session establishment payloads (IPMI v2.0 rev 1.1 §13.17 Open Session Request/Response,
 * §13.20–§13.23 RAKP Messages 1–4, §13.31 RAKP-HMAC-SHA1 authentication codes and SIK). Both the
 * console side (our client) and the BMC side (the simulated BMC) are here. Pure: no I/O.
 */
import { hmacSha1 } from './crypto.js';
import { IpmiProtocolError } from './errors.js';

/** Algorithm numbers (§13.28, Tables 13-17/18/19). Cipher suite 3 = SHA1 / SHA1-96 / AES-CBC-128 (Table 22-20). */
export const Alg = { authHmacSha1: 0x01, integrityHmacSha1_96: 0x01, confAesCbc128: 0x01 } as const;

export const Privilege = { callback: 1, user: 2, operator: 3, administrator: 4 } as const;
export type PrivilegeName = keyof typeof Privilege;

/** RAKP 1 role bit 4: name-only lookup (§13.20). ipmitool always sets it; ipmi_sim accepts it. */
export const ROLE_NAME_ONLY = 0x10;

export interface OpenSessionRequest {
  tag: number;
  maxPrivilege: number;
  consoleSessionId: number;
  auth: number;
  integrity: number;
  confidentiality: number;
}

export interface OpenSessionResponse {
  tag: number;
  status: number;
  maxPrivilege: number;
  consoleSessionId: number;
  bmcSessionId: number;
  auth: number;
  integrity: number;
  confidentiality: number;
}

function algRecord(type: number, alg: number): Buffer {
  return Buffer.from([type, 0, 0, 0x08, alg, 0, 0, 0]);
}

function readAlg(b: Buffer, off: number, type: number): number {
  if (b[off] !== type || b[off + 3] !== 0x08) throw new IpmiProtocolError(`malformed algorithm record of type ${type}`);
  return b[off + 4]! & 0x3f;
}

function need(b: Buffer, len: number, what: string): void {
  if (b.length < len) throw new IpmiProtocolError(`${what} truncated: ${b.length} of ${len} bytes`);
}

export function buildOpenSessionRequest(r: OpenSessionRequest): Buffer {
  const h = Buffer.alloc(8);
  h[0] = r.tag;
  h[1] = r.maxPrivilege;
  h.writeUInt32LE(r.consoleSessionId >>> 0, 4);
  return Buffer.concat([h, algRecord(0, r.auth), algRecord(1, r.integrity), algRecord(2, r.confidentiality)]);
}

export function parseOpenSessionRequest(b: Buffer): OpenSessionRequest {
  need(b, 32, 'Open Session Request');
  return {
    tag: b[0]!,
    maxPrivilege: b[1]! & 0x0f,
    consoleSessionId: b.readUInt32LE(4),
    auth: readAlg(b, 8, 0),
    integrity: readAlg(b, 16, 1),
    confidentiality: readAlg(b, 24, 2),
  };
}

/** A non-zero status carries only tag, status, privilege and console session ID (§13.18). */
export function parseOpenSessionResponse(b: Buffer): OpenSessionResponse {
  need(b, 8, 'Open Session Response');
  const head = { tag: b[0]!, status: b[1]!, maxPrivilege: b[2]! & 0x0f, consoleSessionId: b.readUInt32LE(4) };
  if (head.status !== 0) return { ...head, bmcSessionId: 0, auth: 0, integrity: 0, confidentiality: 0 };
  need(b, 36, 'Open Session Response');
  return {
    ...head,
    bmcSessionId: b.readUInt32LE(8),
    auth: readAlg(b, 12, 0),
    integrity: readAlg(b, 20, 1),
    confidentiality: readAlg(b, 28, 2),
  };
}

export function buildOpenSessionResponse(r: OpenSessionResponse): Buffer {
  const h = Buffer.alloc(12);
  h[0] = r.tag;
  h[1] = r.status;
  h[2] = r.maxPrivilege;
  h.writeUInt32LE(r.consoleSessionId >>> 0, 4);
  if (r.status !== 0) return h.subarray(0, 8);
  h.writeUInt32LE(r.bmcSessionId >>> 0, 8);
  return Buffer.concat([h, algRecord(0, r.auth), algRecord(1, r.integrity), algRecord(2, r.confidentiality)]);
}

export interface Rakp1 {
  tag: number;
  bmcSessionId: number;
  rm: Buffer;
  role: number;
  username: string;
}

export function buildRakp1(r: Rakp1): Buffer {
  const name = Buffer.from(r.username, 'utf8');
  if (name.length > 16) throw new RangeError('IPMI user names are at most 16 bytes');
  const b = Buffer.alloc(28 + name.length);
  b[0] = r.tag;
  b.writeUInt32LE(r.bmcSessionId >>> 0, 4);
  r.rm.copy(b, 8);
  b[24] = r.role;
  b[27] = name.length;
  name.copy(b, 28);
  return b;
}

export function parseRakp1(b: Buffer): Rakp1 {
  need(b, 28, 'RAKP 1');
  const len = b[27]!;
  need(b, 28 + len, 'RAKP 1 user name');
  return {
    tag: b[0]!,
    bmcSessionId: b.readUInt32LE(4),
    rm: Buffer.from(b.subarray(8, 24)),
    role: b[24]!,
    username: b.subarray(28, 28 + len).toString('utf8'),
  };
}

export interface Rakp2 {
  tag: number;
  status: number;
  consoleSessionId: number;
  rc: Buffer;
  guid: Buffer;
  authCode: Buffer;
}

/** RAKP 2–4 open with: message tag, status code, 2 reserved bytes, a session id (IPMI v2.0 §13.21–13.23). */
function rakpHeader(tag: number, status: number, sessionId: number): Buffer {
  const h = Buffer.alloc(8);
  h[0] = tag;
  h[1] = status;
  h.writeUInt32LE(sessionId >>> 0, 4);
  return h;
}

function parseRakpHeader(b: Buffer, what: string): { tag: number; status: number; sessionId: number } {
  need(b, 8, what);
  return { tag: b[0]!, status: b[1]!, sessionId: b.readUInt32LE(4) };
}

export function parseRakp2(b: Buffer): Rakp2 {
  const { tag, status, sessionId } = parseRakpHeader(b, 'RAKP 2');
  const head = { tag, status, consoleSessionId: sessionId };
  if (head.status !== 0) return { ...head, rc: Buffer.alloc(0), guid: Buffer.alloc(0), authCode: Buffer.alloc(0) };
  need(b, 60, 'RAKP 2');
  return { ...head, rc: Buffer.from(b.subarray(8, 24)), guid: Buffer.from(b.subarray(24, 40)), authCode: Buffer.from(b.subarray(40, 60)) };
}

export function buildRakp2(r: Rakp2): Buffer {
  const h = rakpHeader(r.tag, r.status, r.consoleSessionId);
  return r.status !== 0 ? h : Buffer.concat([h, r.rc, r.guid, r.authCode]);
}

export interface Rakp3 {
  tag: number;
  status: number;
  bmcSessionId: number;
  authCode: Buffer;
}

export function buildRakp3(r: Rakp3): Buffer {
  return Buffer.concat([rakpHeader(r.tag, r.status, r.bmcSessionId), r.authCode]);
}

export function parseRakp3(b: Buffer): Rakp3 {
  const { tag, status, sessionId } = parseRakpHeader(b, 'RAKP 3');
  return { tag, status, bmcSessionId: sessionId, authCode: Buffer.from(b.subarray(8, 28)) };
}

export interface Rakp4 {
  tag: number;
  status: number;
  consoleSessionId: number;
  icv: Buffer;
}

export function parseRakp4(b: Buffer): Rakp4 {
  const { tag, status, sessionId } = parseRakpHeader(b, 'RAKP 4');
  const head = { tag, status, consoleSessionId: sessionId };
  if (head.status !== 0) return { ...head, icv: Buffer.alloc(0) };
  need(b, 20, 'RAKP 4');
  return { ...head, icv: Buffer.from(b.subarray(8, 20)) };
}

export function buildRakp4(r: Rakp4): Buffer {
  const h = Buffer.alloc(8);
  h[0] = r.tag;
  h[1] = r.status;
  h.writeUInt32LE(r.consoleSessionId >>> 0, 4);
  return Buffer.concat([h, r.icv]);
}

/** What both sides know after RAKP 2; the inputs of every RAKP-HMAC-SHA1 code (§13.31). */
export interface RakpContext {
  consoleSessionId: number;
  bmcSessionId: number;
  rm: Buffer;
  rc: Buffer;
  guid: Buffer;
  role: number;
  username: string;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}

function nameField(c: RakpContext): Buffer {
  const name = Buffer.from(c.username, 'utf8');
  return Buffer.concat([Buffer.from([c.role, name.length]), name]);
}

/** RAKP 2 key exchange auth code: HMAC(Kuid, SIDm‖SIDc‖Rm‖Rc‖GUIDc‖ROLEm‖ULENm‖UNAMEm). */
export function rakp2AuthCode(kuid: Buffer, c: RakpContext): Buffer {
  return hmacSha1(kuid, u32(c.consoleSessionId), u32(c.bmcSessionId), c.rm, c.rc, c.guid, nameField(c));
}

/** RAKP 3 key exchange auth code: HMAC(Kuid, Rc‖SIDm‖ROLEm‖ULENm‖UNAMEm). */
export function rakp3AuthCode(kuid: Buffer, c: RakpContext): Buffer {
  return hmacSha1(kuid, c.rc, u32(c.consoleSessionId), nameField(c));
}

/** Session Integrity Key: HMAC(Kg, Rm‖Rc‖ROLEm‖ULENm‖UNAMEm); Kg = Kuid when no BMC key is set. */
export function sessionIntegrityKey(kg: Buffer, c: RakpContext): Buffer {
  return hmacSha1(kg, c.rm, c.rc, nameField(c));
}

/** RAKP 4 integrity check value: HMAC-SHA1-96(SIK, Rm‖SIDc‖GUIDc). */
export function rakp4Icv(sik: Buffer, c: RakpContext): Buffer {
  return hmacSha1(sik, c.rm, u32(c.bmcSessionId), c.guid).subarray(0, 12);
}

/** RAKP status codes worth a clear message (§13.24, Table 13-15). */
export function describeRakpStatus(status: number): string {
  switch (status) {
    case 0x01:
      return 'insufficient resources to create a session (the BMC session table is full)';
    case 0x02:
      return 'invalid session ID';
    case 0x0d:
      return 'unauthorized name (unknown user, or privilege not allowed for it)';
    case 0x09:
      return 'unauthorized role or privilege level requested';
    case 0x0f:
      return 'invalid integrity check value';
    case 0x11:
      return 'no cipher suite match with proposed security algorithms';
    case 0x12:
      return 'illegal or unrecognized parameter';
    default:
      return `status 0x${status.toString(16).padStart(2, '0')}`;
  }
}
