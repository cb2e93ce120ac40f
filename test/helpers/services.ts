import { connect } from 'node:net';
import { startRabbitNode, sharedRabbitNode, type RabbitNode } from '../../bench/rabbit-node.js';
import type { BrokerConfig } from '../../src/notify/connection.js';

/**
 * External services for integration tests. Unreachable → the suite is skipped with a clear message,
 * unless INSTANCE_HA_REQUIRE_SERVICES=1 (CI), where a missing service fails the run instead.
 */
export const SHARED_RABBIT_URL = process.env.INSTANCE_HA_RABBIT_URL ?? 'amqp://guest:guest@127.0.0.1:5672/';
export const requireServices = process.env.INSTANCE_HA_REQUIRE_SERVICES === '1';

/** The shared broker as a recoverer hears Nova's notifications on it (credentials in the URL); a fresh copy each call. */
export function sharedBroker(): BrokerConfig {
  return { url: SHARED_RABBIT_URL, password: undefined, vhost: undefined, heartbeatS: 10, connectTimeoutMs: 5_000, tls: { verify: true } };
}

export async function rabbitReachable(url = SHARED_RABBIT_URL): Promise<boolean> {
  const u = new URL(url);
  const ok = await new Promise<boolean>((resolve) => {
    const s = connect({ host: u.hostname, port: Number(u.port || 5672), timeout: 2000 });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
    s.once('timeout', () => (s.destroy(), resolve(false)));
  });
  if (!ok) {
    const msg = `RabbitMQ not reachable at ${u.host}: start it with 'rabbitmq-server -detached'`;
    if (requireServices) throw new Error(`${msg} (INSTANCE_HA_REQUIRE_SERVICES=1, so this fails)`);
    console.warn(`SKIPPED: ${msg}`);
  }
  return ok;
}

/**
 * A broker we may disrupt: a dedicated node when one starts, otherwise the shared one (whose
 * disruptions the tests keep short). The shared node is only used when it is reachable.
 */
export async function disruptableRabbit(): Promise<RabbitNode> {
  try {
    return await startRabbitNode();
  } catch (err) {
    console.warn(`dedicated RabbitMQ node unavailable (${(err as Error).message}); using the shared broker`);
    return sharedRabbitNode(SHARED_RABBIT_URL);
  }
}
