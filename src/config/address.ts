import { isIP } from 'node:net';
import { isValidHostName } from './host-name.js';

/** `host:port` or `[v6]:port`, as operators write addresses. */
export interface HostPort {
  host: string;
  port: number;
}

/** The host must be an IP address or a host name (RFC 1123), the port 1–65535. */
export function parseHostPort(s: string): HostPort | undefined {
  const m = /^\[([0-9a-fA-F:.]+)\]:(\d{1,5})$/.exec(s) ?? /^([^:\s]+):(\d{1,5})$/.exec(s);
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port < 1 || port > 65_535) return undefined;
  const host = m[1]!;
  if (s.startsWith('[') ? isIP(host) !== 6 : isIP(host) === 0 && !isValidHostName(host)) return undefined;
  return { host, port };
}

export function formatHostPort(a: HostPort): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
