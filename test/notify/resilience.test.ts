import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import type { RabbitNode } from '../../bench/rabbit-node.js';
import { createLogger, silentLogger } from '../../src/log.js';
const dbg = process.env.IHA_DEBUG ? createLogger({ level: 'debug', destination: process.stderr }) : silentLogger();
import type { NotificationsConfig } from '../../src/notify/config.js';
import { decodeEnvelope } from '../../src/notify/envelope.js';
import { Notifier } from '../../src/notify/notifier.js';
import { printEvents } from '../../src/cli/commands/events.js';
import { killedAfterEach } from '../helpers/processes.js';
import { disruptableRabbit, rabbitReachable, requireServices } from '../helpers/services.js';
import { counterIds, notRecovered } from './fixtures.js';
import { drained, drainQueue, testConfig } from './harness.js';

/**
 * Zero loss under broker trouble, on a dedicated RabbitMQ node when one starts (we stop its app and
 * cut its connections). Exchange and queue are durable here: a transient queue loses its content
 * on a broker restart whatever the publisher does (see docs/notifications.md).
 */
let node: RabbitNode | null = null;
const available = await (async () => {
  try {
    node = await disruptableRabbit();
    return node.url.includes(':5672/') ? await rabbitReachable(node.url) : true;
  } catch (err) {
    if (process.env.INSTANCE_HA_REQUIRE_SERVICES === '1') throw err;
    console.warn(`SKIPPED: no RabbitMQ to disrupt: ${(err as Error).message}`);
    return false;
  }
})();
const track = killedAfterEach();
afterAll(async () => {
  if (!process.env.IHA_KEEP_NODE) await node?.stop();
});
// TLS needs the dedicated node (and openssl for its certificates): decided here, before collection.
const tlsNode = available ? ((node as RabbitNode | null)?.tls ?? null) : null;
if (available && !tlsNode) {
  if (requireServices)
    throw new Error('no TLS broker node could be started (openssl?) and INSTANCE_HA_REQUIRE_SERVICES=1 forbids skipping');
  console.warn('SKIPPED amqps test: no dedicated broker node with TLS (openssl missing, or only the shared broker)');
}

/** Every id arrived (duplicates allowed) and first arrivals keep publishing order. */
async function expectAllArrived(cfg: NotificationsConfig, count: number): Promise<{ duplicates: number }> {
  const msgs = await drainQueue(node!.url, `${cfg.topic}.error`);
  const ids = msgs.map((m) => decodeEnvelope(m.content.toString('utf8'))!.message_id);
  const firsts = [...new Set(ids)];
  expect(firsts.length).toBe(count);
  expect(firsts).toEqual([...firsts].sort());
  return { duplicates: ids.length - firsts.length };
}

/** Publishes `count` events in chunks, yielding between chunks so disruptions land mid-stream. */
async function stream(n: Notifier, count: number, onChunk: (sent: number) => Promise<void>): Promise<void> {
  for (let i = 1; i <= count; i += 100) {
    for (let j = i; j < i + 100 && j <= count; j++) n.publish(notRecovered(j));
    await onChunk(Math.min(count, i + 99));
  }
}

function nextConfirm(n: Notifier): Promise<void> {
  return new Promise((r) => n.onConfirmed(() => r()));
}

