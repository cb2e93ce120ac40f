import type { Aggregate, Server } from '../openstack/types.js';
import type { RecoveryMode, SelectionConfig } from './config.js';

/** Nova evacuates only servers in these vm_states (nova/compute/api.py evacuate: check_instance_state). */
const EVACUABLE_VM_STATES = new Set(['active', 'stopped', 'error']);

export type Selection = { action: 'evacuate'; priority: number } | { action: 'notify'; reason: string };

export interface SelectionInput {
  server: Server;
  hostMode: RecoveryMode;
  /** Aggregates the failed host belongs to. */
  hostAggregates: Aggregate[];
  /** Image properties by image id (only fetched when image selectors are configured); null: image gone. */
  imageProperties: ReadonlyMap<string, Record<string, string> | null>;
  select: SelectionConfig;
  instanceModeKey: string;
  priorityKey: string;
}

/**
 * Pure: what to do with one server of a failed host. Exclusions win over every opt-in (operators
 * have lost load balancers to over-eager evacuation); then opt-in by tag or a selector; then modes;
 * then what Nova would refuse anyway.
 */
export function selectServer(i: SelectionInput): Selection {
  const { server: s, select: sel } = i;
  if (sel.excludeProjects.includes(s.projectId)) return { action: 'notify', reason: `excluded: project ${s.projectId}` };
  if (s.imageId && sel.excludeImages.includes(s.imageId)) return { action: 'notify', reason: `excluded: image ${s.imageId}` };
  const pattern = sel.excludeNamePatterns.find((p) => new RegExp(p).test(s.name));
  if (pattern !== undefined) return { action: 'notify', reason: `excluded: name matches /${pattern}/` };
  const why = optIn(i);
  if (!why) return { action: 'notify', reason: `not selected: no '${sel.tag}' tag and no selector matched` };
  if (i.hostMode === 'notify') return { action: 'notify', reason: 'host recovery mode is notify' };
  const mode = s.metadata[i.instanceModeKey];
  if (mode === 'notify') return { action: 'notify', reason: `server metadata ${i.instanceModeKey}=notify` };
  if (!s.host) return { action: 'notify', reason: 'server has no host (shelved offloaded?)' };
  if (s.vmState && !EVACUABLE_VM_STATES.has(s.vmState))
    return { action: 'notify', reason: `vm_state ${s.vmState}: Nova refuses to evacuate it` };
  return { action: 'evacuate', priority: priorityOf(s, i.priorityKey) };
}

function optIn(i: SelectionInput): string | null {
  const { server: s, select: sel } = i;
  if (s.tags.includes(sel.tag)) return `tag ${sel.tag}`;
  if (matchesAny(s.flavorExtraSpecs, sel.flavorExtraSpecs)) return 'flavor extra spec';
  if (s.imageId && matchesAny(i.imageProperties.get(s.imageId) ?? {}, sel.imageProperties)) return 'image property';
  if (i.hostAggregates.some((a) => matchesAny(a.metadata, sel.aggregateMetadata))) return 'aggregate metadata';
  return null;
}

/** True when `have` holds any of the `want` pairs (values compared case-insensitively: `True` = `true`). */
export function matchesAny(have: Record<string, string>, want: Record<string, string>): boolean {
  return Object.entries(want).some(([k, v]) => have[k] !== undefined && have[k]!.toLowerCase() === v.toLowerCase());
}

export function priorityOf(s: Server, key: string): number {
  const n = Number(s.metadata[key]);
  return Number.isFinite(n) ? n : 0;
}

/** Evacuation order: higher priority first, then name, then id (stable across coordinators). */
export function byPriority<T extends { priority: number; name: string; id: string }>(a: T, b: T): number {
  return b.priority - a.priority || a.name.localeCompare(b.name) || a.id.localeCompare(b.id);
}
