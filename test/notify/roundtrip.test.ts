import amqp from 'amqplib';
import { afterAll, describe, expect, it } from 'vitest';
import type { ClusterEvent } from '../../src/core/events.js';
import { silentLogger } from '../../src/log.js';
import type { NotificationsConfig } from '../../src/notify/config.js';
import { encodeEnvelope, toNotification } from '../../src/notify/envelope.js';
import { printEvents } from '../../src/cli/commands/events.js';
import { Notifier } from '../../src/notify/notifier.js';
import { rabbitReachable, SHARED_RABBIT_URL } from '../helpers/services.js';
import { AT, counterIds, FENCE, fixedDeps, hostFailed, notRecovered, SERVER } from './fixtures.js';
import { cleanup, drained, drainQueue, testConfig } from './harness.js';

const up = await rabbitReachable();
const url = SHARED_RABBIT_URL;
const configs: NotificationsConfig[] = [];
afterAll(async () => {
  for (const c of configs) await cleanup(url, c).catch(() => {});
});

describe.skipIf(!up)('round trip through the shared RabbitMQ', () => {
  it('publishes the exact oslo v2 bytes on <topic>.<priority>, into the queue named after the routing key', async () => {
    const cfg = testConfig(url);
    configs.push(cfg);
    const events: ClusterEvent[] = [
      hostFailed('cmp1'),
      { type: 'host.fenced', at: AT, host: 'cmp1', record: FENCE },
      notRecovered(1),
      notRecovered(2),
      { type: 'host.suspect', at: AT, host: 'cmp9', silentMs: 1 }, // internal: not published
    ];
    const n = new Notifier({ config: cfg, monitorHost: 'ctl1', log: silentLogger(), now: () => AT, newId: counterIds() });
    await n.start();
    for (const e of events) n.publish(e);
    await drained(n);
    expect(n.status()).toMatchObject({ backlog: 0, confirmed: 4, full: false, lastError: null });
    await n.close();

    const deps = fixedDeps(); // same clock and ids: the expected bytes
    const expected = events.map((e) => toNotification(e, deps)).filter((x) => x !== null);
    const errors = await drainQueue(url, `${cfg.topic}.error`);
    const infos = await drainQueue(url, `${cfg.topic}.info`);
    expect(errors.map((m) => m.content.toString('utf8'))).toEqual(expected.filter((x) => x.priority === 'ERROR').map(encodeEnvelope));
    expect(infos.map((m) => m.content.toString('utf8'))).toEqual(expected.filter((x) => x.priority === 'INFO').map(encodeEnvelope));
    expect(errors[0]!.fields).toMatchObject({ exchange: cfg.exchange, routingKey: `${cfg.topic}.error` });
    expect(errors[0]!.properties).toMatchObject({ contentType: 'application/json', messageId: expected[0]!.message_id });
  });

  it('uses an exchange and a queue that already exist with other flags (e.g. durable) as they are', async () => {
    const cfg = testConfig(url); // durable: false, like oslo's default
    configs.push(cfg);
    const conn = await amqp.connect(url);
    const ch = await conn.createChannel();
    await ch.assertExchange(cfg.exchange, 'topic', { durable: true });
    await ch.assertQueue(`${cfg.topic}.error`, { durable: true });
    await conn.close();
    const n = new Notifier({ config: { ...cfg, reconnect: { initialMs: 10, maxMs: 50 } }, monitorHost: 'ctl1', log: silentLogger() });
    await n.start();
    n.publish(hostFailed('cmp1'));
    await drained(n);
    await n.close();
    expect((await drainQueue(url, `${cfg.topic}.error`)).length).toBe(1);
  });

  it('instance-ha events prints one readable line per event, and JSON lines with --json', async () => {
    const cfg = testConfig(url);
    configs.push(cfg);
    const n = new Notifier({ config: cfg, monitorHost: 'ctl1', log: silentLogger(), now: () => AT, newId: counterIds() });
    await n.start();
    const run = async (argv: string[]): Promise<{ code: number; out: string }> => {
      let out = '';
      const code = await printEvents([...argv, '--idle', '300ms'], {
        out: (l) => (out += l + '\n'),
        err: () => {},
        log: silentLogger(),
        config: cfg,
        onReady: () => {
          n.publish(hostFailed('cmp1'));
          n.publish(notRecovered(5));
        },
      });
      return { code, out };
    };
    const text = await run([]);
    expect(text.code).toBe(0);
    expect(text.out.trim().split('\n')).toEqual([
      '2026-11-21 08:15:00.123000 ERROR instance_ha.host.failed from=ctl1 host=cmp1 server=- outcome: failed (votes ctl1,ctl2)',
      '2026-11-21 08:15:00.123000 ERROR instance_ha.instance.failed from=ctl1 host=cmp1 server=srv-5(vm-5) ' +
        'outcome: not selected: not tagged for automatic recovery',
    ]);
    const json = await run(['--json', '--type', 'instance.*']);
    const lines = json.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.event_type)).toEqual(['instance_ha.instance.failed']);
    expect(lines[0].payload['instance_ha_object.data'].server_id).toBe('srv-5');
    // Which monitor published each event, and only those of one.
    expect((await run(['--from', 'ctl2'])).out).toBe('');
    expect((await run(['--from', 'ctl*', '--type', 'host.*'])).out).toMatch(
      /^\S+ \S+ ERROR instance_ha\.host\.failed from=ctl1 host=cmp1 /,
    );
    expect((await run(['--bogus'])).code).toBe(64);
    await n.close();
  });

  it('custom recovery: host fails, is fenced, one instance.failed per untagged server on the bus and no evacuation of them', async () => {
    // The event sequence the core emits for this path (the core itself is tested in its own area);
    // here: what reaches the bus, seen by a consumer.
    const cfg = testConfig(url);
    configs.push(cfg);
    const n = new Notifier({ config: cfg, monitorHost: 'ctl1', log: silentLogger() });
    await n.start();
    const untagged = [1, 2, 3].map((i) => notRecovered(i));
    const tagged = { ...SERVER, id: 'srv-tagged', tags: ['automatic-recovery'] };
    let out = '';
    const code = await printEvents(['--json', '--idle', '300ms'], {
      out: (l) => (out += l + '\n'),
      err: () => {},
      log: silentLogger(),
      config: cfg,
      onReady: () => {
        n.publish(hostFailed('cmp1'));
        n.publish({ type: 'host.fenced', at: AT, host: 'cmp1', record: FENCE });
        n.publish({ type: 'host.recovery_start', at: AT, host: 'cmp1' });
        for (const e of untagged) n.publish(e);
        n.publish({ type: 'instance.evacuate_start', at: AT, host: 'cmp1', server: tagged, attempt: 1 });
        n.publish({ type: 'instance.evacuate_end', at: AT, host: 'cmp1', server: tagged, targetHost: 'cmp2', durationMs: 1 });
        n.publish({ type: 'host.recovery_end', at: AT, host: 'cmp1', summary: { selected: 1, evacuated: 1, failed: 0, notified: 3 } });
      },
    });
    expect(code).toBe(0);
    const seen = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const data = (x: { payload: Record<string, { server_id?: string }> }) => x.payload['instance_ha_object.data']!;
    const failed = seen.filter((x) => x.event_type === 'instance_ha.instance.failed').map((x) => data(x).server_id);
    expect(failed).toEqual(['srv-1', 'srv-2', 'srv-3']);
    const evacuated = seen.filter((x) => x.event_type.startsWith('instance_ha.instance.evacuate')).map((x) => data(x).server_id);
    expect(evacuated).toEqual(['srv-tagged', 'srv-tagged']);
    expect(seen.map((x) => x.event_type).slice(0, 2)).toEqual(['instance_ha.host.failed', 'instance_ha.host.fenced']);
    await n.close();
  });
});
