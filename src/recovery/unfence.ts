import { componentLogger, type Logger } from '../log.js';
import type { ComputeClient } from '../openstack/compute.js';
import { OpenStackApiError } from '../openstack/errors.js';
import { IN_FLIGHT_MIGRATION } from '../openstack/types.js';
import type { UnfenceConfig } from './config.js';
import { sleep } from './limiter.js';

export type UnfenceCompute = Pick<ComputeClient, 'setForcedDown' | 'setServiceEnabled' | 'listMigrations' | 'findService'>;

export interface UnfenceDeps {
  compute: UnfenceCompute;
  log: Logger;
  cfg: UnfenceConfig;
  /** Powers the host on through its fence device (the fencing area provides it). */
  powerOn?: (host: string, signal: AbortSignal) => Promise<void>;
  /** True once the host's beacon is healthy again; absent: not checked. */
  isHealthy?: (host: string) => Promise<boolean>;
  now?: () => number;
  /** One line per step for an operator watching (the CLI prints them); what Nova answered, what is awaited. */
  progress?: (line: string) => void;
}

export type UnfenceResult = { ok: true; attempts: number; durationMs: number } | { ok: false; reason: string; attempts: number };

/**
 * Returns a host to service: optional power-on, wait for health, clear forced_down, enable.
 * Nova refuses (400) to clear forced_down while `done` evacuation records remain — they turn
 * `completed` only once the returned host's nova-compute has restarted — so that 400 is retried
 * until cfg.timeoutMs. Never while one of the host's evacuations is still accepted/pre-migrating.
 */
export async function unfenceHost(host: string, opts: { powerOn?: boolean }, d: UnfenceDeps, signal: AbortSignal): Promise<UnfenceResult> {
  const now = d.now ?? Date.now;
  const log = componentLogger(d.log, 'unfence', { host });
  const started = now();
  let attempts = 0;
  const say = (line: string): void => d.progress?.(`${host} +${((now() - started) / 1000).toFixed(1)}s: ${line}`);
  if (opts.powerOn) {
    if (!d.powerOn) return { ok: false, reason: 'power-on requested but no fence device can power this host on', attempts };
    say('powering on through its fence topology');
    await d.powerOn(host, signal);
    log.info('host powered on');
    say('powered on');
  }
  say(
    `returning to service: waits for ${d.isHealthy ? 'its beacon to be healthy on this monitor, then ' : ''}no evacuation in flight, ` +
      `then clears forced_down and enables nova-compute (retry every ${secs(d.cfg.retryIntervalMs)}, gives up after ${secs(d.cfg.timeoutMs)})`,
  );
  for (;;) {
    if (now() - started > d.cfg.timeoutMs) {
      return { ok: false, reason: `still refused after ${d.cfg.timeoutMs}ms; host left forced down and disabled`, attempts };
    }
    attempts++;
    const step = await tryOnce(host, d, signal, (l) => say(`attempt ${attempts}: ${l}`));
    if (step === 'ok') {
      log.info({ attempts, ms: now() - started }, 'host returned to service');
      return { ok: true, attempts, durationMs: now() - started };
    }
    log.info({ attempts, why: step }, 'host not ready to return; retrying');
    say(`attempt ${attempts}: ${step}; next try in ${secs(d.cfg.retryIntervalMs)}`);
    await sleep(d.cfg.retryIntervalMs, signal);
  }
}

function secs(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.round(ms / 1000)}s`;
}

async function tryOnce(host: string, d: UnfenceDeps, signal: AbortSignal, say: (line: string) => void): Promise<'ok' | string> {
  if (d.isHealthy && !(await d.isHealthy(host)))
    return 'waiting for its beacon to be heard healthy on this monitor (start the host and its beacon)';
  const moving = (await d.compute.listMigrations({ sourceCompute: host }, signal)).filter((m) => IN_FLIGHT_MIGRATION.has(m.status));
  if (moving.length) return `waiting: ${moving.length} evacuation(s) from this host still in flight in Nova`;
  try {
    await d.compute.setForcedDown(host, false, signal);
  } catch (err) {
    if (err instanceof OpenStackApiError && err.isDoneMigrationsRemain)
      return "Nova answered 400 to clearing forced_down: 'done' evacuation records remain until the host's nova-compute restarts";
    throw err;
  }
  say('Nova cleared forced_down');
  // Enable only after forced_down is cleared: an enabled service that is forced down gets nothing,
  // and the order mirrors the fence (force-down, then disable).
  await d.compute.setServiceEnabled(host, true, undefined, signal);
  say('Nova enabled the nova-compute service');
  return 'ok';
}
