import { randomUUID } from 'node:crypto';
import { silentLogger } from '../../src/log.js';
import { NOTIFICATION_DEFAULTS, type NotificationsConfig } from '../../src/notify/config.js';
import { payloadData, type OsloNotification } from '../../src/notify/envelope.js';
import { tapNotifications } from '../../src/notify/tap.js';

/**
 * A tap of a fresh exchange on the broker, bound before it resolves: a test starts its monitors
 * publishing to `exchange` only then, so it counts every notification they send and none of
 * another test's.
 */
export async function tapFreshExchange(
  brokerUrl: string,
  prefix: string,
): Promise<{ exchange: string; seen: OsloNotification[]; stop: () => void }> {
  const exchange = `${prefix}-${randomUUID().slice(0, 8)}`;
  const cfg: NotificationsConfig = {
    enabled: true,
    url: brokerUrl,
    exchange,
    topic: NOTIFICATION_DEFAULTS.topic,
    durable: false,
    heartbeatS: 30,
    connectTimeoutMs: 5_000,
    tls: { verify: true },
    reconnect: { initialMs: 200, maxMs: 2_000 },
    priorities: {},
    maxInFlight: 10,
    confirmTimeoutMs: 5_000,
    closeTimeoutMs: 1_000,
    outbox: { dir: '/nonexistent', maxRecords: 1, maxBytes: 65_536 },
  };
  const seen: OsloNotification[] = [];
  const ac = new AbortController();
  let ready!: () => void;
  const bound = new Promise<void>((r) => (ready = r));
  void tapNotifications(cfg, (n) => seen.push(n), { follow: true, idleMs: 0, log: silentLogger(), signal: ac.signal, onReady: ready });
  await bound;
  return { exchange, seen, stop: () => ac.abort() };
}

/** Notifications of one type per server: the messages delivered and their distinct message ids. */
export function perServer(seen: readonly OsloNotification[], eventType: string): Map<string, { delivered: number; ids: Set<string> }> {
  const out = new Map<string, { delivered: number; ids: Set<string> }>();
  for (const n of seen) {
    if (n.event_type !== `instance_ha.${eventType}`) continue;
    const id = String(payloadData(n).server_id);
    const e = out.get(id) ?? { delivered: 0, ids: new Set<string>() };
    e.delivered++;
    e.ids.add(n.message_id);
    out.set(id, e);
  }
  return out;
}
