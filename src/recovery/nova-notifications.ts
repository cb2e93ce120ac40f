import type amqp from 'amqplib';
import type { Logger } from '../log.js';
import { connectBroker, passwordOf, safeMessage, type BrokerConfig } from '../notify/connection.js';
import { decodeEnvelope, payloadData } from '../notify/envelope.js';
import type { NovaNotificationsConfig } from './config.js';
import type { EvacuationTracker } from './tracker.js';

/**
 * Listens to Nova's own versioned notifications so tracking learns of an evacuation's end at once
 * instead of at the next poll. A notification is only a hint: it asks the tracker for a poll now
 * (bounded by min_poll_gap), and the poll's listing — Nova's API — still decides that a server is
 * ACTIVE on another host. Nothing is read from the payload but the instance uuid.
 *
 * Event types (Nova notification reference, https://docs.openstack.org/nova/latest/reference/notifications.html,
 * samples doc/notification_samples/instance-evacuate.json, instance-rebuild-end.json):
 *   instance.evacuate        InstanceActionPayload, sent by the destination compute as it starts the rebuild
 *   instance.rebuild.start   InstanceActionRebuildPayload (evacuate runs the rebuild path)
 *   instance.rebuild.end     InstanceActionRebuildPayload: the server is ACTIVE (or SHUTOFF) on the destination
 *   instance.rebuild.error   InstanceActionRebuildPayload, priority ERROR
 *   instance.update          InstanceUpdatePayload (state changes, notify_on_state_change)
 * payload field used: `nova_object.data.uuid`. Topic `versioned_notifications.info|error` on the
 * `nova` exchange (nova/conf/notifications.py versioned_notifications_topics; nova/config.py control_exchange).
 */
export const NOVA_EVENT_TYPES = ['instance.evacuate', 'instance.rebuild.end', 'instance.rebuild.error', 'instance.update'] as const;

/**
 * Whether a notification says an evacuation may have ended (worth a poll now): rebuild.end/.error,
 * or an instance.update with no task left. instance.evacuate marks the rebuild's start: it is
 * counted but asks for nothing (the server is still REBUILD).
 */
export function endsAnEvacuation(eventType: string, data: Record<string, unknown>): boolean {
  if (eventType === 'instance.rebuild.end' || eventType === 'instance.rebuild.error') return true;
  return eventType === 'instance.update' && data.task_state === null && typeof data.state === 'string';
}

/** Bounds: messages larger than this are dropped unread; prefetch; reconnect backoff. */
export const NOVA_LISTENER_LIMITS = { maxMessageBytes: 256 * 1024, prefetch: 200, minBackoffMs: 500, maxBackoffMs: 30_000 };

export interface NovaListenerOptions {
  broker: BrokerConfig;
  cfg: NovaNotificationsConfig;
  tracker: Pick<EvacuationTracker, 'isTracked' | 'kick' | 'heard'>;
  log: Logger;
  connectionName: string;
}

export interface NovaListenerStatus {
  connected: boolean;
  /** Set while not connected: why, and since when (ISO). */
  error: string | null;
  since: string | null;
  received: number;
  kicks: number;
  /** Notifications per event type instance-ha reads (NOVA_EVENT_TYPES only: bounded). */
  byType: Record<string, number>;
}

export interface NovaListener {
  /** Resolves once the queue is bound (or rejects with the first connect error). */
  ready(): Promise<void>;
  status(): NovaListenerStatus;
  /** nova_notifications_lost while the listener has no connection (polling alone carries on). */
  alarms(): Array<{ kind: string; message: string; since?: string }>;
  close(): Promise<void>;
}

