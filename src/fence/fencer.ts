/**
 * The monitor's Fencer: powers a failed host off through its fencing topology and verifies it.
 * Levels are tried in order; a level succeeds only when every one of its devices is verified off
 * (off, then status reading OFF; an off that fails on a host whose status reads OFF — BMCs answer
 * 400/409 to "off" when already off — counts too). A power cycle is never used here: it cannot be
 * verified. Each device gets bounded retries with backoff; every try is recorded.
 */
import pRetry from 'p-retry';
import type { FenceAttempt, FenceRecord, HostId, MonitorId } from '../core/events.js';
import type { Fencer, PowerReading } from '../core/ports.js';
import { withDeadline } from '../deadline.js';
import { componentLogger, type Logger } from '../log.js';
import type { FencingConfig } from './config.js';
import { createDevice, type DeviceAction, type DeviceResult, type FenceDevice } from './devices.js';

/** Gives a host writing a crash dump bounded time before it is powered off (see kdump.ts). */
export interface KdumpWaiter {
  waitWhileDumping(
    host: HostId,
    addresses: readonly string[],
    signal: AbortSignal,
  ): Promise<{ dumping: boolean; waitedMs: number; gaveUp?: boolean }>;
}

export interface FencerDeps {
  config: FencingConfig;
  log: Logger;
  monitorId: MonitorId;
  /** Built from config.devices when absent (tests inject their own). */
  devices?: Map<string, FenceDevice>;
  kdump?: KdumpWaiter;
}

export interface HostActionResult {
  ok: boolean;
  /** Per device, for status: the power state read. */
  power: Record<string, string>;
  attempts: FenceAttempt[];
  error?: string;
}

class DeviceFailed extends Error {}

export class TopologyFencer implements Fencer {
  private readonly devices: Map<string, FenceDevice>;
  private readonly log: Logger;

  constructor(private readonly deps: FencerDeps) {
    this.log = componentLogger(deps.log, 'fence');
    this.devices = deps.devices ?? new Map([...deps.config.devices].map(([n, c]) => [n, createDevice(c, this.log)]));
  }

  async fence(host: HostId, signal: AbortSignal): Promise<FenceRecord> {
    const started = Date.now();
    const attempts: FenceAttempt[] = [];
    const done = (r: Omit<FenceRecord, 'durationMs' | 'attempts' | 'by'>): FenceRecord => {
      const rec: FenceRecord = { ...r, durationMs: Date.now() - started, attempts, by: this.deps.monitorId };
      if (rec.ok) this.log.info({ host, fenceLevel: rec.level, devices: rec.devices, durationMs: rec.durationMs }, 'host fenced');
      else this.log.error({ host, error: rec.error, durationMs: rec.durationMs }, 'host fence failed');
      return rec;
    };
    const topo = this.deps.config.hosts.get(host);
    if (!topo || topo.levels.length === 0) return done({ ok: false, error: `no fencing topology for host '${host}'` });

    const { kdump } = this.deps;
    if (kdump && this.deps.config.kdump.enabled && topo.kdumpAddresses.length > 0) {
      const k = await kdump.waitWhileDumping(host, topo.kdumpAddresses, signal);
      attempts.push({
        level: 0,
        device: 'kdump',
        agent: 'fence_kdump',
        action: 'wait',
        exitCode: null,
        ok: true,
        durationMs: k.waitedMs,
        detail: !k.dumping
          ? 'no crash dump in progress'
          : k.gaveUp
            ? 'crash dump still running at max_wait; fencing anyway'
            : 'waited for the crash dump to finish',
      });
    }
    // Who retries a fence (docs/fencing.md "Who retries a fence"): inside this one attempt, each device
    // gets `retries` more tries with a short backoff (offVerified) for faults a second try fixes, and a
    // failed level hands over to the next. A fault that outlasts all that is reported as one failed
    // record; whether and when to fence again is the core's decision (its backoff between attempts,
    // Coordinator.fenceBackoffMs), taken with the cluster's view of the host. Never loop here.
    const errors: string[] = [];
    for (const [i, names] of topo.levels.entries()) {
      const level = i + 1;
      let levelOk = true;
      for (const name of names) {
        if (signal.aborted) return done({ ok: false, error: 'fencing aborted' });
        const device = this.devices.get(name);
        if (!device) {
          errors.push(`level ${level}: unknown device '${name}'`);
          levelOk = false;
          break;
        }
        const err = await this.offVerified(host, level, device, attempts, signal);
        if (err) {
          errors.push(`level ${level} device ${name}: ${err}`);
          levelOk = false;
          break;
        }
      }
      if (levelOk) return done({ ok: true, level, devices: names, agent: this.devices.get(names[0]!)?.agent });
    }
    return done({ ok: false, error: errors.join('; ') || 'no level succeeded' });
  }

