import type amqp from 'amqplib';

/**
 * A consumer of our notifications bound as a tenant's tooling would bind one: plain amqplib, an
 * exclusive queue on `exchange` for every `notifications.*` topic, the oslo envelope unwrapped by
 * hand. The tests and benches check what reaches the broker with it, so it shares nothing with
 * the daemon's own AMQP code (src/notify). The caller owns `conn` and closes it; `T` is the shape
 * the caller reads of the inner message (not checked).
 */
export async function consumeNotifications<T = { event_type: string; payload: Record<string, unknown> }>(
  conn: amqp.ChannelModel,
  exchange: string,
  onNotification: (inner: T, receivedAt: number) => void,
): Promise<void> {
  const ch = await conn.createChannel();
  await ch.assertExchange(exchange, 'topic', { durable: false });
  const q = await ch.assertQueue('', { exclusive: true, autoDelete: true });
  await ch.bindQueue(q.queue, exchange, 'notifications.*');
  await ch.consume(
    q.queue,
    (m) => {
      if (!m) return;
      // Taken before parsing, so a latency measured from it is the broker's delivery.
      const receivedAt = Date.now();
      const outer = JSON.parse(m.content.toString()) as { 'oslo.message': string };
      onNotification(JSON.parse(outer['oslo.message']) as T, receivedAt);
    },
    { noAck: true },
  );
}
