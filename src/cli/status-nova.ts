import type { StatusSnapshot } from '../core/status-snapshot.js';
import type { NovaServicesStatus } from '../openstack/service-poller.js';

/** Nova's view of the compute services, when the monitor polls it (compute configured); else null. */
export function novaSection(s: StatusSnapshot): NovaServicesStatus | null {
  const n = (s as StatusSnapshot & { nova?: NovaServicesStatus }).nova;
  return n && typeof n === 'object' && typeof n.services === 'object' ? n : null;
}

/**
 * Nova's own word on a host's nova-compute: `up`, `down`, `down, forced_down`, `…, disabled (reason)`.
 * `?` until the first poll answers; `not in Nova` for a host Nova does not list.
 */
export function novaCell(s: StatusSnapshot, host: string): string {
  const n = novaSection(s);
  if (!n || n.polledAt === null) return '?';
  const v = n.services[host];
  if (!v) return 'not in Nova';
  const parts: string[] = [v.state];
  if (v.forcedDown) parts.push('forced_down');
  if (v.status === 'disabled') parts.push(v.disabledReason ? `disabled (${clip(v.disabledReason, 40)})` : 'disabled');
  return parts.join(', ');
}

/** One line under the hosts: how fresh Nova's view is, or why there is none. */
export function novaLine(n: NovaServicesStatus, nowMs: number): string {
  const when = n.polledAt === null ? 'never answered' : `as of ${secondsAgo(nowMs - Date.parse(n.polledAt))} ago`;
  const err = n.error ? `; last poll failed: ${clip(n.error, 100)}` : '';
  return `NOVA SAYS: os-services ${when} (polled every ${Math.round(n.intervalMs / 1000)}s)${err}`;
}

function secondsAgo(ms: number): string {
  return `${Math.max(0, Math.round(ms / 1000))}s`;
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
