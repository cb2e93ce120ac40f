import { once } from 'node:events';
import type amqp from 'amqplib';
import type { Logger } from '../log.js';
import { routingKey } from './envelope.js';
import { connectBroker, passwordOf, safeMessage, type BrokerConfig } from './connection.js';
import type { PutRecord } from './outbox-codec.js';

/**
 * What the notifier needs from a broker: connect, publish a batch in order and learn when all of it
 * was confirmed. Retrying is the notifier's job (it owns the order and the outbox), so this class
 * never retries on its own and never keeps anything the outbox doesn't also have.
 */
export interface BrokerLink {
  readonly connected: boolean;
  /** Connects (if needed), opens the confirm channel and declares the exchange. Throws on failure. */
  ensureConnected(): Promise<void>;
  /**
   * Publishes the batch, in order, after every batch handed over before it. Resolves once the
   * messages are handed to the channel; `confirmed` then settles when the broker confirmed all of
   * them (or rejects on nack, channel loss or confirm timeout). Separate so the caller can keep
   * several batches in flight without giving up order.
   */
  publish(batch: readonly PutRecord[]): Promise<{ confirmed: Promise<void> }>;
  /** Drops the connection (the next ensureConnected opens a new one). */
  close(): Promise<void>;
}

export interface AmqpLinkOptions extends BrokerConfig {
  exchange: string;
  topic: string;
  durable: boolean;
  /** A broker that neither confirms nor closes (e.g. blocked by a resource alarm) is given up on after this. */
  confirmTimeoutMs: number;
  log: Logger;
  connectionName?: string;
}

export class AmqpLink implements BrokerLink {
  private conn: amqp.ChannelModel | null = null;
  private ch: amqp.ConfirmChannel | null = null;
  /** Routing keys whose queue we declared and bound on the current channel. */
  private declared = new Set<string>();
  /** Queues found to exist with flags other than ours: checked and bound, never re-declared. */
  private readonly existingQueues = new Set<string>();
  private readonly log: Logger;
  private readonly secret: string | undefined;

  constructor(private readonly o: AmqpLinkOptions) {
    this.log = o.log;
    this.secret = passwordOf(o);
  }

  get connected(): boolean {
    return this.ch !== null;
  }

  async ensureConnected(): Promise<void> {
    if (this.ch) return;
    try {
      const conn = await connectBroker(this.o, this.o.connectionName ?? 'instance-ha-notify');
      this.conn = conn;
      conn.on('error', (err: Error) => this.log.warn({ reason: safeMessage(err, this.secret) }, 'broker connection error'));
      conn.on('close', () => this.dropped(conn));
      conn.on('blocked', (reason: string) => this.log.warn({ reason }, 'broker blocked publishing (resource alarm)'));
      conn.on('unblocked', () => this.log.info('broker unblocked publishing'));
      this.ch = await this.openChannel(conn);
      this.log.info({ exchange: this.o.exchange }, 'connected to broker');
    } catch (err) {
      await this.reset();
      throw new Error(safeMessage(err, this.secret));
    }
  }

  async publish(batch: readonly PutRecord[]): Promise<{ confirmed: Promise<void> }> {
    const ch = this.ch;
    if (!ch) throw new Error('not connected');
    try {
      for (const r of batch) {
        const rk = routingKey(this.o.topic, r.priority);
        if (!this.declared.has(rk)) await this.declareQueue(ch, rk);
      }
    } catch (err) {
      await this.reset();
      throw new Error(safeMessage(err, this.secret));
    }
    if (this.ch !== ch) throw new Error('channel lost while declaring queues');
    // From here on no await until every message is handed to the channel: that keeps batches in order.
    const confirms = batch.map(
      (r) =>
        new Promise<void>((resolve, reject) => {
          ch.publish(
            this.o.exchange,
            routingKey(this.o.topic, r.priority),
            Buffer.from(r.body, 'utf8'),
            // As kombu sends oslo's notifications; message_id also as the AMQP property for dedupe tools.
            { contentType: 'application/json', contentEncoding: 'utf-8', persistent: this.o.durable, messageId: r.id },
            (err: unknown) => (err ? reject(err instanceof Error ? err : new Error(`broker nack: ${String(err)}`)) : resolve()),
          );
        }),
    );
    const confirmed = this.awaitConfirms(confirms).catch(async (err: unknown) => {
      // Whatever the cause, the channel's state is unknown now: start from a fresh one.
      if (this.ch === ch) await this.reset();
      throw new Error(safeMessage(err, this.secret));
    });
    return { confirmed };
  }

