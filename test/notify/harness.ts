import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { afterAll } from 'vitest';
import { ObjectReader } from '../../src/config/reader.js';
import { readNotificationsConfig, type NotificationsConfig } from '../../src/notify/config.js';
import type { Notifier } from '../../src/notify/notifier.js';

/** Outbox directories made for tests, removed when the test process exits. */
const tmpDirs: string[] = [];
// Registered on the importing test file (vitest collects top-level hooks of imported modules too).
afterAll(() => {
  for (const d of tmpDirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A temporary directory removed at exit. */
export function tmpDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  tmpDirs.push(d);
  return d;
}

/**
 * Test config: a unique exchange AND topic per test, because queue names are global in a vhost and
 * the shared broker may carry a real OpenStack whose `notifications.info` we must never feed.
 */
export function testConfig(url: string, over: Record<string, unknown> = {}): NotificationsConfig {
  const tag = `iha-test-${randomBytes(4).toString('hex')}`;
  const problems: { path: string; reason: string }[] = [];
  const cfg = readNotificationsConfig(
    new ObjectReader(
      {
        enabled: true,
        url,
        exchange: tag,
        topic: `${tag}-notifications`,
        heartbeat: '5s',
        connect_timeout: '3s',
        reconnect: { initial: '50ms', max: '1s' },
        ...over,
        outbox: { dir: tmpDir('iha-notify-'), ...(over.outbox as object | undefined) },
      },
      'notifications',
      problems,
    ),
  );
  if (problems.length) throw new Error(JSON.stringify(problems));
  return cfg;
}

/** Resolves once the notifier has nothing left to send (no polling: woken by confirms). */
export function drained(n: Notifier): Promise<void> {
  return new Promise((resolve) => {
    if (n.status().backlog === 0 && n.status().confirmed > 0) return resolve();
    n.onConfirmed(() => {
      if (n.status().backlog === 0) resolve();
    });
  });
}

/** Reads every message currently in `queue` (basic.get until empty). */
export async function drainQueue(url: string, queue: string): Promise<amqp.GetMessage[]> {
  const conn = await amqp.connect(url);
  try {
    const ch = await conn.createChannel();
    const out: amqp.GetMessage[] = [];
    for (;;) {
      const m = await ch.get(queue, { noAck: true });
      if (!m) return out;
      out.push(m);
    }
  } finally {
    await conn.close();
  }
}

/** Removes the test's exchange and its per-priority queues. */
export async function cleanup(url: string, cfg: NotificationsConfig): Promise<void> {
  const conn = await amqp.connect(url);
  try {
    const ch = await conn.createChannel();
    for (const p of ['audit', 'debug', 'info', 'warn', 'error', 'critical', 'sample']) await ch.deleteQueue(`${cfg.topic}.${p}`);
    await ch.deleteExchange(cfg.exchange);
  } finally {
    await conn.close();
  }
}
