/**
 * fence_redfish_native: ClusterLabs fence agent for Redfish BMCs, with an in-process client.
 * The definition (options, device) lives in src/fence-agent/redfish-agent.ts, shared with the
 * fencer's in-process `native-redfish` device.
 */
import { fenceRedfishNative } from '../src/fence-agent/redfish-agent.js';
import { agentMain } from '../src/fence-agent/main.js';

await agentMain(fenceRedfishNative);
