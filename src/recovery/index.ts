/**
 * The recovery area's public surface, for the daemon's wiring:
 *   const { compute, recovery } = ... readComputeConfig / readRecoveryConfig on the monitor YAML
 *   const recoverer = createNovaRecoverer({ compute, recovery }, { log, events });
 *   await recoverer.recover(host, fenceRecord, signal);
 */
import type { EventSink } from '../core/ports.js';
import type { Logger } from '../log.js';
import type { ComputeConfig } from '../openstack/config.js';
import { createComputeClient } from '../openstack/factory.js';
import type { FetchFn } from '../openstack/http.js';
import type { RecoveryConfig } from './config.js';
import type { BrokerConfig } from '../notify/connection.js';
import { NovaRecoverer } from './workflow.js';

export { NovaRecoverer, type NovaRecovererDeps } from './workflow.js';
export {
  readComputeConfig,
  readRecoveryConfig,
  RECOVERY_DEFAULTS,
  COMPUTE_DEFAULTS,
  type RecoveryConfig,
  type ComputeConfig,
} from './config.js';
export { unfenceHost, type UnfenceDeps, type UnfenceResult } from './unfence.js';

export function createNovaRecoverer(
  cfg: { compute: ComputeConfig; recovery: RecoveryConfig },
  deps: { log: Logger; events: EventSink; env?: NodeJS.ProcessEnv; fetch?: FetchFn; broker?: BrokerConfig | null },
): NovaRecoverer {
  const compute = createComputeClient(cfg.compute, { log: deps.log, env: deps.env, fetch: deps.fetch });
  return new NovaRecoverer({
    compute,
    events: deps.events,
    log: deps.log,
    cfg: cfg.recovery,
    broker: deps.broker ?? null,
    tokenRenewBeforeMs: cfg.compute.tokenRenewBeforeMs,
  });
}
