import { readFileSync } from 'node:fs';
import { parseHostPort, type HostPort } from './address.js';
import type { ObjectReader } from './reader.js';

/**
 * The operator-facing endpoints of a monitor: the read-only status API (with the dashboard) and the
 * Prometheus metrics endpoint. Both default to loopback; anything else must be asked for.
 */
export interface OpsConfig {
  statusApi: {
    enabled: boolean;
    listen: HostPort;
    token: string | null;
    tls: { cert: string; key: string } | null;
    historyMaxBytes: number;
  };
  metrics: { enabled: boolean; listen: HostPort };
}

export const DEFAULT_STATUS_API_LISTEN = '127.0.0.1:7411';
export const DEFAULT_METRICS_LISTEN = '127.0.0.1:9411';

/** True for addresses only this machine can reach (where no token is needed). */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function listenAddress(r: ObjectReader, def: string): HostPort {
  const s = r.string('listen', { default: def })!;
  const a = parseHostPort(s);
  if (!a) {
    r.problem('listen', `must be host:port or [v6]:port, got '${s}'`);
    return parseHostPort(def)!;
  }
  return a;
}

/** Reads the optional `status_api:` and `metrics:` sections of monitor.yaml. */
export function readOpsConfig(root: ObjectReader): OpsConfig {
  const s = root.object('status_api');
  const statusEnabled = s.boolean('enabled', true);
  const statusListen = listenAddress(s, DEFAULT_STATUS_API_LISTEN);
  const token = s.secret('token') ?? null;
  if (token !== null && token.length < 16) s.problem('token', 'must be at least 16 characters');
  // A status API reachable from other machines shows every host and decision: never without a token.
  if (statusEnabled && !isLoopback(statusListen.host) && token === null) {
    s.problem('listen', `is ${statusListen.host}, not a loopback address: set token_file (a bearer token) or bind 127.0.0.1`);
  }
  const tls = readTls(s.object('tls'), s.has('tls'));
  const historyMaxBytes = s.number('history_max_bytes', { default: 64 * 1024 * 1024, min: 64 * 1024, integer: true });
  s.finish();

  const m = root.object('metrics');
  const metricsEnabled = m.boolean('enabled', true);
  const metricsListen = listenAddress(m, DEFAULT_METRICS_LISTEN);
  m.finish();
  return {
    statusApi: { enabled: statusEnabled, listen: statusListen, token, tls, historyMaxBytes },
    metrics: { enabled: metricsEnabled, listen: metricsListen },
  };
}

/** `status_api.tls`: a PEM certificate (chain) and its key (a secret: mode 0600, like every key). */
function readTls(t: ObjectReader, present: boolean): { cert: string; key: string } | null {
  const certFile = t.string('cert_file');
  const key = t.secret('key');
  t.finish();
  if (!present) return null;
  if (!certFile) t.problem('cert_file', 'is required with tls');
  if (key === undefined && !t.problems.some((p) => p.path.startsWith(t.keyPath('key')))) t.problem('key_file', 'is required with tls');
  let cert: string | undefined;
  if (certFile) {
    try {
      cert = readFileSync(certFile, 'utf8');
      if (!cert.includes('-----BEGIN CERTIFICATE-----')) t.problem('cert_file', `${certFile} holds no PEM certificate`);
    } catch (err) {
      t.problem('cert_file', `cannot read ${certFile}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  }
  return cert && key ? { cert, key } : null;
}
