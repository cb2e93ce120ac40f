/**
 * The fence agents the monitor runs in-process (no process start per fence): each is the same
 * definition as the agents/ executable of the same protocol, so options, validation and
 * behaviour are one code path whether an operator runs `fence_ipmi` by hand or the fencer runs
 * `native-ipmi`.
 */
import { fenceIpmi, withIpmiPowerDevice } from '../fence-agent/ipmi-agent.js';
import type { AgentDefinition } from '../fence-agent/main.js';
import { isTrue, type ParsedOptions } from '../fence-agent/options.js';
import type { Logger } from '../log.js';
import type { PowerDevice } from '../fence-agent/power-loop.js';
import { fenceRedfishNative, withRedfishPowerDevice } from '../fence-agent/redfish-agent.js';
import { NATIVE_IPMI, NATIVE_REDFISH } from './agents.js';

export interface NativeAgent {
  /** `agent:` in the fencing config. */
  name: string;
  /** The executable with the same definition, for messages ("see fence_ipmi -o metadata"). */
  executable: string;
  definition: AgentDefinition;
  withDevice<T>(opts: ParsedOptions, log: Logger, signal: AbortSignal, fn: (dev: PowerDevice) => Promise<T>): Promise<T>;
}

export const NATIVE_AGENTS: ReadonlyMap<string, NativeAgent> = new Map([
  [
    NATIVE_IPMI,
    {
      name: NATIVE_IPMI,
      executable: 'fence_ipmi',
      definition: fenceIpmi,
      withDevice: (o, log, s, fn) => withIpmiPowerDevice(o, log, s, fn),
    },
  ],
  [
    NATIVE_REDFISH,
    {
      name: NATIVE_REDFISH,
      executable: 'fence_redfish_native',
      definition: fenceRedfishNative,
      withDevice: (o, log, s, fn) => {
        if (isTrue(o.get('ssl_insecure'))) log.warn({ device: o.get('ip') }, 'Redfish BMC certificate not verified (ssl_insecure)');
        return withRedfishPowerDevice(o, s, fn);
      },
    },
  ],
]);
