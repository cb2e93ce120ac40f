import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';
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

  /**
   * SIGKILLs every child's process group and waits until none of their processes is left (at most
   * `timeoutMs`), so that a test which failed or timed out leaves no daemon behind for the next one.
   */
  override async killAll(timeoutMs = 5000): Promise<void> {
    super.killAll();
    const groups = [...this.children.values()].flatMap((c) =>
      c.pid ? [{ id: c.pid, leaderReaped: () => c.exitCode !== null || c.signalCode !== null }] : [],
    );
    await waitUntilGone(groups, timeoutMs);
  }

  async cleanup(): Promise<void> {
    try {
      await this.killAll();
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

/** A process group we started: its id is its leader's pid, and whether we have reaped that leader. */
interface Group {
  id: number;
  leaderReaped: () => boolean;
}

/** State and process group of every process, from /proc/<pid>/stat. */
function processTable(): Map<number, { state: string; pgrp: number }> {
  const table = new Map<number, { state: string; pgrp: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // pid (comm) state ppid pgrp …: comm may hold spaces and parentheses, so split after the last ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      table.set(Number(entry), { state: state!, pgrp: Number(pgrp) });
    } catch {
      // exited while we looked
    }
  }
  return table;
}

/**
 * Live processes (zombies have exited; PID 1 in a container may reap them late) left in `groups`.
 * A group whose leader we reaped and whose id is now a live process's pid is someone else's: the
 * kernel reuses a pid only once no process is in the group of that id (pid_max is 32768 here).
 */
function liveMembers(groups: readonly Group[]): number[] {
  const table = processTable();
  const ours = new Set(groups.filter((g) => !(g.leaderReaped() && table.has(g.id) && table.get(g.id)!.state !== 'Z')).map((g) => g.id));
  return [...table].filter(([, p]) => p.state !== 'Z' && ours.has(p.pgrp)).map(([pid]) => pid);
}

/** Waits until no live process is left in `groups`; throws, naming them, after `timeoutMs`. */
async function waitUntilGone(groups: readonly Group[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = liveMembers(groups);
    if (left.length === 0) return;
    if (Date.now() >= deadline) throw new Error(`processes ${left.join(', ')} still running ${timeoutMs} ms after SIGKILL`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Children a test file spawns itself (not through Processes): after every test, passed, failed or
 * timed out, each is SIGKILLed (with its process group when it leads one) and waited for.
 * Returns `track`, which hands the child back so that it can wrap a spawn call.
 */
export function killedAfterEach(): <C extends ChildProcess>(child: C) => C {
  const tracked = new Set<ChildProcess>();
  afterEach(async () => {
    const running = [...tracked].filter((c) => c.pid !== undefined && c.exitCode === null && c.signalCode === null);
    tracked.clear();
    for (const c of running) {
      try {
        // Only a group leader has a group of its own id; otherwise this is ESRCH and the child alone is killed.
        process.kill(-c.pid!, 'SIGKILL');
      } catch {
        c.kill('SIGKILL');
      }
    }
    await Promise.all(running.map((c) => exitOf(c, 5000)));
  });
  return (child) => {
    tracked.add(child);
    return child;
  };
}

/** Resolves when `child` has exited (at once if it already has); throws after `timeoutMs`. */
export function exitOf(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`child ${child.pid} still running after ${timeoutMs} ms`)), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
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
export async function waitForStatus(
  socket: string,
  pred: (s: StatusSnapshot) => boolean,
  timeoutMs: number,
): Promise<{ snap: StatusSnapshot | null; ms: number; ok: boolean }> {
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

/** `instance-ha status` run as an operator would: its exit code and everything it printed. */
export function statusExit(socket: string): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, [CLI, 'status', '--socket', socket], { encoding: 'utf8', timeout: 10_000 });
  return { code: r.status, out: r.stdout + r.stderr };
}
