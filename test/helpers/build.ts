import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function newestMtimeMs(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestMtimeMs(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * Agents run as real executables (agents/fence_* → dist/agents/*.js), so the tests need a current
 * build. `npm test` builds first; a bare `vitest run` gets one here when dist is stale.
 */
export function ensureBuilt(): void {
  const marker = join(ROOT, 'dist/agents/fence_ipmi.js');
  const srcNewest = Math.max(newestMtimeMs(join(ROOT, 'src')), newestMtimeMs(join(ROOT, 'agents')));
  if (existsSync(marker) && statSync(marker).mtimeMs >= srcNewest) return;
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.json')], { stdio: 'inherit' });
}

export function agentPath(name: string): string {
  return join(ROOT, 'agents', name);
}
