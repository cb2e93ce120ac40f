import { execFileSync } from 'node:child_process';

/** CI sets this so that a missing simulator or tool fails the suite instead of skipping it. */
export const REQUIRE_SERVICES = process.env.INSTANCE_HA_REQUIRE_SERVICES === '1';

export function which(tool: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether tests needing `tools` can run. Missing tools: a clear skip message, or a thrown error
 * (failing the test file) when INSTANCE_HA_REQUIRE_SERVICES=1.
 */
export function haveTools(what: string, tools: readonly string[]): boolean {
  const missing = tools.filter((t) => !which(t));
  if (missing.length === 0) return true;
  const msg = `${what}: ${missing.join(', ')} not installed (apt-get install -y openipmi ipmitool fence-agents)`;
  if (REQUIRE_SERVICES) throw new Error(`${msg}; INSTANCE_HA_REQUIRE_SERVICES=1 forbids skipping`);
  console.warn(`SKIP ${msg}`);
  return false;
}
