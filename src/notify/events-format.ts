import { EVENT_TYPE_PREFIX, payloadData, type OsloNotification } from './envelope.js';

/** How `instance-ha events` shows one notification (pure). */

/**
 * `--type` patterns: `*` matches any run of characters, e.g. `instance_ha.instance.*`. A bare suffix
 * like `host.failed` is taken under our prefix.
 */
export function typeMatcher(pattern: string | undefined): (eventType: string) => boolean {
  if (!pattern) return (t) => t.startsWith(`${EVENT_TYPE_PREFIX}.`);
  const full = pattern.startsWith(`${EVENT_TYPE_PREFIX}.`) || pattern.startsWith('*') ? pattern : `${EVENT_TYPE_PREFIX}.${pattern}`;
  const re = new RegExp('^' + full.split('*').map(escapeRe).join('.*') + '$');
  return (t) => re.test(t);
}

/**
 * The monitor that published a notification: its publisher_id is `instance-ha.<monitor>` (an
 * unknown publisher is shown as it is, so a foreign one on the exchange is visible, never hidden).
 */
export function publisherOf(n: OsloNotification): string {
  const id = typeof n.publisher_id === 'string' ? n.publisher_id : '?';
  return id.startsWith('instance-ha.') ? id.slice('instance-ha.'.length) : id;
}

/** `--from` patterns: a monitor id, `*` matching any run of characters (`ctl*`); none: every publisher. */
export function publisherMatcher(pattern: string | undefined): (n: OsloNotification) => boolean {
  if (!pattern) return () => true;
  const re = new RegExp('^' + pattern.split('*').map(escapeRe).join('.*') + '$');
  return (n) => re.test(publisherOf(n)) || re.test(String(n.publisher_id));
}

/** `2026-11-21 08:15:00.123000 ERROR instance_ha.host.failed from=ctl1 host=cmp1 server=- outcome: failed (votes ctl1,ctl2)` */
export function formatLine(n: OsloNotification): string {
  const d = payloadData(n);
  const host = str(d.failed_host) ?? str(d.host) ?? '-';
  const server = d.server_id ? `${str(d.server_id)}${d.server_name ? `(${str(d.server_name)})` : ''}` : '-';
  const head = `${n.timestamp} ${String(n.priority).padEnd(5)} ${n.event_type} from=${publisherOf(n)}`;
  return `${head} host=${host} server=${server} outcome: ${outcome(n.event_type, d)}`;
}

function outcome(type: string, d: Record<string, unknown>): string {
  const fence = (d.fence ?? {}) as Record<string, unknown>;
  switch (type.slice(EVENT_TYPE_PREFIX.length + 1)) {
    case 'host.failed':
      return `failed (votes ${list(d.votes)}${d.power_read_off_at ? `; power read off at ${str(d.power_read_off_at)}` : ''})`;
    case 'host.fenced':
      return `fenced by ${str(fence.by)} via ${str(fence.agent) ?? '?'} level ${str(fence.level) ?? '?'}`;
    case 'host.fence_failed':
      return `fence failed: ${str(fence.error) ?? 'unknown'}; retry in ${str(d.retry_in_ms)}ms`;
    case 'host.recovered':
      return `back in service (was ${str(d.previous_state)})`;
    case 'host.recovery.start':
      return 'recovery started';
    case 'host.recovery.end':
      return `evacuated ${str(d.evacuated)}/${str(d.selected)}, failed ${str(d.failed)}, notified ${str(d.notified)}${d.error ? `: ${str(d.error)}` : ''}`;
    case 'host.maintenance':
      return `maintenance ${d.on ? 'on' : 'off'} by ${str(d.by)}`;
    case 'host.left':
      return 'left cleanly (beacon stopped): not fenced, NOT protected';
    case 'instance.evacuate.start':
      return `evacuating (attempt ${str(d.attempt)})`;
    case 'instance.evacuate.end':
      return `evacuated to ${str(d.target_host)} in ${str(d.duration_ms)}ms`;
    case 'instance.evacuate.error':
      return `evacuation error: ${str(d.reason)} (attempt ${str(d.attempt)}${d.final ? ', final' : ''})`;
    case 'instance.failed':
      return `not selected: ${str(d.reason)}`;
    case 'cluster.quorum.lost':
      return `quorum lost (${str(d.votes)}/${str(d.needed)} votes)`;
    case 'cluster.quorum.regained':
      return `quorum regained (${str(d.votes)}/${str(d.needed)} votes)`;
    case 'cluster.mass_failure':
      return `mass failure, recovery held: ${list(d.hosts)} (limit ${str(d.limit)})`;
    case 'cluster.mass_failure.cleared':
      return `mass failure cleared (${str(d.how)}${Array.isArray(d.hosts) && d.hosts.length > 0 ? `: ${list(d.hosts)}` : ''})`;
    default:
      return '-';
  }
}

function str(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function list(v: unknown): string {
  return Array.isArray(v) ? v.join(',') : '-';
}

function escapeRe(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}