  private async awaitConfirms(confirms: Promise<void>[]): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), this.o.confirmTimeoutMs)));
    // allSettled: an early rejection must not leave the others unhandled.
    const results = await Promise.race([Promise.allSettled(confirms), timedOut]).finally(() => clearTimeout(timer));
    if (results === 'timeout') throw new Error(`no broker confirm within ${this.o.confirmTimeoutMs}ms`);
    const failed = results.find((x): x is PromiseRejectedResult => x.status === 'rejected');
    if (failed) throw failed.reason;
  }

  async close(): Promise<void> {
    await this.reset();
  }

  private async openChannel(conn: amqp.ChannelModel): Promise<amqp.ConfirmChannel> {
    let ch = await conn.createConfirmChannel();
    this.watch(ch);
    try {
      // oslo declares the exchange topic, durable per amqp_durable_queues, not auto-delete.
      await ch.assertExchange(this.o.exchange, 'topic', { durable: this.o.durable, autoDelete: false });
    } catch (err) {
      if (!isPreconditionFailed(err)) throw err;
      // It exists with other flags (e.g. declared durable by a service): use it as it is.
      this.log.warn({ exchange: this.o.exchange }, 'exchange exists with different flags; using it as declared');
      ch = await conn.createConfirmChannel();
      this.watch(ch);
      await ch.checkExchange(this.o.exchange);
    }
    this.declared = new Set();
    return ch;
  }

  /** Like oslo's publisher: a queue named after the routing key, so nothing is dropped before a consumer attaches. */
  private async declareQueue(ch: amqp.ConfirmChannel, rk: string): Promise<void> {
    if (this.existingQueues.has(rk)) {
      await ch.checkQueue(rk);
    } else {
      try {
        await ch.assertQueue(rk, { durable: this.o.durable, autoDelete: false });
      } catch (err) {
        if (!isPreconditionFailed(err)) throw err;
        // A queue of that name exists with other flags (declared by someone else): use it as it is.
        // The 406 closed the channel, so this try fails; the retry checks instead of declaring.
        this.log.warn({ queue: rk }, 'queue exists with different flags; using it as declared');
        this.existingQueues.add(rk);
        throw err;
      }
    }
    await ch.bindQueue(rk, this.o.exchange, rk);
    this.declared.add(rk);
  }

  private watch(ch: amqp.ConfirmChannel): void {
    ch.on('error', (err: Error) => this.log.warn({ reason: safeMessage(err, this.secret) }, 'broker channel error'));
    ch.on('close', () => {
      if (this.ch === ch) this.ch = null;
    });
  }

  private dropped(conn: amqp.ChannelModel): void {
    if (this.conn !== conn) return;
    this.log.warn('broker connection lost');
    this.conn = null;
    this.ch = null;
  }

  private async reset(): Promise<void> {
    const conn = this.conn;
    this.conn = null;
    this.ch = null;
    if (conn) {
      conn.removeAllListeners('close');
      // Keep an error listener: a late socket error with none attached would crash the process.
      conn.on('error', () => {});
      await Promise.race([conn.close().catch(() => {}), once(conn, 'close').catch(() => {}), delay(2000)]);
    }
  }
}

function isPreconditionFailed(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 406;
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
