/**
 * Chassis power over one IPMI session (Get Chassis Status §28.2, Chassis Control §28.3).
 *
 * src/ipmi is a protocol client and nothing else: it imports only node:*, its own files and the
 * shared error type (../errors.js), and logs through its own IpmiLogger port. Fencing depends on it,
 * never the reverse: src/fence-agent/ipmi-agent.ts is the one place that adapts a session to the
 * agent framework's PowerDevice (for the fence_ipmi agent and the fencer's native-ipmi device alike).
 */
import { ChassisControl, Cmd, NetFn, parseChassisStatus, type ChassisOp, type PowerState } from './commands.js';
import { IpmiSession, type IpmiSessionOptions } from './session.js';

export type { PowerState };

export async function getPower(s: IpmiSession): Promise<PowerState> {
  return parseChassisStatus(await s.command('Get Chassis Status', NetFn.chassis, Cmd.getChassisStatus, Buffer.alloc(0))).power;
}

/**
 * off/on are idempotent and retransmitted like any request; cycle/reset are sent once, since a BMC
 * that executed the first copy (answer lost) would cycle the host twice.
 */
export async function chassisControl(s: IpmiSession, op: ChassisOp): Promise<void> {
  const idempotent = op === 'off' || op === 'on' || op === 'soft';
  await s.command(`Chassis Control (${op})`, NetFn.chassis, Cmd.chassisControl, Buffer.from([ChassisControl[op]]), undefined, idempotent);
}

export async function withIpmiSession<T>(opts: IpmiSessionOptions, fn: (s: IpmiSession) => Promise<T>): Promise<T> {
  const s = await IpmiSession.open(opts);
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}
