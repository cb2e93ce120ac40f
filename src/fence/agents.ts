/** Finds fence agents by name: the project's agents/ first, then PATH, then the sbin folders Debian uses. */
import { accessSync, constants, existsSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built-in in-process agents (no subprocess): see native-agents.ts. */
export const NATIVE_IPMI = 'native-ipmi';
export const NATIVE_REDFISH = 'native-redfish';

/** agents/ of this package, found by walking up (works from src/ under vitest and from dist/src/). */
export function projectAgentsDir(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'agents', 'fence_ipmi'))) return join(dir, 'agents');
    dir = dirname(dir);
  }
  return undefined;
}

export function agentSearchPath(): string[] {
  const own = projectAgentsDir();
  const path = (process.env.PATH ?? '').split(':').filter(Boolean);
  return [...(own ? [own] : []), ...path, '/usr/sbin', '/sbin', '/usr/local/sbin'];
}

function executable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Absolute path of an agent, or undefined. Names must look like fence agents (no path tricks). */
export function resolveAgent(agent: string, searchPath: readonly string[] = agentSearchPath()): string | undefined {
  if (agent.includes('/')) return isAbsolute(agent) && executable(agent) ? agent : undefined;
  if (!/^fence_[A-Za-z0-9_-]+$/.test(agent)) return undefined;
  for (const d of searchPath) {
    const p = join(d, agent);
    if (executable(p)) return p;
  }
  return undefined;
}
