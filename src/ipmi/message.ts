/**
 * IPMI LAN message framing (IPMI v2.0 rev 1.1 §13.8, "IPMI LAN Message Format"): the bytes carried
 * inside a session, with the two two's-complement checksums. Pure: no I/O.
 */
import { IpmiProtocolError } from './errors.js';

/** Slave addresses: the BMC (§5.5) and the remote console's software ID (§5.5, 81h = remote console SWID). */
export const BMC_SA = 0x20;
export const CONSOLE_SWID = 0x81;

export interface IpmiRequest {
  netFn: number;
  cmd: number;
  /** 6-bit requester sequence number; the answer echoes it (§13.8). */
  rqSeq: number;
  data: Uint8Array;
}

export interface IpmiResponse {
  /** The response netFn (request netFn + 1). */
  netFn: number;
  cmd: number;
  rqSeq: number;
  completionCode: number;
  data: Buffer;
}

/** Two's-complement checksum: the bytes plus the checksum sum to 0 mod 256. */
export function checksum(bytes: Uint8Array, start: number, end: number): number {
  let sum = 0;
  for (let i = start; i < end; i++) sum = (sum + bytes[i]!) & 0xff;
  return (0x100 - sum) & 0xff;
}

function frame(
  rsSA: number,
  netFn: number,
  rsLun: number,
  rqSA: number,
  rqSeq: number,
  rqLun: number,
  cmd: number,
  body: Uint8Array,
): Buffer {
  const b = Buffer.alloc(7 + body.length);
  b[0] = rsSA;
  b[1] = ((netFn & 0x3f) << 2) | (rsLun & 3);
  b[2] = checksum(b, 0, 2);
  b[3] = rqSA;
  b[4] = ((rqSeq & 0x3f) << 2) | (rqLun & 3);
  b[5] = cmd;
  b.set(body, 6);
  b[6 + body.length] = checksum(b, 3, 6 + body.length);
  return b;
}

export function buildRequest(req: IpmiRequest): Buffer {
  return frame(BMC_SA, req.netFn, 0, CONSOLE_SWID, req.rqSeq, 0, req.cmd, req.data);
}

/** Used by the simulated BMC: responses swap the addresses and start the data with the completion code. */
export function buildResponse(res: IpmiResponse): Buffer {
  return frame(CONSOLE_SWID, res.netFn, 0, BMC_SA, res.rqSeq, 0, res.cmd, Buffer.concat([Buffer.from([res.completionCode]), res.data]));
}

function checkFrame(b: Buffer, minLen: number): void {
  if (b.length < minLen) throw new IpmiProtocolError(`IPMI message truncated: ${b.length} bytes`);
  if (checksum(b, 0, 2) !== b[2]) throw new IpmiProtocolError('IPMI message header checksum mismatch');
  if (checksum(b, 3, b.length - 1) !== b[b.length - 1]) throw new IpmiProtocolError('IPMI message data checksum mismatch');
}

export function parseResponse(b: Buffer): IpmiResponse {
  checkFrame(b, 8);
  if (b[0] !== CONSOLE_SWID || b[3] !== BMC_SA) throw new IpmiProtocolError('IPMI response not addressed from the BMC to this console');
  return { netFn: b[1]! >> 2, rqSeq: b[4]! >> 2, cmd: b[5]!, completionCode: b[6]!, data: Buffer.from(b.subarray(7, b.length - 1)) };
}

/** Used by the simulated BMC. */
export function parseRequest(b: Buffer): IpmiRequest {
  checkFrame(b, 7);
  if (b[0] !== BMC_SA) throw new IpmiProtocolError('IPMI request not addressed to the BMC');
  return { netFn: b[1]! >> 2, rqSeq: b[4]! >> 2, cmd: b[5]!, data: Buffer.from(b.subarray(6, b.length - 1)) };
}
