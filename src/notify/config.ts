import type { ObjectReader } from '../config/reader.js';
import { MAX_PEM_FILE_BYTES } from '../config/safe-file.js';
import { PRIORITIES, type Priority } from './envelope.js';

/**
 * The `notifications:` section. Defaults are oslo.messaging's for notifications (topic exchange
 * `openstack`, topic `notifications`, transient exchange and queues as `amqp_durable_queues=False`),
 * so a stock OpenStack consumer sees our messages without configuration.
 */
export interface NotificationsConfig {
  enabled: boolean;
  /** amqp:// or amqps:// URL; may carry user and password, but prefer `password_file`. */
  url: string;
  /** Overrides the URL's password (from `password` or `password_file`). */
  password?: string;
  /** Overrides the URL's vhost. */
  vhost?: string;
  exchange: string;
  topic: string;
  /** Declare exchange and queue durable and publish persistent: needed to survive a broker restart. */
  durable: boolean;
  heartbeatS: number;
  connectTimeoutMs: number;
  tls: TlsFiles;
  reconnect: { initialMs: number; maxMs: number };
  /** Per event type priority overrides, e.g. `instance_ha.instance.failed: WARN`. */
  priorities: Record<string, Priority>;
  outbox: { dir: string; maxRecords: number; maxBytes: number };
  /** Most notifications in flight (published, awaiting confirm) at a time. */
  maxInFlight: number;
  /** Reconnect when a published batch is neither confirmed nor failed within this (broker blocked, half-open TCP). */
  confirmTimeoutMs: number;
  /** How long close() waits for the backlog to be confirmed. */
  closeTimeoutMs: number;
}

export interface TlsFiles {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  keyPassphrase?: string;
  /** SNI / certificate name when it differs from the URL host. */
  servername?: string;
  /** Only for test brokers with self-signed certs and no CA file. */
  verify: boolean;
}

export const NOTIFICATION_DEFAULTS = {
  enabled: false,
  url: 'amqp://guest@127.0.0.1:5672/',
  exchange: 'openstack',
  topic: 'notifications',
  durable: false,
  heartbeatS: 30,
  connectTimeoutMs: 10_000,
  reconnectInitialMs: 500,
  reconnectMaxMs: 30_000,
  outboxDir: '/var/lib/instance-ha/outbox',
  outboxMaxRecords: 10_000,
  outboxMaxBytes: 64 * 1024 * 1024,
  maxInFlight: 500,
  closeTimeoutMs: 5_000,
  confirmTimeoutMs: 30_000,
} as const;

const NAME = /^[A-Za-z0-9_.:-]+$/;
/** An event type such as `instance_ha.instance.failed`. */
const EVENT_TYPE = /^[a-z0-9][a-z0-9_.-]{0,254}$/;

/**
 * Reads the `notifications:` mapping (pass `root.object('notifications')`). Every problem is added to
 * the reader's list with its key path; unknown keys are reported (finish() is called here).
 */
export function readNotificationsConfig(r: ObjectReader): NotificationsConfig {
  const d = NOTIFICATION_DEFAULTS;
  const enabled = r.boolean('enabled', d.enabled);
  const url = r.string('url', { default: d.url, pattern: /^amqps?:\/\/[^\s]+$/, patternHint: 'an amqp:// or amqps:// URL' }) ?? d.url;
  if (enabled && !r.has('url')) r.problem('url', 'is required when notifications are enabled');
  const password = r.secret('password');
  const vhost = r.string('vhost');
  const exchange = r.string('exchange', { default: d.exchange, pattern: NAME, patternHint: 'letters, digits and _.:-' })!;
  const topic = r.string('topic', { default: d.topic, pattern: NAME, patternHint: 'letters, digits and _.:-' })!;
  const durable = r.boolean('durable', d.durable);
  const heartbeatMs = r.durationMs('heartbeat', { default: d.heartbeatS * 1000, min: 0, max: 600_000 });
  const connectTimeoutMs = r.durationMs('connect_timeout', { default: d.connectTimeoutMs, min: 100, max: 300_000 });

  const t = r.object('tls');
  const tls: TlsFiles = {
    caFile: t.filePath('ca_file', { maxBytes: MAX_PEM_FILE_BYTES }),
    certFile: t.filePath('cert_file', { maxBytes: MAX_PEM_FILE_BYTES }),
    keyFile: t.filePath('key_file', { maxBytes: MAX_PEM_FILE_BYTES }),
    keyPassphrase: t.secret('key_passphrase'),
    servername: t.string('servername'),
    verify: t.boolean('verify', true),
  };
  if (t.has('cert_file') !== t.has('key_file')) t.problem('cert_file', "and 'key_file' go together");
  t.finish();
  if ((t.has('ca_file') || t.has('cert_file')) && !url.startsWith('amqps://')) r.problem('tls', 'is set but url is not amqps://');

  const rc = r.object('reconnect');
  const reconnect = {
    initialMs: rc.durationMs('initial', { default: d.reconnectInitialMs, min: 10, max: 60_000 }),
    maxMs: rc.durationMs('max', { default: d.reconnectMaxMs, min: 100, max: 600_000 }),
  };
  if (reconnect.initialMs > reconnect.maxMs)
    rc.problem('initial', `must not be more than reconnect.max (${reconnect.maxMs}ms), got ${reconnect.initialMs}ms`);
  rc.finish();

  const pr = r.object('priorities');
  const priorities: Record<string, Priority> = Object.create(null) as Record<string, Priority>;
  for (const type of Object.keys(objectOrEmpty(r.raw('priorities'))).slice(0, 1000)) {
    if (!EVENT_TYPE.test(type)) {
      pr.problems.push({
        path: pr.keyPath(type.slice(0, 80)),
        reason: 'is not an event type (lower-case letters, digits and _.-, like instance_ha.instance.failed)',
      });
      pr.raw(type);
      continue;
    }
    const p = pr.string(type, { oneOf: PRIORITIES });
    if (p) priorities[type] = p as Priority;
  }
  pr.finish();

  const o = r.object('outbox');
  const outbox = {
    dir: o.string('dir', { default: d.outboxDir })!,
    maxRecords: o.number('max_records', { default: d.outboxMaxRecords, min: 1, max: 10_000_000, integer: true }),
    maxBytes: o.number('max_bytes', { default: d.outboxMaxBytes, min: 64 * 1024, max: 16 * 1024 ** 3, integer: true }),
  };
  o.finish();

  const maxInFlight = r.number('max_in_flight', { default: d.maxInFlight, min: 1, max: 10_000, integer: true });
  const confirmTimeoutMs = r.durationMs('confirm_timeout', { default: d.confirmTimeoutMs, min: 100, max: 600_000 });
  const closeTimeoutMs = r.durationMs('close_timeout', { default: d.closeTimeoutMs, min: 0, max: 600_000 });
  r.finish();
  return {
    enabled,
    url,
    password,
    vhost,
    exchange,
    topic,
    durable,
    heartbeatS: Math.round(heartbeatMs / 1000),
    connectTimeoutMs,
    tls,
    reconnect,
    priorities,
    outbox,
    maxInFlight,
    confirmTimeoutMs,
    closeTimeoutMs,
  };
}

function objectOrEmpty(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** The URL with its password replaced, for logs and status. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<unparseable url>';
  }
}
