import type { ClusterEvent, FenceRecord, ServerRef } from '../core/events.js';
import { assertNever } from '../errors.js';
import { incidentMessageId } from './message-id.js';
import { pyJsonDumps, type JsonValue } from './pyjson.js';

/**
 * ClusterEvent → oslo.messaging notification (the `messagingv2` driver's wire format). Pure: the
 * clock and the id generator are inputs, so the same event and inputs always give the same bytes.
 * See docs/notifications.md for every event type and field.
 */

/** oslo's notification priorities, upper case as `Notifier.info()` & co. put them in the message. */
export const PRIORITIES = ['AUDIT', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SAMPLE'] as const;
export type Priority = (typeof PRIORITIES)[number];

export const EVENT_TYPE_PREFIX = 'instance_ha';
/** Versioned-payload namespace, as Nova (`nova_object.*`) and Masakari (`masakari_object.*`) do. */
export const PAYLOAD_NS = 'instance_ha_object';
export const PAYLOAD_VERSION = '1.0';

/** The inner message (`oslo.message`), field order as oslo's Notifier builds it. */
export interface OsloNotification {
  message_id: string;
  publisher_id: string;
  event_type: string;
  priority: Priority;
  payload: { [key: string]: JsonValue };
  timestamp: string;
  /**
   * oslo's AMQP driver adds a fresh one per send; ours is derived from message_id so a re-send
   * carries the same one: oslo's notification listener remembers the last 16 it acknowledged and
   * drops a repeat (amqpdriver NotificationAMQPIncomingMessage.acknowledge). Other consumers
   * de-duplicate on message_id.
   */
  _unique_id: string;
}

export interface EnvelopeDeps {
  /** The monitor's host name: publisher_id is `instance-ha.<monitorHost>`. */
  monitorHost: string;
  /** Wall clock in ms since the epoch (the notification's `timestamp`). */
  now: () => number;
  /** A UUID per notification (crypto.randomUUID in production). */
  newId: () => string;
  /** Per event type priority overrides (config `notifications.priorities`). */
  priorities?: Readonly<Record<string, Priority>>;
}

interface Mapping {
  eventType: string;
  priority: Priority;
  /** Versioned object name: one schema per payload shape. */
  object: string;
  data: { [key: string]: JsonValue };
}

/**
 * THE table: which ClusterEvents become notifications, with which type, priority and payload.
 * Returns null for events that stay internal (suspicion, fencing attempts, coordinator changes):
 * they are noisy, and nothing outside the cluster can act on them.
 */
export function mapEvent(e: ClusterEvent): Mapping | null {
  switch (e.type) {
    case 'host.failed':
      return m('host.failed', 'ERROR', 'HostFailurePayload', {
        host: e.host,
        failed_at: iso(e.at),
        boot_id: e.bootId,
        votes: e.votes,
        last_heard_at: isoOrNull(e.lastHeardAt),
        // Declared on an early power check (its BMC read OFF), not on dead verdicts: when it was read.
        power_read_off_at: isoOrNull(e.powerReadOffAt ?? null),
      });
    case 'host.fenced':
      return m('host.fenced', 'INFO', 'HostFencePayload', { host: e.host, fenced_at: iso(e.at), fence: fence(e.record) });
    case 'host.fence_failed':
      return m('host.fence_failed', 'ERROR', 'HostFencePayload', {
        host: e.host,
        failed_at: iso(e.at),
        fence: fence(e.record),
        retry_in_ms: e.retryInMs,
      });
    case 'host.rejoined':
      // The bus keeps its 1.x name (docs/vocabulary.md): consumers of instance_ha.host.recovered go on working.
      return m('host.recovered', 'INFO', 'HostRecoveredPayload', {
        host: e.host,
        recovered_at: iso(e.at),
        boot_id: e.bootId,
        previous_state: e.previous,
      });
    case 'host.recovery_start':
      return m('host.recovery.start', 'INFO', 'HostRecoveryPayload', { host: e.host, started_at: iso(e.at) });
    case 'host.recovery_end':
      return m('host.recovery.end', e.summary.failed > 0 || e.summary.error ? 'WARN' : 'INFO', 'HostRecoveryPayload', {
        host: e.host,
        finished_at: iso(e.at),
        selected: e.summary.selected,
        evacuated: e.summary.evacuated,
        failed: e.summary.failed,
        notified: e.summary.notified,
        error: e.summary.error ?? null,
      });
    case 'host.maintenance':
      return m('host.maintenance', 'INFO', 'HostMaintenancePayload', { host: e.host, at: iso(e.at), on: e.on, by: e.by });
    case 'host.left':
      // A clean stop: the host is not fenced for its silence and its instances are not protected.
      return m('host.left', 'WARN', 'HostLeftPayload', { host: e.host, left_at: iso(e.leftAt), boot_id: e.bootId });
    case 'instance.evacuate_start':
      return m('instance.evacuate.start', 'INFO', 'InstanceEvacuatePayload', {
        ...server(e.server),
        failed_host: e.host,
        at: iso(e.at),
        attempt: e.attempt,
      });
    case 'instance.evacuate_end':
      return m('instance.evacuate.end', 'INFO', 'InstanceEvacuatePayload', {
        ...server(e.server),
        failed_host: e.host,
        at: iso(e.at),
        target_host: e.targetHost,
        duration_ms: e.durationMs,
      });
    case 'instance.evacuate_error':
      return m('instance.evacuate.error', 'ERROR', 'InstanceEvacuatePayload', {
        ...server(e.server),
        failed_host: e.host,
        at: iso(e.at),
        reason: e.reason,
        attempt: e.attempt,
        final: e.final,
      });
    case 'instance.not_selected':
      // The custom-recovery hand-off: the tenant's tooling acts on this one.
      return m('instance.failed', 'ERROR', 'InstanceFailedPayload', {
        ...server(e.server),
        failed_at: iso(e.at),
        reason: e.reason,
        fence: e.fence ? fence(e.fence) : null,
      });
    case 'cluster.quorum_lost':
      return m('cluster.quorum.lost', 'CRITICAL', 'ClusterQuorumPayload', {
        at: iso(e.at),
        votes: e.votes,
        needed: e.needed,
        members: e.members,
      });
    case 'cluster.quorum_regained':
      return m('cluster.quorum.regained', 'INFO', 'ClusterQuorumPayload', {
        at: iso(e.at),
        votes: e.votes,
        needed: e.needed,
        members: e.members,
      });
    case 'cluster.mass_failure':
      return m('cluster.mass_failure', 'CRITICAL', 'ClusterMassFailurePayload', { at: iso(e.at), hosts: e.hosts, limit: e.limit });
    case 'cluster.mass_failure_cleared':
      return m('cluster.mass_failure.cleared', 'INFO', 'ClusterMassFailurePayload', {
        at: iso(e.at),
        how: e.how,
        hosts: e.hosts,
        ...(e.by !== undefined ? { by: e.by } : {}),
      });
    case 'host.compute_down':
      // nova-compute dead on a live host: its service is disabled, the host is never fenced for it.
      return m('host.compute_down', 'WARN', 'HostComputeDownPayload', {
        host: e.host,
        at: iso(e.at),
        down_since: iso(e.sinceMs),
        down_for_ms: e.downForMs,
      });
    case 'host.compute_up':
      return m('host.compute_up', 'INFO', 'HostComputeUpPayload', {
        host: e.host,
        at: iso(e.at),
        down_for_ms: e.downForMs,
        service_enabled: e.serviceEnabled,
        note: e.note,
      });
    case 'instance.guest_failed':
      // A guest OS failure inside a live host: every one is notified, so tenants can do their own recovery.
      return m('instance.guest_failed', 'ERROR', 'InstanceGuestFailedPayload', {
        instance_uuid: e.instance,
        host: e.host,
        domain: e.domain,
        libvirt_event: e.event,
        detail: e.detail,
        watchdog_action: e.event === 'watchdog' ? e.action : null,
        io_error_action: e.event.startsWith('io-error') ? e.action : null,
        failed_at: iso(e.eventAtMs),
        recovery: e.recovery,
        restarts_in_window: e.restartsInWindow,
      });
    case 'instance.guest_restarted':
      return m('instance.guest_restarted', e.outcome === 'failed' ? 'ERROR' : 'INFO', 'InstanceGuestRestartPayload', {
        instance_uuid: e.instance,
        host: e.host,
        at: iso(e.at),
        outcome: e.outcome,
        reason: e.reason,
      });
    case 'host.suspect':
    case 'host.fencing':
    case 'host.forgotten':
    case 'host.forced_down':
    case 'cluster.coordinator_changed':
      return null;
    default:
      return assertNever(e, 'cluster event');
  }
}

/** Every event type we may publish (docs and the events command's filters use it). */
export const EVENT_TYPES: readonly string[] = [
  'host.failed',
  'host.fenced',
  'host.fence_failed',
  'host.recovered',
  'host.recovery.start',
  'host.recovery.end',
  'host.maintenance',
  'host.left',
  'instance.evacuate.start',
  'instance.evacuate.end',
  'instance.evacuate.error',
  'instance.failed',
  'cluster.quorum.lost',
  'cluster.quorum.regained',
  'cluster.mass_failure',
  'cluster.mass_failure.cleared',
  'host.compute_down',
  'host.compute_up',
  'instance.guest_failed',
  'instance.guest_restarted',
].map((t) => `${EVENT_TYPE_PREFIX}.${t}`);

export function toNotification(e: ClusterEvent, deps: EnvelopeDeps): OsloNotification | null {
  const mapped = mapEvent(e);
  if (!mapped) return null;
  // Once per server and incident: a successor's unavoidable repeat must be dropped by consumers.
  const once = (e.type === 'instance.not_selected' || e.type === 'instance.evacuate_end') && e.incident ? e : null;
  // A guest failure is named by what libvirt said and when: a successor repeating it carries the same id.
  const guest = e.type === 'instance.guest_failed' ? e : null;
  const id = once
    ? incidentMessageId(once.incident!, mapped.eventType, once.server.id)
    : guest
      ? incidentMessageId(`guest:${guest.host}:${guest.eventAtMs}:${guest.event}:${guest.detail}`, mapped.eventType, guest.instance)
      : deps.newId();
  return {
    message_id: id,
    publisher_id: `instance-ha.${deps.monitorHost}`,
    event_type: mapped.eventType,
    priority: deps.priorities?.[mapped.eventType] ?? mapped.priority,
    payload: {
      [`${PAYLOAD_NS}.name`]: mapped.object,
      [`${PAYLOAD_NS}.namespace`]: EVENT_TYPE_PREFIX,
      [`${PAYLOAD_NS}.version`]: PAYLOAD_VERSION,
      [`${PAYLOAD_NS}.data`]: mapped.data,
    },
    timestamp: osloTimestamp(deps.now()),
    _unique_id: id.replace(/-/g, ''),
  };
}

/** The AMQP body: `{"oslo.version": "2.0", "oslo.message": "<the notification as a JSON string>"}`. */
export function encodeEnvelope(n: OsloNotification): string {
  return pyJsonDumps({ 'oslo.version': '2.0', 'oslo.message': pyJsonDumps(n as unknown as JsonValue) });
}

/** Parses a v2 envelope (or a bare v1 message); null when the body is not an oslo notification. */
export function decodeEnvelope(body: string): OsloNotification | null {
  let outer: unknown;
  try {
    outer = JSON.parse(body);
  } catch {
    return null;
  }
  if (!isObject(outer)) return null;
  let inner: unknown = outer;
  if (outer['oslo.version'] !== undefined) {
    if (typeof outer['oslo.message'] !== 'string') return null;
    try {
      inner = JSON.parse(outer['oslo.message']);
    } catch {
      return null;
    }
  }
  if (!isObject(inner) || typeof inner.event_type !== 'string' || typeof inner.message_id !== 'string') return null;
  return inner as unknown as OsloNotification;
}

/** The payload's data whether versioned (`<ns>_object.data`) or flat. */
export function payloadData(n: OsloNotification): Record<string, unknown> {
  const key = Object.keys(n.payload ?? {}).find((k) => k.endsWith('_object.data'));
  const data = key ? n.payload[key] : n.payload;
  return isObject(data) ? data : {};
}

/** `str(datetime.utcnow())` but always with microseconds: `2026-11-21 08:15:00.123000`. */
export function osloTimestamp(ms: number): string {
  // Python omits `.ffffff` when microseconds are 0; we always write them, which every oslo parser
  // (iso8601, timeutils.parse_strtime with %f) accepts and keeps the field fixed-width.
  const iso = new Date(ms).toISOString(); // 2026-11-21T08:15:00.123Z
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}000`;
}

export function routingKey(topic: string, priority: Priority): string {
  return `${topic}.${priority.toLowerCase()}`;
}

function m(type: string, priority: Priority, object: string, data: { [key: string]: JsonValue }): Mapping {
  return { eventType: `${EVENT_TYPE_PREFIX}.${type}`, priority, object, data };
}

function server(s: ServerRef): { [key: string]: JsonValue } {
  return { server_id: s.id, server_name: s.name, project_id: s.projectId, user_id: s.userId, tags: s.tags, host: s.host };
}

function fence(r: FenceRecord): JsonValue {
  return {
    ok: r.ok,
    level: r.level ?? null,
    devices: r.devices ?? [],
    agent: r.agent ?? null,
    duration_ms: r.durationMs,
    error: r.error ?? null,
    by: r.by,
    // Absent unless an operator attested the power-off (instance-ha confirm-fenced).
    ...(r.confirmedBy !== undefined ? { confirmed_by: r.confirmedBy } : {}),
    attempts: r.attempts.map((a) => ({
      level: a.level,
      device: a.device,
      agent: a.agent,
      action: a.action,
      exit_code: a.exitCode,
      ok: a.ok,
      duration_ms: a.durationMs,
      detail: a.detail ?? null,
    })),
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : iso(ms);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
