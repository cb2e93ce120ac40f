/**
 * Chassis power over one IPMI session (Get Chassis Status §28.2, Chassis Control §28.3), as the
 * PowerDevice the shared fence loop drives. Used by the fence_ipmi agent and by the fencer's
 * in-process IPMI device alike.
 */
import type { PowerDevice } from '../fence-agent/power-loop.js';
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

export function ipmiPowerDevice(s: IpmiSession): PowerDevice {
  return {
    getPower: () => getPower(s),
    setPower: (state) => chassisControl(s, state),
    cycle: () => chassisControl(s, 'cycle'),
  };
}

export async function withIpmiSession<T>(opts: IpmiSessionOptions, fn: (s: IpmiSession) => Promise<T>): Promise<T> {
  const s = await IpmiSession.open(opts);
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}
