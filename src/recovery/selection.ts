import type { Aggregate, Server } from '../openstack/types.js';
import type { LocalDiskConfig, LocalDiskPolicy, RecoveryMode, SelectionConfig, SharedStorageConfig } from './config.js';

/** Nova evacuates only servers in these vm_states (nova/compute/api.py evacuate: check_instance_state). */
const EVACUABLE_VM_STATES = new Set(['active', 'stopped', 'error']);

/**
 * Where a server's root disk lives, which decides what evacuate does to its data:
 *  - volume: booted from a volume (Nova shows `image: ""`): the rebuild re-attaches it, nothing lost;
 *  - shared: instance storage the targets share (operator-declared): Nova finds the disk and keeps it;
 *  - local:  an ephemeral root on the dead host's own disk: Nova recreates it from its image, data gone.
 */
export type RootDisk = 'volume' | 'shared' | 'local';

/**
 * `held`: a server that would be evacuated but for the local-disk policy. It is reported, not
 * evacuated, and counts as not recovered (the host ends in recovery_failed; docs/recovery.md).
 */
export type Selection = { action: 'evacuate'; priority: number; rootDisk: RootDisk } | { action: 'notify'; reason: string; held?: true };

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
  /** The failed host (the server's `host` may be another's while an evacuation already moved it). */
  host: string;
  sharedStorage: SharedStorageConfig;
  localDisk: LocalDiskConfig;
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
  const rootDisk = rootDiskOf(i);
  if (rootDisk === 'local') {
    const policy = localDiskPolicyOf(i);
    if (policy.value === 'notify')
      return {
        action: 'notify',
        held: true,
        reason:
          `local root disk on ${i.host} (not booted from a volume, instance storage not declared shared): ` +
          `evacuate would rebuild it from its image and lose its data (${policy.from}); ` +
          `to allow, set server metadata ${i.localDisk.metadataKey}=rebuild or recovery.local_disk: rebuild`,
      };
  }
  return { action: 'evacuate', priority: priorityOf(s, i.priorityKey), rootDisk };
}

/** Pure: a server's root disk kind (see RootDisk). Nova shows `image: ""` for a server booted from a volume. */
export function rootDiskOf(i: Pick<SelectionInput, 'server' | 'host' | 'hostAggregates' | 'sharedStorage'>): RootDisk {
  if (!i.server.imageId) return 'volume';
  const host = i.host.toLowerCase();
  if (i.sharedStorage.hosts.some((h) => h.toLowerCase() === host)) return 'shared';
  if (i.hostAggregates.some((a) => i.sharedStorage.aggregates.includes(a.name))) return 'shared';
  return 'local';
}

/**
 * The local-disk policy for one server, most specific first: its metadata (rebuild|notify, any
 * case; another value is ignored), the host's entry, an aggregate of the host (notify wins when
 * two aggregates disagree: losing data needs a clear yes), the default.
 */
export function localDiskPolicyOf(i: Pick<SelectionInput, 'server' | 'host' | 'hostAggregates' | 'localDisk'>): {
  value: LocalDiskPolicy;
  from: string;
} {
  const l = i.localDisk;
  const meta = i.server.metadata[l.metadataKey]?.toLowerCase();
  if (meta === 'rebuild' || meta === 'notify') return { value: meta, from: `server metadata ${l.metadataKey}=${meta}` };
  const hostKey = Object.keys(l.hosts).find((h) => h.toLowerCase() === i.host.toLowerCase());
  if (hostKey !== undefined) return { value: l.hosts[hostKey]!, from: `recovery.local_disk.hosts.${hostKey}` };
  const aggs = i.hostAggregates.filter((a) => Object.hasOwn(l.aggregates, a.name));
  const notify = aggs.find((a) => l.aggregates[a.name] === 'notify');
  const pick = notify ?? aggs[0];
  if (pick) return { value: l.aggregates[pick.name]!, from: `recovery.local_disk.aggregates.${pick.name}` };
  return { value: l.default, from: `recovery.local_disk: ${l.default}` };
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
