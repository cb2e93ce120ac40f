import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import type { ComputeHealth } from '../core/messages.js';
import type { BeaconConfig } from '../config/beacon-config.js';
import type { Logger } from '../log.js';
import { RestartBudget } from './restart-budget.js';

/**
 * Keeps a cached verdict on the local nova-compute, refreshed in the background, so a slow check
 * never delays a heartbeat: the beacon reads `current` and moves on.
 */
export class HealthCheck {
  current: ComputeHealth = 'unknown';
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  /** health.restart_command attempts so far (reported in the log, one line each). */
  restartAttempts = 0;
  private restarting = false;
  private readonly budget: RestartBudget;

  constructor(
    private readonly cfg: BeaconConfig['health'],
    private readonly log: Logger,
  ) {
    this.budget = new RestartBudget(cfg.restartBudgetPerHour);
  }

  start(): void {
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.cfg.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private async refresh(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const next = this.cfg.command
        ? await runCommand(this.cfg.command, this.cfg.timeoutMs)
        : this.cfg.process
          ? await processRunning(this.cfg.process)
          : 'unknown';
      if (next !== this.current) this.log.info({ novaCompute: next, previous: this.current }, 'nova-compute health changed');
      this.current = next;
      if (next === 'down') this.maybeRestart();
    } catch (err) {
      this.log.warn({ err }, 'health check failed');
      this.current = 'unknown';
    } finally {
      this.running = false;
    }
  }

  /**
   * Tries the configured restart once more if the budget allows; the monitors disable the compute
   * service anyway once the grace runs out, so a restart that does not help costs nothing.
   */
  private maybeRestart(): void {
    const command = this.cfg.restartCommand;
    if (!command || this.restarting) return;
    if (!this.budget.take(Date.now())) return;
    this.restarting = true;
    const attempt = ++this.restartAttempts;
    this.log.warn(
      { attempt, usedThisHour: this.budget.used(), budgetPerHour: this.cfg.restartBudgetPerHour },
      'nova-compute down: restarting it',
    );
    const started = Date.now();
    void runCommand(command, this.cfg.restartTimeoutMs).then((r) => {
      this.restarting = false;
      const fields = { attempt, exit: r === 'up' ? 0 : r === 'down' ? 'non-zero' : 'timeout or not started', ms: Date.now() - started };
      if (r === 'up') this.log.info(fields, 'nova-compute restart command finished');
      else this.log.error(fields, 'nova-compute restart command failed');
    });
  }
}

/** True when some process's command line mentions `name` (as pgrep -f would find it). */
export async function processRunning(name: string): Promise<ComputeHealth> {
  const entries = await readdir('/proc');
  for (const e of entries) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      const cmdline = await readFile(`/proc/${e}/cmdline`, 'utf8');
      if (cmdline.includes(name)) return 'up';
    } catch {
      // the process went away while we looked
    }
  }
  return 'down';
}

function runCommand(command: string, timeoutMs: number): Promise<ComputeHealth> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', command], { stdio: 'ignore', detached: true });
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
      resolve('unknown');
    }, timeoutMs);
    child.on('error', () => {
      clearTimeout(timer);
      resolve('unknown');
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve(code === 0 ? 'up' : 'down');
    });
  });
}
