import type { ClusterEvent, HostClusterState } from './events.js';
import type { HostDecision } from './messages.js';

/**
 * The names of 0.x before the one vocabulary (docs/vocabulary.md), and what they are called now.
 * State files and history written by a previous version are read through these, so an upgrade
 * keeps its decisions and its history; nothing writes the old names any more. The bus's oslo
 * event types did not change (envelope.ts), so consumers need no mapping.
 */
export const LEGACY_STATE_NAMES: Readonly<Record<string, HostClusterState>> = {
  // Said "recovered" although the host is powered off and only its instances moved.
  recovered: 'evacuated',
};

export const LEGACY_EVENT_TYPES: Readonly<Record<string, ClusterEvent['type']>> = {
  // Said "recovered" for a host back in service, while the state `recovered` meant powered off.
  'host.recovered': 'host.rejoined',
  // The bus says host.recovery.start / .end: history now says the same with `_` for the last dot.
  'host.recovery_started': 'host.recovery_start',
  'host.recovery_finished': 'host.recovery_end',
  // The server was not selected for automatic evacuation (the bus's instance.failed, kept stable).
  'instance.not_recovered': 'instance.not_selected',
};

/** A state name as this version calls it (an unknown one is returned unchanged, for the caller to judge). */
export function currentStateName(state: string): string {
  return Object.hasOwn(LEGACY_STATE_NAMES, state) ? LEGACY_STATE_NAMES[state]! : state;
}

/**
 * An event as this version names it: its type and, for the events that carry one, the previous
 * state. Returns the same object when nothing is old, a copy otherwise (the input is not changed).
 */
export function currentEvent<E extends { type: string }>(e: E): E {
  const type = Object.hasOwn(LEGACY_EVENT_TYPES, e.type) ? LEGACY_EVENT_TYPES[e.type]! : e.type;
  const rec = e as unknown as Record<string, unknown>;
  const previous = typeof rec.previous === 'string' ? currentStateName(rec.previous) : rec.previous;
  if (type === e.type && previous === rec.previous) return e;
  return { ...e, type, ...(previous !== undefined ? { previous } : {}) };
}

/**
 * Every history event type and every state, checked by the compiler (a Record needs every key):
 * docs/vocabulary.md must name each (test/config/docs.test.ts), so a new one cannot go undocumented.
 */
const EVENT_TYPE_SET: Record<ClusterEvent['type'], true> = {
  'host.suspect': true,
  'host.failed': true,
  'host.rejoined': true,
  'host.fencing': true,
  'host.fenced': true,
  'host.fence_failed': true,
  'host.recovery_start': true,
  'host.forced_down': true,
  'host.recovery_end': true,
  'instance.evacuate_start': true,
  'instance.evacuate_end': true,
  'instance.evacuate_error': true,
  'instance.not_selected': true,
  'host.maintenance': true,
  'host.forgotten': true,
  'host.left': true,
  'host.compute_down': true,
  'host.compute_up': true,
  'instance.guest_failed': true,
  'instance.guest_restarted': true,
  'cluster.quorum_lost': true,
  'cluster.quorum_regained': true,
  'cluster.coordinator_changed': true,
  'cluster.mass_failure': true,
  'cluster.mass_failure_cleared': true,
};
export const HISTORY_EVENT_TYPES = Object.keys(EVENT_TYPE_SET) as ReadonlyArray<ClusterEvent['type']>;

/**
 * Every state a decision can have, checked by the compiler: the monitors' view takes a decision's
 * state by name only if it is one of these (monitor-format.ts, entry kind 8).
 */
export const DECISION_STATE_SET: Readonly<Record<HostDecision['state'], true>> = {
  failed: true,
  fencing: true,
  fenced: true,
  fence_failed: true,
  recovering: true,
  evacuated: true,
  recovery_failed: true,
};

const STATE_SET: Record<HostClusterState, true> = {
  up: true,
  suspect: true,
  ...DECISION_STATE_SET,
  maintenance: true,
  left: true,
};
export const STATE_NAMES = Object.keys(STATE_SET) as readonly HostClusterState[];
