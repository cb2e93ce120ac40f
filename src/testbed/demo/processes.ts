import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The compiled CLI: next to this file in dist/, or in dist/ when this file runs from source (tests). */
export const CLI_PATH = import.meta.url.endsWith('.ts')
  ? fileURLToPath(new URL('../../../dist/src/cli/main.js', import.meta.url))
  : fileURLToPath(new URL('../../cli/main.js', import.meta.url));

/**
 * Daemons started as real child processes (each its own process group, output to `<logDir>/<name>.log`),
 * all killed together at the end. Used by the demo, the benchmarks and the real-process tests.
 */
export class ProcessGroup {
  readonly children = new Map<string, ChildProcess>();

  constructor(readonly logDir: string) {}

  /** `cli`: another build's main.js (the rolling-upgrade test runs two builds side by side). */
  start(name: string, args: string[], env: Record<string, string> = {}, cli = CLI_PATH): ChildProcess {
    const log = createWriteStream(join(this.logDir, `${name}.log`));
    // The directory may be removed while a late child still writes: lose the log, not the process.
    log.on('error', () => {});
    const child = spawn(process.execPath, [cli, ...args], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    this.children.set(name, child);
    return child;
  }

  signal(name: string, signal: NodeJS.Signals = 'SIGKILL'): void {
    const c = this.children.get(name);
    if (!c?.pid) return;
    try {
      process.kill(-c.pid, signal);
    } catch {
      // already gone
    }
  }

  alive(name: string): boolean {
    const c = this.children.get(name);
    return !!c && c.exitCode === null && c.signalCode === null;
  }

  killAll(): void {
    for (const name of this.children.keys()) this.signal(name, 'SIGKILL');
  }
}
