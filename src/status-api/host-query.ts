import type { HostClusterState } from '../core/events.js';
import type { StatusSnapshot } from '../core/status-snapshot.js';

type Host = StatusSnapshot['hosts'][number];

/** Every state a host can be in, in the order a summary lists them (worst first after `up`). */
export const HOST_STATES: readonly HostClusterState[] = [
  'up',
  'suspect',
  'failed',
  'fencing',
  'fence_failed',
  'fenced',
  'recovery_failed',
  'recovering',
  'evacuated',
  'maintenance',
  'left',
];

export interface HostQuery {
  /** Only hosts in this state (any string: a state added later is matched by name). */
  state?: string;
  /** Only this host. */
  host?: string;
  offset?: number;
  limit?: number;
}

export interface HostPage {
  /** Hosts per state over the whole cluster (not only the page). */
  counts: Record<string, number>;
  /** Hosts matching the query, before paging. */
  total: number;
  offset: number;
  hosts: Host[];
}

/**
 * Not-up hosts first (what an operator came for), then the rest; by name within each, so a page is
 * stable from one request to the next while nothing changes.
 */
export function attentionOrder(hosts: readonly Host[]): Host[] {
  const notUp = hosts.filter((h) => h.state !== 'up');
  const up = hosts.filter((h) => h.state === 'up');
  return [...notUp, ...up];
}

export function countByState(hosts: readonly Host[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const h of hosts) counts[h.state] = (counts[h.state] ?? 0) + 1;
  return counts;
}

/** One linear pass: filters, counts and pages; used by the status API and `instance-ha status`. */
export function queryHosts(hosts: readonly Host[], q: HostQuery): HostPage {
  const matching = hosts.filter((h) => (q.state === undefined || h.state === q.state) && (q.host === undefined || h.host === q.host));
  const ordered = q.state === undefined && q.host === undefined ? attentionOrder(matching) : matching;
  const offset = q.offset ?? 0;
  const end = q.limit === undefined ? undefined : offset + q.limit;
  return { counts: countByState(hosts), total: matching.length, offset, hosts: ordered.slice(offset, end) };
}

/** `3 up · 2 suspect · 1 fenced`, states in HOST_STATES order, unknown states after. */
export function countsLine(counts: Record<string, number>): string {
  const known = HOST_STATES.filter((s) => counts[s]).map((s) => `${counts[s]!.toLocaleString('en-US')} ${s}`);
  const other = Object.keys(counts)
    .filter((s) => !HOST_STATES.includes(s as HostClusterState) && counts[s])
    .map((s) => `${counts[s]!.toLocaleString('en-US')} ${s}`);
  return [...known, ...other].join(' · ');
}
