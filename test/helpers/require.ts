import { execFileSync } from 'node:child_process';

/** CI sets this so that a missing simulator or tool fails the suite instead of skipping it. */
export const REQUIRE_SERVICES = process.env.INSTANCE_HA_REQUIRE_SERVICES === '1';

const TOOLS_HINT = 'apt-get install -y openipmi ipmitool fence-agents';

export function which(tool: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * What every "can this part of the suite run?" check does when the answer is no: a clear skip
 * message, or a thrown error (failing the test file at collection) when INSTANCE_HA_REQUIRE_SERVICES=1.
 */
function unavailable(msg: string): false {
  if (REQUIRE_SERVICES) throw new Error(`${msg}; INSTANCE_HA_REQUIRE_SERVICES=1 forbids skipping`);
  console.warn(`SKIP ${msg}`);
  return false;
}

/** Whether tests needing `tools` (all on PATH) can run. */
export function haveTools(what: string, tools: readonly string[], hint = TOOLS_HINT): boolean {
  const missing = tools.filter((t) => !which(t));
  if (missing.length === 0) return true;
  return unavailable(`${what}: ${missing.join(', ')} not installed (${hint})`);
}

/**
 * The first of `candidates` (names on PATH or absolute paths) that exists, for tools some
 * distributions keep off PATH (fence_kdump_send lives in /usr/libexec/fence-agents on Debian).
 */
export function findTool(what: string, candidates: readonly string[], hint = TOOLS_HINT): string | undefined {
  for (const c of candidates) {
    const found = which(c);
    if (found) return found;
  }
  unavailable(`${what}: ${candidates[0]} not installed (${hint})`);
  return undefined;
}

/**
 * Whether `command args…` runs and exits 0: for a tool that can be on PATH yet unusable (a pyenv
 * shim without an interpreter, a Python without the module a test needs).
 */
export function canRun(what: string, command: string, args: readonly string[], hint: string): boolean {
  try {
    execFileSync(command, args, { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch (err) {
    return unavailable(`${what}: \`${[command, ...args].join(' ')}\` does not run (${(err as Error).message.split('\n')[0]}; ${hint})`);
  }
}
