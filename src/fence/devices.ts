/**
 * A fence device as the fencer sees it: run one action, get a typed result. Two kinds: any
 * ClusterLabs agent run as a subprocess, and the in-process agents (`native-ipmi`,
 * `native-redfish`), which spare the monitor a process start per fence.
 */
import { runPowerAction, type PowerState } from '../fence-agent/power-loop.js';
import { secondsMs, validate } from '../fence-agent/options.js';
import type { Logger } from '../log.js';
import type { FenceDeviceConfig } from './config.js';
import { NATIVE_AGENTS, type NativeAgent } from './native-agents.js';
import { excerpt } from './redact.js';
import { runAgentProcess } from './runner.js';
import { timerMs } from '../timer-limit.js';

export type DeviceAction = 'off' | 'on' | 'reboot' | 'status';

export interface DeviceResult {
  ok: boolean;
  exitCode: number | null;
  /** Power state the device reported (status, or the state an off/on reached). */
  power?: PowerState;
  timedOut?: boolean;
  /** Redacted: safe for logs and records. */
  detail?: string;
  durationMs: number;
}

export interface FenceDevice {
  readonly name: string;
  readonly agent: string;
  readonly verify: boolean;
  run(action: DeviceAction, signal: AbortSignal): Promise<DeviceResult>;
}

export class AgentDevice implements FenceDevice {
  readonly name: string;
  readonly agent: string;
  readonly verify: boolean;

  constructor(
    private readonly cfg: FenceDeviceConfig,
    private readonly log: Logger,
  ) {
    this.name = cfg.name;
    this.agent = cfg.agent;
    this.verify = cfg.verify;
  }

  async run(action: DeviceAction, signal: AbortSignal): Promise<DeviceResult> {
    const options = this.cfg.password !== undefined ? { ...this.cfg.options, password: this.cfg.password } : this.cfg.options;
    const secrets = this.cfg.password !== undefined ? [this.cfg.password] : [];
    const r = await runAgentProcess(
      { path: this.cfg.agentPath ?? this.cfg.agent, action, options, secrets, timeoutMs: this.cfg.timeoutMs, signal },
      this.log,
    );
    const detail =
      [r.stderr, r.outcome === 'timeout' ? `timed out after ${this.cfg.timeoutMs}ms (process group killed)` : '']
        .filter(Boolean)
        .join('; ') ||
      r.stdout.trim() ||
      undefined;
    if (action === 'status') {
      const power = r.outcome === 'ok' ? 'on' : r.outcome === 'off' ? 'off' : undefined;
      return { ok: power !== undefined, exitCode: r.exitCode, power, timedOut: r.outcome === 'timeout', detail, durationMs: r.durationMs };
    }
    return {
      ok: r.outcome === 'ok',
      exitCode: r.exitCode,
      power: r.outcome === 'ok' && (action === 'off' || action === 'on') ? action : undefined,
      timedOut: r.outcome === 'timeout',
      detail,
      durationMs: r.durationMs,
    };
  }
}

/** `agent: native-ipmi` / `native-redfish`: an agent's logic in-process, one connection per action. */
export class NativeDevice implements FenceDevice {
  readonly name: string;
  readonly agent: string;
  readonly verify: boolean;
  private readonly opts: Map<string, string>;

  constructor(
    private readonly cfg: FenceDeviceConfig,
    private readonly native: NativeAgent,
    private readonly log: Logger,
  ) {
    this.name = cfg.name;
    this.agent = native.name;
    this.verify = cfg.verify;
    this.opts = new Map(Object.entries(cfg.options));
    if (cfg.password !== undefined) this.opts.set('password', cfg.password);
    validate(this.opts, native.definition.options); // applies the defaults (ipport, cipher, ...)
  }

  async run(action: DeviceAction, signal: AbortSignal): Promise<DeviceResult> {
    const started = Date.now();
    const ms = (): number => Date.now() - started;
    let timeout: AbortSignal | null = null;
    try {
      // Inside the try: AbortSignal.timeout throws ERR_OUT_OF_RANGE on a delay it cannot keep, and
      // a device must answer with a result, never an exception the fencer did not expect.
      timeout = AbortSignal.timeout(timerMs(this.cfg.timeoutMs));
      const both = AbortSignal.any([signal, timeout]);
      const r = await this.native.withDevice(this.opts, this.log, both, (dev) =>
        runPowerAction(
          dev,
          action,
          {
            method: this.opts.get('method') === 'cycle' ? 'cycle' : 'onoff',
            powerWaitMs: secondsMs(this.opts, 'power_wait'),
            powerTimeoutMs: secondsMs(this.opts, 'power_timeout'),
            pollMs: Math.max(10, secondsMs(this.opts, 'stonith_status_sleep')),
          },
          both,
        ),
      );
      const exitCode = action === 'status' && r.state === 'off' ? 2 : 0;
      return {
        ok: true,
        exitCode,
        power: r.state,
        durationMs: ms(),
        detail: r.already && action !== 'status' ? `already ${r.state}` : undefined,
      };
    } catch (err) {
      const secrets = this.cfg.password !== undefined ? [this.cfg.password] : [];
      return {
        ok: false,
        exitCode: 1,
        timedOut: timeout?.aborted ?? false,
        durationMs: ms(),
        detail: excerpt(err instanceof Error ? err.message : String(err), secrets),
      };
    }
  }
}

export function createDevice(cfg: FenceDeviceConfig, log: Logger): FenceDevice {
  const native = NATIVE_AGENTS.get(cfg.agent);
  return native ? new NativeDevice(cfg, native, log) : new AgentDevice(cfg, log);
}