  /** Off, then verify; retried with backoff. Returns undefined on success, else the last reason. */
  private async offVerified(
    host: HostId,
    level: number,
    d: FenceDevice,
    attempts: FenceAttempt[],
    signal: AbortSignal,
  ): Promise<string | undefined> {
    const { retries, retryMinDelayMs, retryMaxDelayMs } = this.deps.config;
    const run = (action: DeviceAction): Promise<DeviceResult> => this.runRecorded(host, level, d, action, attempts, signal);
    try {
      await pRetry(
        async () => {
          const off = await run('off');
          if (!d.verify) {
            if (off.ok) return;
            // An off refused because the host is already off (BMCs answer 400/409, agents exit 1) is
            // a fence once the device's own status reads OFF: that is a verification, not a guess.
            const st = await run('status');
            if (st.ok && st.power === 'off') return;
            throw new DeviceFailed(`off failed (exit ${off.exitCode}): ${off.detail ?? ''}`.trim());
          }
          const st = await run('status');
          if (st.ok && st.power === 'off') return;
          if (!off.ok)
            throw new DeviceFailed(`off failed (exit ${off.exitCode}${off.timedOut ? ', timed out' : ''}): ${off.detail ?? ''}`.trim());
          throw new DeviceFailed(
            `power not verified off after off: status ${st.power ?? `failed (exit ${st.exitCode})`}${st.detail ? `: ${st.detail}` : ''}`,
          );
        },
        { retries, minTimeout: retryMinDelayMs, maxTimeout: retryMaxDelayMs, factor: 2, randomize: false, signal },
      );
      return undefined;
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  }

  private async runRecorded(
    host: HostId,
    level: number,
    d: FenceDevice,
    action: DeviceAction,
    attempts: FenceAttempt[],
    signal: AbortSignal,
  ): Promise<DeviceResult> {
    const r = await d.run(action, signal);
    const a: FenceAttempt = { level, device: d.name, agent: d.agent, action, exitCode: r.exitCode, ok: r.ok, durationMs: r.durationMs };
    if (r.detail) a.detail = r.detail;
    attempts.push(a);
    this.log[r.ok ? 'info' : 'warn'](
      {
        host,
        // Not `level`: pino's own key for the severity (a line with both loses one).
        fenceLevel: level,
        device: d.name,
        agent: d.agent,
        action,
        exitCode: r.exitCode,
        ok: r.ok,
        power: r.power,
        durationMs: r.durationMs,
        detail: r.detail,
      },
      'fence attempt',
    );
    return r;
  }

  /**
   * The early power check (Fencer.checkPower): a `status` on every device of the host's first level,
   * all at once, within `fencing.power_check.timeout`. Not recorded as fence attempts: it fences nothing.
   */
  async checkPower(host: HostId, signal: AbortSignal): Promise<PowerReading> {
    const topo = this.deps.config.hosts.get(host);
    const names = topo?.levels[0];
    if (!names?.length) return { off: false, read: false, detail: 'no fencing topology' };
    const untrusted = names.filter((n) => !this.devices.get(n)?.verify);
    if (untrusted.length)
      return { off: false, read: false, detail: `not trusted to verify (verify: false or unknown): ${untrusted.join(', ')}` };
    const readings = await withDeadline(signal, this.deps.config.powerCheck.timeoutMs, (bounded) =>
      Promise.all(
        names.map(async (n) => {
          try {
            const r = await this.devices.get(n)!.run('status', bounded);
            return { name: n, power: r.ok ? (r.power ?? 'unknown') : `failed${r.timedOut ? ' (timed out)' : ''}` };
          } catch (err) {
            return { name: n, power: `failed: ${String(err)}` };
          }
        }),
      ),
    );
    return {
      off: readings.every((r) => r.power === 'off'),
      read: readings.every((r) => r.power === 'off' || r.power === 'on'),
      detail: readings.map((r) => `${r.name}=${r.power}`).join(', '),
    };
  }

  /**
   * An operator action on a host's first level (all its devices): `status`, `on`, `reboot`, or a
   * verified `off` through the whole topology (as fence()).
   */
  async hostAction(host: HostId, action: DeviceAction, signal: AbortSignal): Promise<HostActionResult> {
    if (action === 'off') {
      const rec = await this.fence(host, signal);
      return { ok: rec.ok, power: {}, attempts: rec.attempts, error: rec.error };
    }
    const topo = this.deps.config.hosts.get(host);
    if (!topo || topo.levels.length === 0) return { ok: false, power: {}, attempts: [], error: `no fencing topology for host '${host}'` };
    const attempts: FenceAttempt[] = [];
    const power: Record<string, string> = {};
    let ok = true;
    for (const name of topo.levels[0]!) {
      const d = this.devices.get(name);
      if (!d) return { ok: false, power, attempts, error: `unknown device '${name}'` };
      const r = await this.runRecorded(host, 1, d, action, attempts, signal);
      if (r.power) power[name] = r.power;
      ok &&= r.ok;
    }
    return {
      ok,
      power,
      attempts,
      error: ok
        ? undefined
        : attempts
            .filter((a) => !a.ok)
            .map((a) => `${a.device}: ${a.detail ?? `exit ${a.exitCode}`}`)
            .join('; '),
    };
  }
}
