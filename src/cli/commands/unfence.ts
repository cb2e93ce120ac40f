import { parseArgs } from 'node:util';
import { loadConfig, parseConfig } from '../../config/load.js';
import { readMonitorConfig, type MonitorConfig } from '../../daemon/monitor-config.js';
import { controlRequest } from '../../control/client.js';
import type { StatusSnapshot } from '../../core/status-snapshot.js';
import { HaError } from '../../errors.js';
import { startFencing } from '../../fence/index.js';
import type { Logger } from '../../log.js';
import { createComputeClient } from '../../openstack/factory.js';
import type { FetchFn } from '../../openstack/http.js';
import { readComputeConfig, readRecoveryConfig, unfenceHost, type UnfenceDeps } from '../../recovery/index.js';
import { archiveJournal } from '../../recovery/journal.js';
import type { Io } from '../command.js';
import { humanLogger } from '../human-log.js';
import { operatorName } from '../control-socket.js';

const USAGE = 'Usage: instance-ha unfence HOST [--power-on] [--config FILE]';

export const UNFENCE_HELP = `${USAGE}

Returns a fenced, evacuated host to service: optionally powers it on through its own fence
topology (--power-on), waits until its beacon is healthy on the local monitor, clears forced_down
and re-enables its nova-compute service (retrying Nova's 400 while 'done' evacuation records
remain, until recovery.unfence.timeout), then tells the monitors to watch it again. Prints a line per
step as it goes: each attempt, what Nova answered, and what it is waiting for.
--config defaults to /etc/instance-ha/monitor.yaml.
Exit codes: 0 returned, 1 Nova still refuses (or the monitor did not clear it), 2 configuration or API error, 64 usage.

Example:
  instance-ha unfence compute-17 --power-on`;

const DEFAULT_CONFIG = '/etc/instance-ha/monitor.yaml';

/**
 * `instance-ha unfence HOST [--power-on] [--config FILE]`: powers the host on through its own fence
 * topology (when asked), waits for its beacon to be healthy on the local monitor, clears forced_down
 * and re-enables its compute service (retrying Nova's 400 while `done` evacuations remain), then
 * tells the monitor to watch the host again.
 */
export async function runUnfenceCommand(args: string[], io: Io): Promise<number> {
  // Usage first (exit 64, like every command), then the file (exit 78).
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: { 'power-on': { type: 'boolean', default: false }, config: { type: 'string' } },
    });
  } catch (err) {
    io.err(`${(err as Error).message}\n${USAGE}`);
    return 64;
  }
  if (parsed.positionals.length !== 1) {
    io.err(USAGE);
    return 64;
  }
  const host = parsed.positionals[0]!;
  const file = parsed.values.config ?? DEFAULT_CONFIG;
  const cfg = loadConfig(file, readMonitorConfig);
  const log = humanLogger();
  const fencing = cfg.fencing ? await startFencing({ config: cfg.fencing, log, monitorId: `${cfg.id}/unfence` }) : null;
  try {
    const code = await returnToServiceInNova(host, { powerOn: parsed.values['power-on'] }, recoverySections(cfg, file), {
      out: io.out,
      err: io.err,
      log,
      ...(fencing
        ? {
            powerOn: async (h: string, signal: AbortSignal) => {
              const r = await fencing.fencer.hostAction(h, 'on', signal);
              if (!r.ok) throw new Error(`power-on of ${h} failed`);
            },
          }
        : {}),
      isHealthy: async (h: string) => {
        const s = (await controlRequest(cfg.controlSocket, 'GET', '/status')).body as unknown as StatusSnapshot;
        return s.hosts.some((x) => x.host === h && x.localLevel === 'up' && x.lastHeartbeatAgeMs !== null && x.lastHeartbeatAgeMs < 5000);
      },
    });
    if (code !== 0) return code;
    return await watchAgain(host, cfg.controlSocket, io);
  } finally {
    await fencing?.close();
  }
}

/** The monitor config's compute and recovery sections; without a recovery section, their defaults (Nova from OS_* variables). */
function recoverySections(cfg: MonitorConfig, file: string): NonNullable<MonitorConfig['recovery']> {
  if (cfg.recovery) return cfg.recovery;
  return parseConfig('{}', file, (r) => ({
    compute: readComputeConfig(r.object('compute')),
    recovery: readRecoveryConfig(r.object('recovery')),
  }));
}

export interface ReturnToServiceDeps extends Pick<Io, 'out' | 'err'> {
  log: Logger;
  env?: NodeJS.ProcessEnv;
  fetch?: FetchFn;
  powerOn?: UnfenceDeps['powerOn'];
  isHealthy?: UnfenceDeps['isHealthy'];
  signal?: AbortSignal;
}

/**
 * Nova's half of unfence: clears forced_down and enables the host's compute service, then closes the
 * host's incident journal. Exit codes: 0 done, 1 Nova still refuses after the configured timeout,
 * 2 API error.
 */
export async function returnToServiceInNova(
  host: string,
  opts: { powerOn?: boolean },
  cfg: NonNullable<MonitorConfig['recovery']>,
  deps: ReturnToServiceDeps,
): Promise<number> {
  try {
    const compute = createComputeClient(cfg.compute, { log: deps.log, env: deps.env, fetch: deps.fetch });
    const res = await unfenceHost(
      host,
      opts,
      { compute, log: deps.log, cfg: cfg.recovery.unfence, powerOn: deps.powerOn, isHealthy: deps.isHealthy, progress: deps.out },
      deps.signal ?? new AbortController().signal,
    );
    if (res.ok) {
      // The incident is over: a later failure of this host must start a new recovery.
      archiveJournal(cfg.recovery.journalDir, host, Date.now());
      deps.out(`${host}: forced_down cleared and service enabled (${res.attempts} attempt(s), ${res.durationMs} ms)`);
      return 0;
    }
    deps.err(`${host}: not returned to service: ${res.reason}`);
    return 1;
  } catch (err) {
    deps.err(`unfence ${host}: ${err instanceof HaError ? err.message : String(err)}`);
    return 2;
  }
}

/** Tells the monitors to watch the host again and waits until the coordinator has applied it. */
async function watchAgain(host: string, socket: string, io: Pick<Io, 'out' | 'err'>): Promise<number> {
  io.out(`${host}: asking the monitors to watch it again (the coordinator clears its decision)`);
  const res = await controlRequest(socket, 'POST', '/clear', { host, by: operatorName() });
  if (res.status !== 200 && res.status !== 202) {
    io.err(`${host}: returned to service in Nova, but the monitor refused to clear its decision: ${String(res.body.error)}`);
    return 1;
  }
  // The request reaches the coordinator with this monitor's next heartbeat; wait to see it applied.
  const deadline = Date.now() + 10_000;
  for (;;) {
    const s = (await controlRequest(socket, 'GET', '/status')).body as unknown as StatusSnapshot;
    const state = s.hosts.find((x) => x.host === host)?.state;
    if (state === 'up' || state === 'suspect' || state === 'maintenance') break;
    if (Date.now() > deadline) {
      io.err(
        `${host}: returned to service in Nova, but the coordinator has not cleared its decision yet (state ${state}); check 'instance-ha status'`,
      );
      return 1;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  io.out(`${host}: watched again by the monitors`);
  return 0;
}
