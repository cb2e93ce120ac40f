import { readFileSync } from 'node:fs';
import { open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { HaError } from '../errors.js';

/**
 * One process per outbox directory: two writers appending to one file would interleave records.
 * The lock file holds the owner's pid and its start time (from /proc), so a lock left by a
 * SIGKILLed process is taken over, even when its pid was since reused by an unrelated process.
 */
export class OutboxLockedError extends HaError {
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(`outbox ${dir} is in use by process ${pid}`);
  }
}

const LOCK = 'outbox.lock';

export async function lockOutbox(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, LOCK);
  const me = { pid: process.pid, start: startTimeOf(process.pid) };
  for (let tries = 0; tries < 2; tries++) {
    try {
      const fh = await open(path, 'wx', 0o600);
      await fh.writeFile(JSON.stringify(me));
      await fh.close();
      return async () => {
        await unlink(path).catch(() => {});
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = await readOwner(path);
    if (owner && isAlive(owner)) throw new OutboxLockedError(dir, owner.pid);
    // Stale (owner gone) or unreadable (crash while writing it): take it over.
    await unlink(path).catch(() => {});
  }
  throw new OutboxLockedError(dir, -1);
}

async function readOwner(path: string): Promise<{ pid: number; start: string | null } | null> {
  try {
    const v = JSON.parse(await readFile(path, 'utf8')) as { pid?: unknown; start?: unknown };
    return typeof v.pid === 'number' ? { pid: v.pid, start: typeof v.start === 'string' ? v.start : null } : null;
  } catch {
    return null;
  }
}

function isAlive(owner: { pid: number; start: string | null }): boolean {
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  // Alive (or not ours to signal): the same process only if it also started at the same time.
  const start = startTimeOf(owner.pid);
  return owner.start === null || start === null || start === owner.start;
}

/** Process start time in clock ticks since boot (field 22 of /proc/<pid>/stat); null off Linux. */
function startTimeOf(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}
