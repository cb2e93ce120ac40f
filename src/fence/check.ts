/**
 * Config-check time validation that needs the agents themselves: run each configured agent's
 * `metadata` action once and check every device's options against it. (native-ipmi devices are
 * checked by readFencingConfig against the fence_ipmi option table.)
 */
import type { ConfigProblem } from '../errors.js';
import type { Logger } from '../log.js';
import type { FencingConfig } from './config.js';
import { checkOptions, parseAgentMetadata, type AgentMetadata } from './metadata.js';
import { runAgentProcess } from './runner.js';

export const METADATA_TIMEOUT_MS = 15_000;

export async function readAgentMetadata(agentPath: string, log: Logger, timeoutMs = METADATA_TIMEOUT_MS): Promise<AgentMetadata> {
  const r = await runAgentProcess({ path: agentPath, action: 'metadata', options: {}, secrets: [], timeoutMs }, log);
  if (r.outcome !== 'ok') throw new Error(`${agentPath} -o metadata failed (${r.outcome}, exit ${r.exitCode}): ${r.stderr}`);
  return parseAgentMetadata(r.stdout);
}

export async function checkFencingAgents(cfg: FencingConfig, log: Logger, prefix = 'fencing'): Promise<ConfigProblem[]> {
  const problems: ConfigProblem[] = [];
  const cache = new Map<string, Promise<AgentMetadata>>();
  for (const d of cfg.devices.values()) {
    if (!d.agentPath) continue;
    const path = `${prefix}.devices.${d.name}`;
    let meta: AgentMetadata;
    try {
      if (!cache.has(d.agentPath)) cache.set(d.agentPath, readAgentMetadata(d.agentPath, log));
      meta = await cache.get(d.agentPath)!;
    } catch (err) {
      problems.push({ path: `${path}.agent`, reason: err instanceof Error ? err.message : String(err) });
      continue;
    }
    for (const reason of checkOptions(meta, d.options, { hasPassword: d.password !== undefined })) {
      if (!d.verify && reason.includes("'status' action")) continue;
      problems.push({ path: `${path}.options`, reason });
    }
  }
  return problems;
}
