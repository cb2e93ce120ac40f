import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { controlRequest } from '../../src/control/client.js';
import type { StatusSnapshot } from '../../src/core/status-snapshot.js';
import { CLI_PATH, ProcessGroup } from '../../src/testbed/demo/processes.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The compiled CLI the daemons run from. */
export const CLI = CLI_PATH;

/** Children started by a test in a temporary directory, all killed and removed at the end. */
export class Processes extends ProcessGroup {
  readonly dir: string;

  constructor(prefix = 'iha-test-') {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    super(dir);
    this.dir = dir;
  }

  kill(name: string, signal: NodeJS.Signals = 'SIGKILL'): void {
    this.signal(name, signal);
  }

  cleanup(): void {
    this.killAll();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A free-ish UDP base port for this test file (distinct files run one at a time). */
export function randomBasePort(): number {
  return 20_000 + Math.floor(Math.random() * 20_000);
}

export async function status(socket: string): Promise<StatusSnapshot | null> {
  try {
    const res = await controlRequest(socket, 'GET', '/status', undefined, 2000);
    return res.body as unknown as StatusSnapshot;
  } catch {
    return null;
  }
}

/** Polls until `pred` holds or `timeoutMs` passes; returns the last snapshot and how long it took. */
export async function waitForStatus(socket: string, pred: (s: StatusSnapshot) => boolean, timeoutMs: number): Promise<{ snap: StatusSnapshot | null; ms: number; ok: boolean }> {
  const start = Date.now();
  let snap: StatusSnapshot | null = null;
  while (Date.now() - start < timeoutMs) {
    snap = await status(socket);
    if (snap && pred(snap)) return { snap, ms: Date.now() - start, ok: true };
    await new Promise((r) => setTimeout(r, 100));
  }
  return { snap, ms: Date.now() - start, ok: false };
}

export function hostState(s: StatusSnapshot | null, host: string): string | undefined {
  return s?.hosts.find((h) => h.host === host)?.state;
}
