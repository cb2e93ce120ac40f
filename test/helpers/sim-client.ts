import { silentLogger, type Logger } from '../../src/log.js';
import { ComputeClient } from '../../src/openstack/compute.js';
import type { HttpOptions } from '../../src/openstack/http.js';
import { KeystoneSession } from '../../src/openstack/keystone.js';
import type { NovaSim } from '../../src/testbed/nova-sim/server.js';
import { RECOVERY_DEFAULTS, type RecoveryConfig } from '../../src/recovery/config.js';
import type { ClusterEvent } from '../../src/core/events.js';

export function simHttp(log: Logger = silentLogger(), over: Partial<HttpOptions> = {}): HttpOptions {
  return { fetch, log, requestTimeoutMs: 2_000, retries: 4, minBackoffMs: 5, maxBackoffMs: 30, ...over };
}

export function simClient(
  sim: NovaSim,
  opts: { log?: Logger; http?: Partial<HttpOptions>; user?: string; password?: string; renewBeforeMs?: number } = {},
): { compute: ComputeClient; session: KeystoneSession } {
  const log = opts.log ?? silentLogger();
  const http = simHttp(log, opts.http);
  const session = new KeystoneSession({
    credentials: {
      authUrl: sim.authUrl,
      method: 'password',
      username: opts.user ?? 'admin',
      password: opts.password ?? 'admin',
      projectName: 'admin',
      interface: 'public',
      regionName: 'RegionOne',
    },
    http,
    log,
    renewBeforeMs: opts.renewBeforeMs ?? 0,
  });
  return { compute: new ComputeClient({ session, http, log }), session };
}

export function fastRecoveryConfig(journalDir: string, over: Partial<RecoveryConfig> = {}): RecoveryConfig {
  return {
    ...RECOVERY_DEFAULTS,
    journalDir,
    pollIntervalMs: 20,
    retryBackoffMs: 20,
    maxRetryBackoffMs: 100,
    instanceTimeoutMs: 10_000,
    ...over,
  };
}

export class EventLog {
  readonly events: ClusterEvent[] = [];
  publish(e: ClusterEvent): void {
    this.events.push(e);
  }
  ofType<T extends ClusterEvent['type']>(t: T): Array<Extract<ClusterEvent, { type: T }>> {
    return this.events.filter((e) => e.type === t) as Array<Extract<ClusterEvent, { type: T }>>;
  }
}
