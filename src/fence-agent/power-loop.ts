/**
 * The shared fence loop (the role of fence-agents' `fence_action`): an agent or an in-process
 * device supplies only get/set power; this decides what to switch and verifies the result by
 * polling the power state until it is reached (bounded by powerTimeoutMs), never by sleeping for a
 * guessed time. `powerWaitMs` (0 by default) stays for BMCs that report a new state too early.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export type PowerState = 'on' | 'off';
export type PowerAction = 'on' | 'off' | 'reboot' | 'status';

export interface PowerDevice {
  getPower(): Promise<PowerState>;
  setPower(state: PowerState): Promise<void>;
  /** A hardware power cycle, for method=cycle; absent when the device has none. */
  cycle?(): Promise<void>;
}

export interface PowerLoopOptions {
  /** onoff: reboot = off, verify off, on. cycle: one power cycle (never a verified fence). */
  method: 'onoff' | 'cycle';
  powerWaitMs: number;
  powerTimeoutMs: number;
  /** Interval between status polls while waiting for a state. */
  pollMs: number;
}

export const POWER_LOOP_DEFAULTS: PowerLoopOptions = { method: 'onoff', powerWaitMs: 0, powerTimeoutMs: 20_000, pollMs: 100 };

export interface PowerLoopResult {
  /** The power state read last (for status, the state; for off/on, the verified state). */
  state: PowerState;
  /** Already in the requested state: nothing was switched ("Success: Already OFF"). */
  already: boolean;
}

export class PowerTimeoutError extends Error {
  constructor(
    readonly want: PowerState,
    readonly timeoutMs: number,
  ) {
    super(`power did not reach ${want.toUpperCase()} within ${timeoutMs}ms`);
    this.name = 'PowerTimeoutError';
  }
}

/** Polls until the power state is `want`; false when timeoutMs passes first. */
export async function waitForPower(
  dev: PowerDevice,
  want: PowerState,
  timeoutMs: number,
  pollMs: number,
  signal?: AbortSignal,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await dev.getPower()) === want) return true;
    const leftMs = deadline - Date.now();
    if (leftMs <= 0) return false;
    await sleep(Math.min(pollMs, leftMs), undefined, { signal });
  }
}

export async function runPowerAction(
  dev: PowerDevice,
  action: PowerAction,
  o: PowerLoopOptions,
  signal?: AbortSignal,
): Promise<PowerLoopResult> {
  const before = await dev.getPower();
  if (action === 'status') return { state: before, already: true };
  if (action === 'off' || action === 'on') {
    if (before === action) return { state: before, already: true };
    await switchAndVerify(dev, action, o, signal);
    return { state: action, already: false };
  }
  if (o.method === 'cycle' && dev.cycle) {
    // A cycle cannot be verified from outside (the host may be on again before we look).
    if (before === 'on') await dev.cycle();
    else await dev.setPower('on');
    if (o.powerWaitMs > 0) await sleep(o.powerWaitMs, undefined, { signal });
    return { state: await dev.getPower(), already: false };
  }
  if (before === 'on') await switchAndVerify(dev, 'off', o, signal);
  await switchAndVerify(dev, 'on', o, signal);
  return { state: 'on', already: false };
}

async function switchAndVerify(dev: PowerDevice, want: PowerState, o: PowerLoopOptions, signal?: AbortSignal): Promise<void> {
  await dev.setPower(want);
  if (o.powerWaitMs > 0) await sleep(o.powerWaitMs, undefined, { signal });
  if (!(await waitForPower(dev, want, o.powerTimeoutMs, o.pollMs, signal))) throw new PowerTimeoutError(want, o.powerTimeoutMs);
}