describe.skipIf(!available)('no notification lost when the broker misbehaves', () => {
  it('broker app stopped and started mid-stream (rabbitmqctl stop_app / start_app)', async () => {
    const cfg = testConfig(node!.url, { durable: true, max_in_flight: 100 });
    const n = new Notifier({ config: cfg, monitorHost: 'ctl1', log: dbg, newId: counterIds() });
    await n.start();
    await stream(n, 2000, async (sent) => {
      if (sent === 500) {
        await nextConfirm(n);
        await node!.stopApp();
      }
      if (sent === 1000) {
        expect(n.status().broker.connected).toBe(false);
        await node!.startApp();
      }
    });
    await drained(n);
    expect(n.status().lastError).not.toBeNull(); // it did notice
    await n.close();
    await expectAllArrived(cfg, 2000);
  });

  it('connection force-closed by the broker (rabbitmqctl close_connection), twice', async () => {
    const cfg = testConfig(node!.url, { durable: true, max_in_flight: 100 });
    const n = new Notifier({ config: cfg, monitorHost: 'cut', log: silentLogger(), newId: counterIds() });
    await n.start();
    let closed = 0;
    await stream(n, 2000, async (sent) => {
      if (sent === 500 || sent === 1200) {
        await nextConfirm(n);
        if (sent === 500) {
          // While we are at it: the heartbeat we asked for (5s in testConfig) is what the broker agreed.
          const rows = await node!.ctl('list_connections', 'timeout', 'client_properties', '--quiet', '--no-table-headers');
          expect(
            rows
              .split('\n')
              .find((l) => l.includes('instance-ha-notify cut'))
              ?.split('\t')[0],
          ).toBe('5');
        }
        closed += await node!.closeConnections('instance-ha-notify cut');
      }
    });
    await drained(n);
    expect(closed).toBe(2);
    await n.close();
    await expectAllArrived(cfg, 2000);
  });

  it('broker blocks publishing (memory alarm): no confirm, so the send times out and is retried until it is unblocked', async () => {
    const cfg = testConfig(node!.url, { durable: true, confirm_timeout: '300ms' });
    const n = new Notifier({ config: cfg, monitorHost: 'blocked', log: dbg, newId: counterIds() });
    await n.start();
    n.publish(notRecovered(1));
    await drained(n);
    await node!.ctl('set_vm_memory_high_watermark', '0');
    try {
      for (let i = 2; i <= 50; i++) n.publish(notRecovered(i));
      await new Promise<void>((resolve) => {
        const check = setInterval(() => {
          if (n.status().lastError?.includes('no broker confirm')) (clearInterval(check), resolve());
        }, 20);
      });
    } finally {
      await node!.ctl('set_vm_memory_high_watermark', '0.4');
    }
    await drained(n);
    await n.close();
    await expectAllArrived(cfg, 50);
  });

  it('publishing process SIGKILLed with a non-empty outbox: replayed on restart', async () => {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' }); // the child runs compiled code
    const cfg = testConfig(node!.url, { durable: true, max_in_flight: 20 });
    const raw = {
      enabled: true,
      url: node!.url,
      exchange: cfg.exchange,
      topic: cfg.topic,
      durable: true,
      max_in_flight: 20,
      outbox: { dir: cfg.outbox.dir },
    };
    const child = track(
      spawn(process.execPath, ['dist/bench/notify-proc.js'], {
        env: { ...process.env, IHA_NOTIFY_PROC: JSON.stringify({ config: raw, count: 3000, idBase: 0 }) },
        stdio: ['ignore', 'pipe', 'inherit'],
      }),
    );
    let durable = false;
    for await (const line of createInterface({ input: child.stdout! })) {
      if (line.startsWith('durable')) durable = true;
      // Kill once all are on disk and some, not all, were confirmed.
      if (durable && line.startsWith('confirmed') && Number(line.split(' ')[1]) >= 100) break;
    }
    child.kill('SIGKILL');
    await once(child, 'exit');
    expect(durable).toBe(true);

    const n = new Notifier({ config: cfg, monitorHost: 'restarted', log: silentLogger() });
    await n.start();
    const left = n.status().backlog;
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThan(3000);
    await drained(n);
    await n.close();
    await expectAllArrived(cfg, 3000);
  });
});

describe.skipIf(!tlsNode)('amqps:// with a CA and a client certificate', () => {
  it('publishes over TLS with peer verification; without a client certificate the broker refuses', async () => {
    const tls = tlsNode!;
    const cfg = testConfig(tls.url, { durable: true, tls: { ca_file: tls.caFile, cert_file: tls.clientCert, key_file: tls.clientKey } });
    const n = new Notifier({ config: cfg, monitorHost: 'tls', log: dbg, newId: counterIds() });
    await n.start();
    for (let i = 1; i <= 3; i++) n.publish(notRecovered(i));
    await drained(n);
    await n.close();
    await expectAllArrived(cfg, 3);

    let err = '';
    const noCert = { ...cfg, tls: { ...cfg.tls, certFile: undefined, keyFile: undefined } };
    const code = await printEvents([], { out: () => {}, err: (l) => (err += l + '\n'), log: dbg, config: noCert });
    expect(code).toBe(1);
    expect(err).toContain('cannot connect to amqps://guest:***@localhost');
  });
});
