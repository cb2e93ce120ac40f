/** Nova's view of objects, normalized to the fields recovery reads (docs/openstack-reference.md §1–4). */

export interface ComputeService {
  /** uuid from 2.53, integer before. */
  id: string;
  host: string;
  binary: string;
  status: 'enabled' | 'disabled';
  state: 'up' | 'down';
  forcedDown: boolean;
  disabledReason: string | null;
}

export interface Server {
  id: string;
  name: string;
  status: string;
  /** OS-EXT-SRV-ATTR:host; null for shelved-offloaded servers. */
  host: string | null;
  vmState: string | null;
  taskState: string | null;
  projectId: string;
  userId: string;
  tags: string[];
  metadata: Record<string, string>;
  /** null for boot-from-volume servers (`image: ""`). */
  imageId: string | null;
  flavorExtraSpecs: Record<string, string>;
  /** Nova's fault message on a server in ERROR (bounded), null or absent otherwise. */
  fault?: string | null;
  /** Nova's `updated` (last change, UTC), what `changes-since` compares; null when not given. */
  updatedAt?: string | null;
}

export interface Migration {
  id: number;
  uuid?: string;
  instanceUuid: string;
  sourceCompute: string | null;
  destCompute: string | null;
  status: string;
  migrationType: string | undefined;
  createdAt: string;
  updatedAt: string | null;
}

/** One entry of a server's action history (os-instance-actions): what was asked, by whom, when. */
export interface InstanceAction {
  /** Nova's action name: reboot, evacuate, stop, start, rebuild… */
  action: string;
  requestId: string;
  userId: string | null;
  /** Nova's UTC time without a zone, e.g. 2026-12-02T06:35:20.000000. */
  startTime: string;
}

export interface Aggregate {
  name: string;
  hosts: string[];
  metadata: Record<string, string>;
}

/** os-server-groups: the group's policy (2.64 `policy`, else the first of `policies`) and member server ids. */
export interface ServerGroup {
  id: string;
  name: string;
  policy: string;
  members: string[];
}

/** Evacuation migration statuses that mean "still moving": never re-issue while one exists. */
export const IN_FLIGHT_MIGRATION = new Set(['accepted', 'pre-migrating', 'migrating', 'queued', 'preparing', 'running']);
/** `done` when rebuilt on the destination; `completed` once the source compute restarted. */
export const SUCCEEDED_MIGRATION = new Set(['done', 'completed']);
export const FAILED_MIGRATION = new Set(['error', 'failed', 'cancelled']);
