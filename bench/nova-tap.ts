import amqp from 'amqplib';
import { decodeEnvelope, payloadData } from '../src/notify/envelope.js';

/**
 * The moment Nova says each server's rebuild ended (`instance.rebuild.end`, Nova's versioned
 * notification, received here): a bench's precise "Nova done", where os-migrations' updated_at has
 * only whole seconds. Its own exclusive queue on the `nova` exchange, so it takes nothing from anyone.
 */
export interface NovaTap {
  /** Receipt time (ms) of the server's latest rebuild end, if one came. */
  rebuiltAt(id: string): number | undefined;
  close(): Promise<void>;
}

export async function startNovaTap(url: string): Promise<NovaTap> {
  const conn = await amqp.connect(url);
  const ch = await conn.createChannel();
  await ch.assertExchange('nova', 'topic', { durable: false });
  const { queue } = await ch.assertQueue('', { exclusive: true, autoDelete: true });
  await ch.bindQueue(queue, 'nova', 'versioned_notifications.info');
  const ends = new Map<string, number>();
  await ch.consume(
    queue,
    (msg) => {
      if (!msg) return;
      const n = decodeEnvelope(msg.content.toString('utf8'));
      const id = n && n.event_type === 'instance.rebuild.end' ? payloadData(n).uuid : undefined;
      if (typeof id === 'string') ends.set(id, Date.now());
    },
    { noAck: true },
  );
  return {
    rebuiltAt: (id) => ends.get(id),
    close: async () => {
      await conn.close().catch(() => undefined);
    },
  };
}