export function startNovaListener(o: NovaListenerOptions): NovaListener {
  const secret = passwordOf(o.broker);
  const st: NovaListenerStatus = {
    connected: false,
    error: 'not connected yet',
    since: new Date().toISOString(),
    received: 0,
    kicks: 0,
    byType: {},
  };
  let conn: amqp.ChannelModel | null = null;
  let closed = false;
  let backoff = NOVA_LISTENER_LIMITS.minBackoffMs;
  let timer: NodeJS.Timeout | null = null;
  let firstResolve: () => void = () => undefined;
  let firstReject: (e: unknown) => void = () => undefined;
  let settled = false;
  const first = new Promise<void>((res, rej) => {
    firstResolve = res;
    firstReject = rej;
  });
  first.catch(() => undefined);

  const lost = (why: string): void => {
    if (st.connected || st.error === null) st.since = new Date().toISOString();
    st.connected = false;
    st.error = why;
    conn = null;
    if (closed) return;
    o.log.warn({ reason: why, retryInMs: backoff }, 'Nova notifications: no connection to the broker; tracking polls alone meanwhile');
    timer = setTimeout(() => void connect(), backoff);
    backoff = Math.min(backoff * 2, NOVA_LISTENER_LIMITS.maxBackoffMs);
  };

  const onMessage = (ch: amqp.Channel, msg: amqp.ConsumeMessage | null): void => {
    if (!msg) return lost('the broker cancelled the consumer');
    ch.ack(msg);
    st.received++;
    if (msg.content.length > NOVA_LISTENER_LIMITS.maxMessageBytes) return;
    const n = decodeEnvelope(msg.content.toString('utf8'));
    if (!n || !(NOVA_EVENT_TYPES as readonly string[]).includes(n.event_type)) return;
    st.byType[n.event_type] = (st.byType[n.event_type] ?? 0) + 1;
    const data = payloadData(n);
    const uuid = data.uuid;
    if (typeof uuid !== 'string' || !o.tracker.isTracked(uuid)) return;
    // Any of them shows Nova's notifications reach us for the servers tracked (the cadence relaxes).
    o.tracker.heard();
    if (endsAnEvacuation(n.event_type, data)) {
      st.kicks++;
      o.tracker.kick(uuid);
    }
  };

  const connect = async (): Promise<void> => {
    timer = null;
    if (closed) return;
    try {
      const c = await connectBroker(o.broker, o.connectionName);
      if (closed) {
        await c.close().catch(() => undefined);
        return;
      }
      c.on('error', (err: Error) => o.log.warn({ reason: safeMessage(err, secret) }, 'Nova notifications: broker connection error'));
      c.on('close', () => {
        if (conn === c) lost('connection to the broker closed');
      });
      const ch = await c.createChannel();
      // Nova (oslo) declares its control exchange as a non-durable topic exchange; declaring it the
      // same way is a no-op when it exists and lets us bind before Nova's first notification.
      await ch.assertExchange(o.cfg.exchange, 'topic', { durable: false });
      // Our own exclusive queue: we never take messages from another consumer's (e.g. Ceilometer's) queue.
      const q = await ch.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
      for (const prio of ['info', 'error']) await ch.bindQueue(q.queue, o.cfg.exchange, `${o.cfg.topic}.${prio}`);
      await ch.prefetch(NOVA_LISTENER_LIMITS.prefetch);
      await ch.consume(q.queue, (m) => onMessage(ch, m));
      conn = c;
      st.connected = true;
      st.error = null;
      st.since = null;
      backoff = NOVA_LISTENER_LIMITS.minBackoffMs;
      o.log.info({ exchange: o.cfg.exchange, topic: o.cfg.topic }, 'listening to Nova versioned notifications');
      if (!settled) {
        settled = true;
        firstResolve();
      }
    } catch (err) {
      const why = safeMessage(err, secret);
      if (!settled) {
        settled = true;
        firstReject(new Error(`Nova notifications: ${why}`));
      }
      lost(why);
    }
  };
  void connect();

  return {
    ready: () => first,
    status: () => ({ ...st, byType: { ...st.byType } }),
    alarms: () =>
      st.connected || closed
        ? []
        : [
            {
              kind: 'nova_notifications_lost',
              message: `Nova notifications not received: ${st.error ?? 'not connected'} (tracking polls alone)`,
              ...(st.since ? { since: st.since } : {}),
            },
          ],
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      const c = conn;
      conn = null;
      await c?.close().catch(() => undefined);
    },
  };
}
