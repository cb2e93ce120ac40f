import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { reconnectDelayMs, Notifier } from '../../src/notify/notifier.js';
import type { PutRecord } from '../../src/notify/outbox-codec.js';
import type { BrokerLink } from '../../src/notify/publisher.js';
import { capturingLogger } from '../helpers/logs.js';
import { AT, counterIds, FENCE, hostFailed, notRecovered } from './fixtures.js';
import { drained, testConfig } from './harness.js';

/** A scripted broker: fails the first `failures` sends, or never connects when `down`. */
class FakeLink implements BrokerLink {
  connected = false;
  sent: string[] = [];
  constructor(
    private failures = 0,
    public down = false,
  ) {}
  async ensureConnected(): Promise<void> {
    if (this.down) throw new Error('connect ECONNREFUSED 127.0.0.1:1');
    this.connected = true;
  }
  async publish(batch: readonly PutRecord[]): Promise<{ confirmed: Promise<void> }> {
    if (!this.connected) throw new Error('not connected');
    // Half the batch reaches the broker before the failure, as on a real cut: re-sends duplicate them.
    this.sent.push(...batch.slice(0, Math.ceil(batch.length / 2)).map((r) => r.id));
    if (this.failures > 0) {
      this.failures--;
      this.connected = false;
      return { confirmed: Promise.reject(new Error('channel closed')) };
    }
    this.sent.push(...batch.slice(Math.ceil(batch.length / 2)).map((r) => r.id));
    return { confirmed: Promise.resolve() };
  }
  async close(): Promise<void> {
    this.connected = false;
  }
}

const fast = { reconnect: { initial: '10ms', max: '100ms' } };
const UNUSED_URL = 'amqp://guest:s3cret@127.0.0.1:1/';

describe('Notifier (scripted broker)', () => {
  it('re-sends from the oldest unconfirmed after failures: every id, first arrivals in order', async () => {
    const link = new FakeLink(3);
    const n = new Notifier({
      config: testConfig(UNUSED_URL, { ...fast, max_in_flight: 4 }),
      monitorHost: 'ctl1',
      log: silentLogger(),
      newId: counterIds(),
      link,
    });
    n.publish(hostFailed('cmp1')); // before start: kept and sent after
    await n.start();
    for (let i = 1; i <= 20; i++) n.publish(notRecovered(i));
    await drained(n);
    const firsts = [...new Set(link.sent)];
    expect(firsts).toEqual(Array.from({ length: 21 }, (_, i) => counterIds(i)()));
    expect(link.sent.length).toBeGreaterThan(21); // duplicates from the cut batches
    expect(n.status()).toMatchObject({ backlog: 0, confirmed: 21, lastError: 'channel closed' });
    await n.close();
  });

  it('full outbox: alarm in log and status, new ones refused and logged in full, the oldest kept', async () => {
    const { log, lines } = capturingLogger();
    const cfg = testConfig(UNUSED_URL, { ...fast, outbox: { max_records: 5 } });
    const n = new Notifier({ config: cfg, monitorHost: 'ctl1', log, newId: counterIds(), link: new FakeLink(0, true) });
    await n.start();
    for (let i = 1; i <= 8; i++) n.publish(notRecovered(i));
    expect(n.status()).toMatchObject({ backlog: 5, full: true, refused: 3, confirmed: 0 });
    const refused = lines().filter((l) => l.msg === 'notification refused');
    expect(refused.map((l) => (l.notification as { message_id: string }).message_id)).toEqual([6, 7, 8].map((i) => counterIds(i - 1)()));
    expect(lines().some((l) => String(l.msg).startsWith('outbox full'))).toBe(true);
    const closed = await n.close(50);
    expect(closed).toEqual({ flushed: false, backlog: 5 });
  });

  it('close() waits a bounded time, keeps the backlog for the next start; status never shows the password', async () => {
    const { log, lines } = capturingLogger();
    const cfg = testConfig(UNUSED_URL, fast);
    const down = new FakeLink(0, true);
    const a = new Notifier({ config: cfg, monitorHost: 'ctl1', log, newId: counterIds(), link: down });
    await a.start();
    for (let i = 1; i <= 3; i++) a.publish(notRecovered(i));
    await a.flushed();
    expect(a.status().broker.url).toBe('amqp://guest:***@127.0.0.1:1/');
    expect(await a.close(30)).toEqual({ flushed: false, backlog: 3 });
    a.publish(notRecovered(4)); // after close: logged, not thrown
    expect(JSON.stringify(lines())).not.toContain('s3cret');

    const up = new FakeLink();
    const b = new Notifier({ config: cfg, monitorHost: 'ctl1', log: silentLogger(), link: up });
    await b.start();
    expect(b.status().backlog).toBe(3);
    await drained(b);
    expect(up.sent).toEqual([1, 2, 3].map((i) => counterIds(i - 1)()));
    expect(await b.close()).toEqual({ flushed: true, backlog: 0 });
  });

  it('publish() never throws: an event that cannot be encoded is logged and skipped, the next one goes out', async () => {
    const { log, lines } = capturingLogger();
    const link = new FakeLink();
    const n = new Notifier({ config: testConfig(UNUSED_URL, fast), monitorHost: 'ctl1', log, newId: counterIds(), link });
    await n.start();
    expect(() => n.publish({ type: 'host.fence_failed', at: AT, host: 'cmp1', record: FENCE, retryInMs: NaN })).not.toThrow();
    n.publish(notRecovered(1));
    await drained(n);
    expect(link.sent).toEqual([counterIds(1)()]);
    expect(lines().some((l) => l.msg === 'notification could not be queued')).toBe(true);
    await n.close();
  });

  it('backoff doubles from initial up to max, with ±20 % jitter', () => {
    const o = { initialMs: 100, maxMs: 1000 };
    expect([1, 2, 3, 4, 5, 6].map((a) => reconnectDelayMs(a, o, () => 0.5))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(reconnectDelayMs(1, o, () => 0)).toBe(80);
    expect(reconnectDelayMs(10, o, () => 0.999)).toBeLessThanOrEqual(1000);
  });
});
