import type { ClusterEvent, HostClusterState } from './events.js';

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
