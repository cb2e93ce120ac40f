/**
 * Power operations over one session, shared by the fence_ipmi agent and the fencer's in-process
 * IPMI device: read the chassis power state, switch it, and wait until the state is reached by
 * polling Get Chassis Status (never by sleeping for a guessed time).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ChassisControl, Cmd, NetFn, parseChassisStatus, type ChassisOp, type PowerState } from './commands.js';
import { IpmiError } from './errors.js';
import { IpmiSession, SESSION_DEFAULTS, type IpmiSessionOptions } from './session.js';

export type { PowerState };

export async function getPower(s: IpmiSession): Promise<PowerState> {
  return parseChassisStatus(await s.command('Get Chassis Status', NetFn.chassis, Cmd.getChassisStatus, Buffer.alloc(0))).power;
}

export async function chassisControl(s: IpmiSession, op: ChassisOp): Promise<void> {
  await s.command(`Chassis Control (${op})`, NetFn.chassis, Cmd.chassisControl, Buffer.from([ChassisControl[op]]));
}

/** Polls until the power state is `want`; false when `timeoutMs` passes first. */
export async function waitForPower(s: IpmiSession, want: PowerState, timeoutMs: number, pollMs: number, signal?: AbortSignal): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await getPower(s)) === want) return true;
    const left = deadline - Date.now();
    if (left <= 0) return false;
    await sleep(Math.min(pollMs, left), undefined, { signal });
  }
}

export async function withIpmiSession<T>(opts: IpmiSessionOptions, fn: (s: IpmiSession) => Promise<T>): Promise<T> {
  const s = await IpmiSession.open(opts);
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

export type PowerAction = 'on' | 'off' | 'reboot' | 'status';

export interface PowerActionOptions {
  /** onoff: reboot = off, verify, on. cycle: one Chassis Control power cycle (not a verified fence). */
  method: 'onoff' | 'cycle';
  /** Extra wait after a power change, for BMCs that report the new state early. 0 by default. */
  powerWaitMs: number;
  /** Bound on reaching the requested state. */
  powerTimeoutMs: number;
  pollMs: number;
}

export const POWER_DEFAULTS: PowerActionOptions = { method: 'onoff', powerWaitMs: 0, powerTimeoutMs: 20_000, pollMs: 100 };

export interface PowerActionResult {
  /** Power state read at the end (for status, the state; for off/on, the verified state). */
  state: PowerState;
  /** The host was already in the requested state: nothing was switched. */
  already: boolean;
}

/**
 * The fence-agent loop (like fence-agents' fence_action): status first, switch only if needed,
 * then poll until the state is reached within powerTimeoutMs. Throws IpmiError on failure.
 */
export async function runPowerAction(s: IpmiSession, action: PowerAction, o: PowerActionOptions, signal?: AbortSignal): Promise<PowerActionResult> {
  const before = await getPower(s);
  if (action === 'status') return { state: before, already: true };
  if (action === 'off' || action === 'on') {
    if (before === action) return { state: before, already: true };
    await switchAndVerify(s, action, o, signal);
    return { state: action, already: false };
  }
  if (o.method === 'cycle') {
    // A cycle is not verifiable from outside (the host may be on again before we look).
    await chassisControl(s, before === 'on' ? 'cycle' : 'on');
    if (o.powerWaitMs > 0) await sleep(o.powerWaitMs, undefined, { signal });
    return { state: await getPower(s), already: false };
  }
  if (before === 'on') await switchAndVerify(s, 'off', o, signal);
  await switchAndVerify(s, 'on', o, signal);
  return { state: 'on', already: false };
}

async function switchAndVerify(s: IpmiSession, want: 'on' | 'off', o: PowerActionOptions, signal?: AbortSignal): Promise<void> {
  await chassisControl(s, want);
  if (o.powerWaitMs > 0) await sleep(o.powerWaitMs, undefined, { signal });
  if (!(await waitForPower(s, want, o.powerTimeoutMs, o.pollMs, signal))) {
    throw new IpmiError(`power did not reach ${want.toUpperCase()} within ${o.powerTimeoutMs}ms`);
  }
}

export { SESSION_DEFAULTS };
