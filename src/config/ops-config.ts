import { parseHostPort, type HostPort } from './address.js';
import { describe, type ObjectReader } from './reader.js';
import { readTextFile } from './safe-file.js';

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
  /** `token`: bearer token required on /metrics (required by config when not on loopback). */
  metrics: { enabled: boolean; listen: HostPort; token: string | null };
}

export const DEFAULT_STATUS_API_LISTEN = '127.0.0.1:7411';
export const DEFAULT_METRICS_LISTEN = '127.0.0.1:9411';
/** Largest history.jsonl kept before rotation. */
export const MAX_HISTORY_BYTES = 16 * 1024 ** 3;

/** True for addresses only this machine can reach (where no token is needed). */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function listenAddress(r: ObjectReader, def: string): HostPort {
  const s = r.string('listen', { default: def })!;
  const a = parseHostPort(s);
  if (!a) {
    r.problem('listen', `must be host:port or [v6]:port, got ${describe(s)}`);
    return parseHostPort(def)!;
  }
  return a;
}

/** Reads the optional `status_api:` and `metrics:` sections of monitor.yaml. */
export function readOpsConfig(root: ObjectReader): OpsConfig {
  const s = root.object('status_api');
  const statusEnabled = s.boolean('enabled', true);
  const statusListen = listenAddress(s, DEFAULT_STATUS_API_LISTEN);
  const token = readToken(s);
  // A status API reachable from other machines shows every host and decision: never without a token.
  if (statusEnabled && !isLoopback(statusListen.host) && token === null) {
    s.problem('listen', `is ${statusListen.host}, not a loopback address: set token_file (a bearer token) or bind 127.0.0.1`);
  }
  const tls = readTls(s.object('tls'), s.has('tls'));
  const historyMaxBytes = s.number('history_max_bytes', {
    default: 64 * 1024 * 1024,
    min: 64 * 1024,
    max: MAX_HISTORY_BYTES,
    integer: true,
  });
  s.finish();

  const m = root.object('metrics');
  const metricsEnabled = m.boolean('enabled', true);
  const metricsListen = listenAddress(m, DEFAULT_METRICS_LISTEN);
  const metricsToken = readToken(m);
  // Same rule as the status API: the metrics name every host and its state.
  if (metricsEnabled && !isLoopback(metricsListen.host) && metricsToken === null) {
    m.problem('listen', `is ${metricsListen.host}, not a loopback address: set token_file (a bearer token) or bind 127.0.0.1`);
  }
  m.finish();
  return {
    statusApi: { enabled: statusEnabled, listen: statusListen, token, tls, historyMaxBytes },
    metrics: { enabled: metricsEnabled, listen: metricsListen, token: metricsToken },
  };
}

/** `token` / `token_file`: a bearer token of 16 to 4096 characters. */
function readToken(r: ObjectReader): string | null {
  const token = r.secret('token') ?? null;
  if (token === null) return null;
  if (token.length < 16 || token.length > 4096) {
    r.problem('token', `must be between 16 and 4096 characters, got ${token.length}`);
    return null;
  }
  // It travels in an HTTP header: printable ASCII only, or clients could never send it.
  if (!/^[\x21-\x7e]+$/.test(token)) {
    r.problem('token', 'must be printable ASCII without spaces (it travels in the Authorization header)');
    return null;
  }
  return token;
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
    const res = readTextFile(certFile, 1024 * 1024);
    if (!res.ok) t.problem('cert_file', res.reason);
    else if (!res.text.includes('-----BEGIN CERTIFICATE-----')) t.problem('cert_file', `${certFile} holds no PEM certificate`);
    else cert = res.text;
  }
  return cert && key ? { cert, key } : null;
}
