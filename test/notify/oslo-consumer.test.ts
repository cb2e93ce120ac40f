import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import amqp from 'amqplib';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import type { NotificationsConfig } from '../../src/notify/config.js';
import { encodeEnvelope, toNotification, type OsloNotification } from '../../src/notify/envelope.js';
import { Notifier } from '../../src/notify/notifier.js';
import { killedAfterEach } from '../helpers/processes.js';
import { rabbitReachable, requireServices, SHARED_RABBIT_URL } from '../helpers/services.js';
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
    // setup.sh installs it; CI must not quietly lose the interoperability check.
    if (requireServices) throw new Error('python3-oslo.messaging is not installed and INSTANCE_HA_REQUIRE_SERVICES=1 forbids skipping');
    console.warn('SKIPPED oslo.messaging consumer test: apt-get install python3-oslo.messaging');
    return false;
  }
})();
const up = hasOslo && (await rabbitReachable());
const configs: NotificationsConfig[] = [];
const track = killedAfterEach();
afterAll(async () => {
  for (const c of configs) await cleanup(SHARED_RABBIT_URL, c).catch(() => {});
});

describe.skipIf(!up)('a stock oslo.messaging notification listener', () => {
  it('receives and parses our notifications; a re-send of one it already handled is dropped by _unique_id', async () => {
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
    const sentinel = toNotification({ type: 'host.rejoined', at: AT, host: 'cmp1', bootId: 'b2', previous: 'fenced' }, deps)!;

    const rabbitUrl = SHARED_RABBIT_URL.replace(/^amqp:/, 'rabbit:');
    const py = track(
      spawn(PY, ['test/notify/py/oslo_consumer.py', rabbitUrl, cfg.exchange, cfg.topic, '4', '30'], { stdio: ['ignore', 'pipe', 'pipe'] }),
    );
    let stderr = '';
    py.stderr!.on('data', (d) => (stderr += String(d)));
    const got: Array<Record<string, unknown>> = [];
    for await (const line of createInterface({ input: py.stdout! })) {
      got.push(JSON.parse(line));
      if (got.length === 3) {
        // At-least-once: host.fenced again, as after a reconnect, once oslo has handled the first copy;
        // then a sentinel behind it in the same queue. oslo must drop the copy and show the sentinel.
        const conn = await amqp.connect(SHARED_RABBIT_URL);
        const ch = await conn.createConfirmChannel();
        for (const x of [expected[1]!, sentinel]) {
          ch.publish(cfg.exchange, `${cfg.topic}.info`, Buffer.from(encodeEnvelope(x)), { contentType: 'application/json' });
        }
        await ch.waitForConfirms();
        await conn.close();
      }
    }
    const [code] = await once(py, 'exit');
    expect(code, stderr).toBe(0);
    const view = (x: OsloNotification) => ({
      priority: x.priority,
      publisher_id: x.publisher_id,
      event_type: x.event_type,
      payload: x.payload,
      message_id: x.message_id,
      timestamp: x.timestamp,
    });
    const byId = (a: Record<string, unknown>, b: Record<string, unknown>): number =>
      String(a.message_id).localeCompare(String(b.message_id));
    expect(got.slice(0, 3).sort(byId)).toEqual(expected.map(view).sort(byId));
    expect(got[3]).toEqual(view(sentinel));
    expect(stderr).toContain('Found duplicate message(00000000000040008000000000000002)');
  });
});
