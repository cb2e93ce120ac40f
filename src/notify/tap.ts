import type amqp from 'amqplib';
import type { Logger } from '../log.js';
import { redactUrl, type NotificationsConfig } from './config.js';
import { connectBroker, passwordOf, safeMessage } from './connection.js';
import { decodeEnvelope, type OsloNotification } from './envelope.js';

export interface TapOptions {
  /** Keep tapping until `signal` aborts or the broker goes away; otherwise stop after `idleMs` without a message. */
  follow: boolean;
  idleMs: number;
  log: Logger;
  signal?: AbortSignal;
  /** Called once the queue is bound: notifications published from now on are seen. */
  onReady?: () => void;
}

/** How a tap ended; every message is already scrubbed of the broker password. */
export type TapEnd =
  { ok: true } | { ok: false; stage: 'connect'; url: string; message: string } | { ok: false; stage: 'session' | 'lost'; message: string };

/**
 * A live tap on the bus: binds its own exclusive, auto-delete queue to the exchange for `<topic>.*`
 * and hands each oslo notification to `onNotification`. It never reads the shared
 * `<topic>.<priority>` queues, so it takes nothing away from other consumers, and sees only what is
 * published while it runs.
 */
export async function tapNotifications(
  c: NotificationsConfig,
  onNotification: (n: OsloNotification) => void,
  opts: TapOptions,
): Promise<TapEnd> {
  let conn: amqp.ChannelModel;
  try {
    conn = await connectBroker(c, 'instance-ha events');
  } catch (err) {
    return { ok: false, stage: 'connect', url: redactUrl(c.url), message: safeMessage(err, passwordOf(c)) };
  }
  let lost: Error | null = null;
  const finished = new Promise<void>((resolve) => {
    conn.on('error', (err: Error) => (lost = err));
    conn.on('close', () => resolve());
  });
  try {
    const ch = quiet(await conn.createChannel());
    await declareExchange(conn, ch, c);
    const ch2 = quiet(await conn.createChannel()); // the first may have been closed by a 406 in declareExchange
    const { queue } = await ch2.assertQueue('', { exclusive: true, autoDelete: true });
    await ch2.bindQueue(queue, c.exchange, `${c.topic}.*`);
    let idle: NodeJS.Timeout | undefined;
    const armIdle = (): void => {
      if (opts.follow) return;
      clearTimeout(idle);
      idle = setTimeout(() => void conn.close().catch(() => {}), opts.idleMs);
    };
    await ch2.consume(
      queue,
      (msg) => {
        if (!msg) return;
        armIdle();
        const n = decodeEnvelope(msg.content.toString('utf8'));
        if (!n) {
          opts.log.debug({ routingKey: msg.fields.routingKey }, 'events: not an oslo notification; skipped');
          return;
        }
        onNotification(n);
      },
      { noAck: true, exclusive: true },
    );
    opts.signal?.addEventListener('abort', () => void conn.close().catch(() => {}), { once: true });
    if (opts.signal?.aborted) await conn.close().catch(() => {});
    armIdle();
    opts.onReady?.();
    await finished;
    clearTimeout(idle);
  } catch (err) {
    await conn.close().catch(() => {});
    return { ok: false, stage: 'session', message: safeMessage(err, passwordOf(c)) };
  }
  if (lost && !opts.signal?.aborted) return { ok: false, stage: 'lost', message: safeMessage(lost, passwordOf(c)) };
  return { ok: true };
}

/** Same declaration as the publisher so the tap works before the first notification; a 406 means it exists. */
async function declareExchange(conn: amqp.ChannelModel, ch: amqp.Channel, c: NotificationsConfig): Promise<void> {
  try {
    await ch.assertExchange(c.exchange, 'topic', { durable: c.durable, autoDelete: false });
  } catch (err) {
    if ((err as { code?: unknown }).code !== 406) throw err;
    const check = quiet(await conn.createChannel());
    await check.checkExchange(c.exchange);
  }
}

/** Channel errors surface as rejected calls; without a listener the 'error' event would crash the CLI. */
function quiet<T extends amqp.Channel>(ch: T): T {
  ch.on('error', () => {});
  return ch;
}
