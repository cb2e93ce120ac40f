/**
 * Public API of fencing, for the monitor's wiring:
 *
 *   const problems: ConfigProblem[] = [];
 *   const fencing = readFencingConfig(ObjectReader.root(doc, problems).object('fencing'));
 *   problems.push(...(await checkFencingAgents(fencing, log)));      // config-check time
 *   const { fencer, close } = await startFencing({ config: fencing, log, monitorId });
 *   const record = await fencer.fence(host, signal);                  // Fencer port
 */
import type { MonitorId } from '../core/events.js';
import type { Logger } from '../log.js';
import type { FencingConfig } from './config.js';
import { TopologyFencer } from './fencer.js';
import { KdumpListener } from './kdump.js';

export {
  readFencingConfig,
  FENCING_DEFAULTS,
  type FencingConfig,
  type FenceDeviceConfig,
  type HostTopology,
  type KdumpConfig,
} from './config.js';
export { checkFencingAgents, readAgentMetadata } from './check.js';
export { TopologyFencer, type FencerDeps, type HostActionResult, type KdumpWaiter } from './fencer.js';
export { KdumpListener } from './kdump.js';
export type { DeviceAction } from './devices.js';

/** Builds the fencer; starts the fence_kdump listener when `fencing.kdump.enabled`. */
export async function startFencing(deps: {
  config: FencingConfig;
  log: Logger;
  monitorId: MonitorId;
}): Promise<{ fencer: TopologyFencer; close: () => Promise<void> }> {
  const kdump = deps.config.kdump.enabled ? await KdumpListener.start(deps.config.kdump, deps.log) : undefined;
  const fencer = new TopologyFencer({ ...deps, kdump });
  return { fencer, close: async () => kdump?.close() };
}
