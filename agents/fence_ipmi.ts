/**
 * fence_ipmi: ClusterLabs fence agent for IPMI v2.0 lanplus BMCs, with a native RMCP+ client.
 * The definition (options, device) lives in src/fence-agent/ipmi-agent.ts, shared with the
 * fencer's in-process `native-ipmi` device.
 */
import { fenceIpmi } from '../src/fence-agent/ipmi-agent.js';
import { agentMain } from '../src/fence-agent/main.js';

await agentMain(fenceIpmi);
