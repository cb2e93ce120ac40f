import { metadataXml } from '../../fence-agent/options.js';
import { resolveAgent } from '../../fence/agents.js';
import { NATIVE_AGENTS } from '../../fence/native-agents.js';
import { METADATA_TIMEOUT_MS } from '../../fence/check.js';
import { parseAgentMetadata } from '../../fence/metadata.js';
import { runAgentProcess } from '../../fence/runner.js';
import type { Logger } from '../../log.js';
import type { Io } from '../command.js';
import { humanLogger } from '../human-log.js';

export const AGENTS_HELP = `Usage: instance-ha agents metadata AGENT

Prints a fence agent's metadata XML (native-ipmi, native-redfish, fence_ipmi, fence_redfish_native, fence_ipmilan, any fence_* or a path).

Example
  instance-ha agents metadata fence_ipmi
`;

const USAGE = 'Usage: instance-ha agents metadata AGENT   (AGENT: native-ipmi, native-redfish, fence_ipmi, fence_ipmilan, … or a path)';

/** `instance-ha agents metadata AGENT`. Exit 0 printed, 1 not found or not a fence agent, 64 usage. */
export async function runAgentsCommand(args: readonly string[], io: Pick<Io, 'out' | 'err'>, log: Logger = humanLogger()): Promise<number> {
  if (args[0] !== 'metadata' || args.length !== 2) {
    io.err(USAGE);
    return 64;
  }
  const agent = args[1]!;
  const native = NATIVE_AGENTS.get(agent);
  if (native) {
    io.out(metadataXml({ ...native.definition.docs, name: native.name }, native.definition.options).trimEnd());
    return 0;
  }
  const path = resolveAgent(agent);
  if (!path) {
    io.err(`instance-ha agents: '${agent}' not found (looked in agents/, PATH, /usr/sbin, /sbin)`);
    return 1;
  }
  try {
    const r = await runAgentProcess({ path, action: 'metadata', options: {}, secrets: [], timeoutMs: METADATA_TIMEOUT_MS }, log);
    if (r.outcome !== 'ok') throw new Error(`${path} -o metadata failed (${r.outcome}, exit ${r.exitCode}): ${r.stderr}`);
    parseAgentMetadata(r.stdout); // refuses output that is not fence-agent metadata
    io.out(r.stdout.trimEnd());
    return 0;
  } catch (err) {
    io.err(`instance-ha agents: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}
