/**
 * The few IPMI commands a fence agent needs, as request data builders and response data parsers.
 * netFn/cmd numbers from IPMI v2.0 rev 1.1 Appendix G. Pure: no I/O.
 */
import { IpmiProtocolError } from './errors.js';

export const NetFn = { chassis: 0x00, app: 0x06 } as const;

export const Cmd = {
  /** §22.13 */
  getChannelAuthCapabilities: 0x38,
  /** §22.18 */
  setSessionPrivilegeLevel: 0x3b,
  /** §22.19 */
  closeSession: 0x3c,
  /** §28.2 */
  getChassisStatus: 0x01,
  /** §28.3 */
  chassisControl: 0x02,
} as const;

/** Chassis Control data byte (§28.3, Table 28-4). */
export const ChassisControl = { off: 0x00, on: 0x01, cycle: 0x02, reset: 0x03, soft: 0x05 } as const;
export type ChassisOp = keyof typeof ChassisControl;

/** Bit 7 asks for IPMI v2.0 extended data; channel 0Eh = the channel this request arrives on (§22.13). */
export function channelAuthCapabilitiesRequest(privilege: number): Buffer {
  return Buffer.from([0x8e, privilege & 0x0f]);
}

export interface ChannelAuthCapabilities {
  channel: number;
  supportsIpmi20: boolean;
}

export function parseChannelAuthCapabilities(data: Buffer): ChannelAuthCapabilities {
  if (data.length < 8) throw new IpmiProtocolError(`Get Channel Authentication Capabilities answer truncated: ${data.length} bytes`);
  // Byte 2 bit 7: extended capabilities present; byte 4 bit 1: IPMI v2.0 (RMCP+) supported.
  return { channel: data[0]!, supportsIpmi20: (data[1]! & 0x80) !== 0 && (data[3]! & 0x02) !== 0 };
}

export function closeSessionRequest(bmcSessionId: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(bmcSessionId >>> 0);
  return b;
}

export type PowerState = 'on' | 'off';

/**
 * Get Chassis Status, byte 1 bit 0 = power is on (§28.2, Table 28-3). The spec has 3 mandatory
 * bytes and an optional front-panel byte (ipmi_sim sends 3); fewer is a malformed answer.
 */
export function parseChassisStatus(data: Buffer): { power: PowerState; powerFault: boolean } {
  if (data.length < 3) throw new IpmiProtocolError(`Get Chassis Status answer truncated: ${data.length} bytes`);
  return { power: (data[0]! & 0x01) !== 0 ? 'on' : 'off', powerFault: (data[0]! & 0x08) !== 0 };
}
