import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import { encodeEnvelope, osloTimestamp, routingKey, type OsloNotification } from '../../notify/envelope.js';
import type { JsonValue } from '../../notify/pyjson.js';

/**
 * Puts the simulator's versioned notifications on RabbitMQ as Nova does with
 * `[notifications] notification_format = versioned` and `[oslo_messaging_notifications]
 * driver = messagingv2`: the oslo v2 envelope, on the `nova` topic exchange (control_exchange),
 * routing key `versioned_notifications.<priority>` (nova/conf/notifications.py
 * versioned_notifications_topics). Loopback brokers only (the tests' and benches').
 */
export interface SimNotificationsOptions {
  url: string;
  exchange?: string;
  topic?: string;
}

export interface SimNotifier {
  emit(eventType: string, payload: Record<string, unknown>, priority: 'INFO' | 'ERROR'): void;
  /** Notifications handed to the broker. */
  sent(): number;
  close(): Promise<void>;
}

export async function startSimNotifier(o: SimNotificationsOptions): Promise<SimNotifier> {
  const host = new URL(o.url).hostname;
  if (!/^127\.|^localhost$|^\[?::1\]?$/.test(host)) throw new Error(`nova-sim notifications: loopback brokers only, got ${host}`);
  const exchange = o.exchange ?? 'nova';
  const topic = o.topic ?? 'versioned_notifications';
  const conn = await amqp.connect(o.url);
  const ch = await conn.createChannel();
  // oslo declares the control exchange as a non-durable topic exchange (amqp_durable_queues=False).
  await ch.assertExchange(exchange, 'topic', { durable: false });
  let sent = 0;
  return {
    emit(eventType, payload, priority) {
      const n: OsloNotification = {
        message_id: randomUUID(),
        publisher_id: `nova-compute:${String((payload['nova_object.data'] as { host?: string } | undefined)?.host ?? 'sim')}`,
        event_type: eventType,
        priority,
        payload: payload as { [k: string]: JsonValue },
        timestamp: osloTimestamp(Date.now()),
        _unique_id: randomUUID().replace(/-/g, ''),
      };
      ch.publish(exchange, routingKey(topic, priority), Buffer.from(encodeEnvelope(n)), { contentType: 'application/json' });
      sent++;
    },
    sent: () => sent,
    async close() {
      await ch.close().catch(() => undefined);
      await conn.close().catch(() => undefined);
    },
  };
}
