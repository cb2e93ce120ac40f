import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HealthCheck } from '../../src/daemon/health-check.js';
import { silentLogger } from '../../src/log.js';
import { tempDirs } from '../helpers/temp-dirs.js';

/**
 * health.restart_command on a real process: the health check watches a stand-in nova-compute (a
 * renamed sleep) that is not running; the restart command starts it; the check sees it up. The
 * budget keeps a command that does not help from running again within the spacing.
 */
const tempDir = tempDirs();
const started: number[] = [];

afterAll(() => {
  for (const pid of started)
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
});

async function until(pred: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (pred()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return pred();
}

describe('nova-compute restart by the beacon', () => {
  it('restarts a dead nova-compute once, within its budget, and the health check then sees it up', async () => {
    const dir = tempDir('iha-restart-');
    const name = `iha-nova-compute-standin-${randomBytes(4).toString('hex')}`;
    const pidFile = join(dir, 'pid');
    const count = join(dir, 'count');
    const command = `echo x >> ${count}; bash -c 'exec -a ${name} sleep 3600' </dev/null >/dev/null 2>&1 & echo $! > ${pidFile}`;
    const h = new HealthCheck(
      {
        process: name,
        command: null,
        intervalMs: 100,
        timeoutMs: 1000,
        restartCommand: command,
        restartBudgetPerHour: 3,
        restartTimeoutMs: 5000,
      },
      silentLogger(),
    );
    h.start();
    try {
      expect(await until(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '', 5000)).toBe(true);
      started.push(Number(readFileSync(pidFile, 'utf8').trim()));
      expect(await until(() => h.current === 'up', 5000)).toBe(true);
      expect(h.restartAttempts).toBe(1);
      // Killed again: within the 30 s spacing, no second attempt; the check reports it down.
      process.kill(started[0]!, 'SIGKILL');
      expect(await until(() => h.current === 'down', 5000)).toBe(true);
      await new Promise((r) => setTimeout(r, 500));
      expect(h.restartAttempts).toBe(1);
      expect(readFileSync(count, 'utf8').trim().split('\n')).toHaveLength(1);
    } finally {
      h.stop();
    }
  });

  it('without restart_command, never runs anything', async () => {
    const h = new HealthCheck(
      {
        process: `iha-absent-${randomBytes(4).toString('hex')}`,
        command: null,
        intervalMs: 100,
        timeoutMs: 1000,
        restartCommand: null,
        restartBudgetPerHour: 3,
        restartTimeoutMs: 5000,
      },
      silentLogger(),
    );
    h.start();
    try {
      expect(await until(() => h.current === 'down', 3000)).toBe(true);
      expect(h.restartAttempts).toBe(0);
    } finally {
      h.stop();
    }
  });
});
