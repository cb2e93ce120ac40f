import { MAX_PEM_FILE_BYTES, readTextFileOrThrow } from '../config/safe-file.js';
import amqp from 'amqplib';
import type { NotificationsConfig } from './config.js';

/**
 * Turns the `notifications:` config into amqplib connect arguments: the URL's parts with the
 * password (from password_file) and vhost overrides applied, heartbeats, connect timeout and TLS
 * files. Certificates are read at every connect so a rotated cert is picked up on reconnect.
 */
export type BrokerConfig = Pick<NotificationsConfig, 'url' | 'password' | 'vhost' | 'heartbeatS' | 'connectTimeoutMs' | 'tls'>;

export interface ConnectArgs {
  url: amqp.Options.Connect;
  socket: amqp.SocketOptions;
}

export function connectArgs(cfg: BrokerConfig, connectionName: string): ConnectArgs {
  const u = new URL(cfg.url);
  const tlsOn = u.protocol === 'amqps:';
  // An empty path means the default vhost "/"; "/%2F" is the URL spelling of "/" too.
  const pathVhost = u.pathname.length > 1 ? decodeURIComponent(u.pathname.slice(1)) : '/';
  const url: amqp.Options.Connect = {
    protocol: tlsOn ? 'amqps' : 'amqp',
    hostname: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port ? Number(u.port) : tlsOn ? 5671 : 5672,
    username: u.username ? decodeURIComponent(u.username) : 'guest',
    password: cfg.password ?? (u.password ? decodeURIComponent(u.password) : 'guest'),
    vhost: cfg.vhost ?? pathVhost,
    heartbeat: cfg.heartbeatS,
    locale: 'en_US',
  };
  const socket: amqp.SocketOptions = {
    timeout: cfg.connectTimeoutMs,
    noDelay: true,
    // Lets an operator (and our tests) find this connection in `rabbitmqctl list_connections`.
    clientProperties: { connection_name: connectionName, product: 'instance-ha' },
  };
  if (tlsOn) {
    const t = cfg.tls;
    if (t.caFile) socket.ca = [readTextFileOrThrow(t.caFile, MAX_PEM_FILE_BYTES)];
    if (t.certFile) socket.cert = readTextFileOrThrow(t.certFile, MAX_PEM_FILE_BYTES);
    if (t.keyFile) socket.key = readTextFileOrThrow(t.keyFile, MAX_PEM_FILE_BYTES);
    if (t.keyPassphrase) socket.passphrase = t.keyPassphrase;
    if (t.servername) socket.servername = t.servername;
    socket.rejectUnauthorized = t.verify;
  }
  return { url, socket };
}

export function connectBroker(cfg: BrokerConfig, connectionName: string): Promise<amqp.ChannelModel> {
  const { url, socket } = connectArgs(cfg, connectionName);
  return amqp.connect(url, socket);
}

/** An error message safe to log and show in status: the password never appears in it. */
export function safeMessage(err: unknown, password?: string): string {
  let msg = err instanceof Error ? err.message : String(err);
  if (password) msg = msg.split(password).join('***');
  return msg.replace(/(amqps?:\/\/[^:/@\s]*:)[^@\s]*@/g, '$1***@');
}

/** Password from the password override or the URL (for scrubbing messages). */
export function passwordOf(cfg: BrokerConfig): string | undefined {
  if (cfg.password) return cfg.password;
  try {
    const p = new URL(cfg.url).password;
    return p ? decodeURIComponent(p) : undefined;
  } catch {
    return undefined;
  }
}
