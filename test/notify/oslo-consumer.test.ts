import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import amqp from 'amqplib';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import type { NotificationsConfig } from '../../src/notify/config.js';
import { encodeEnvelope, toNotification } from '../../src/notify/envelope.js';
import { Notifier } from '../../src/notify/notifier.js';
import { rabbitReachable, SHARED_RABBIT_URL } from '../helpers/services.js';
import { AT, counterIds, FENCE, fixedDeps, hostFailed, notRecovered } from './fixtures.js';
import { cleanup, drained, testConfig } from './harness.js';

/**
 * Interoperability: a listener written with the real oslo.messaging (Debian python3-oslo.messaging)
 * receives and parses what we publish, with our defaults (transient exchange and queues, as
 * oslo's own amqp_durable_queues=False). Optional: skipped when the Python package is missing.
 */
const PY = '/usr/bin/python3';
const hasOslo = (() => {
  try {
    execFileSync(PY, ['-c', 'import oslo_messaging'], { stdio: 'ignore' });
    return true;
  } catch {
    console.warn('SKIPPED oslo.messaging consumer test: apt-get install python3-oslo.messaging');
    return false;
  }
})();
const up = hasOslo && (await rabbitReachable());
const configs: NotificationsConfig[] = [];
afterAll(async () => {
  for (const c of configs) await cleanup(SHARED_RABBIT_URL, c).catch(() => {});
});

describe.skipIf(!up)('a stock oslo.messaging notification listener', () => {
  it('receives our notifications as oslo notifications; a re-sent one arrives with the same message_id', async () => {
    const cfg = testConfig(SHARED_RABBIT_URL);
    configs.push(cfg);
    const events = [hostFailed('cmp1'), { type: 'host.fenced' as const, at: AT, host: 'cmp1', record: FENCE }, notRecovered(1)];
    const n = new Notifier({ config: cfg, monitorHost: 'ctl1', log: silentLogger(), now: () => AT, newId: counterIds() });
    await n.start();
    for (const e of events) n.publish(e);
    await drained(n);
    await n.close();
    const deps = fixedDeps(); // same clock and ids as the notifier: the expected notifications
    const expected = events.map((e) => toNotification(e, deps)!);
    // At-least-once: the same notification again, as after a reconnect. oslo's notification listener
    // does not de-duplicate (its _unique_id cache is RPC-only), so the consumer sees the same message_id twice.
    const conn = await amqp.connect(SHARED_RABBIT_URL);
    const ch = await conn.createConfirmChannel();
    ch.publish(cfg.exchange, `${cfg.topic}.info`, Buffer.from(encodeEnvelope(expected[1]!)), { contentType: 'application/json' });
    await ch.waitForConfirms();
    await conn.close();

    const rabbitUrl = SHARED_RABBIT_URL.replace(/^amqp:/, 'rabbit:');
    const { stdout } = await promisify(execFile)(
      PY, ['test/notify/py/oslo_consumer.py', rabbitUrl, cfg.exchange, cfg.topic, '4', '20'],
      { timeout: 60_000 },
    );
    const got = stdout.trim().split('\n').map((l) => JSON.parse(l));
    const byId = (a: { message_id: string }, b: { message_id: string }): number => a.message_id.localeCompare(b.message_id);
    expect(got.sort(byId)).toEqual(
      [...expected, expected[1]!].map((x) => ({
        priority: x.priority, publisher_id: x.publisher_id, event_type: x.event_type, payload: x.payload,
        message_id: x.message_id, timestamp: x.timestamp,
      })).sort(byId),
    );
    // Everything was consumed.
    const c2 = await amqp.connect(SHARED_RABBIT_URL);
    const q = await (await c2.createChannel()).checkQueue(`${cfg.topic}.info`);
    await c2.close();
    expect(q.messageCount).toBe(0);
  });
});
