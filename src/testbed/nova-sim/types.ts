/** The simulated cloud's records (what Nova keeps in its database, reduced to what recovery reads). */

export type NovaMode = 'current' | 'zed';

export interface SimService {
  id: string;
  host: string;
  binary: 'nova-compute';
  status: 'enabled' | 'disabled';
  disabledReason: string | null;
  forcedDown: boolean;
  /** The nova-compute process runs and reports (report_interval). */
  alive: boolean;
  lastReportAt: number;
}

export interface SimServer {
  id: string;
  name: string;
  tenantId: string;
  userId: string;
  host: string | null;
  status: string;
  vmState: string;
  taskState: string | null;
  tags: string[];
  metadata: Record<string, string>;
  /** null: booted from a volume (Nova shows `image: ""`); its root volume is the first of `volumes`. */
  imageId: string | null;
  /** Attached volume ids (os-extended-volumes:volumes_attached). */
  volumes: string[];
  /** The instance fault Nova shows while the server is ERROR. */
  fault: string | null;
  flavorExtraSpecs: Record<string, string>;
  createdAt: string;
  /** Nova's `updated` (instances.updated_at): bumped on every change, what `changes-since` compares. */
  updatedAt: string;
}

export interface SimMigration {
  id: number;
  uuid: string;
  instanceUuid: string;
  sourceCompute: string;
  destCompute: string | null;
  status: string;
  createdAt: string;
  updatedAt: string | null;
  userId: string;
  projectId: string;
}

export interface SimAggregate {
  id: number;
  name: string;
  hosts: string[];
  metadata: Record<string, string>;
}

/** A server group (os-server-groups): `policy` from 2.64, `policies: [policy]` before. */
export interface SimServerGroup {
  id: string;
  name: string;
  policy: 'anti-affinity' | 'soft-anti-affinity' | 'affinity' | 'soft-affinity';
  /** Member server names, resolved to ids when the sim starts. */
  members: string[];
  projectId: string;
}

export interface ServerSpec {
  name: string;
  host: string;
  tags?: string[];
  metadata?: Record<string, string>;
  tenantId?: string;
  /**
   * An image id: booted from it, root disk local to the host (as Nova boots most servers). Absent
   * or null: booted from a volume (the sim's default, so recoveries evacuate under the default
   * local-disk policy; tests of that policy give an image).
   */
  imageId?: string | null;
  flavorExtraSpecs?: Record<string, string>;
  vmState?: 'active' | 'stopped' | 'error' | 'paused';
  id?: string;
}

export interface ModelOptions {
  hosts: string[];
  mode: NovaMode;
  /** Nova's service_down_time: a compute that stopped reporting is `down` only after this. */
  serviceDownTimeMs: number;
  /** accepted -> pre-migrating (destination claim). */
  claimMs: number;
  /** pre-migrating -> done, server ACTIVE on the destination (the rebuild). */
  rebuildMs: number;
  /** Per-server rebuild time, overriding rebuildMs (the tracking bench draws 1–20 s per server). */
  rebuildMsFor?: (id: string) => number;
  /** Told of each versioned notification Nova would emit (src/testbed/nova-sim/notifications.ts puts them on RabbitMQ). */
  onNotification?: (eventType: string, payload: Record<string, unknown>, priority: 'INFO' | 'ERROR') => void;
  /** Delay of the restarted compute's init_host moving its evacuations to `completed`. */
  initHostMs: number;
  now?: () => number;
}

export type EvacuateResult = { status: 200 } | { status: 400 | 404 | 409; fault: string; message: string };

/** Nova's API status from vm_state/task_state (nova/api/openstack/common.py _STATE_MAP). */
export function statusOf(vmState: string, taskState: string | null): string {
  if (taskState === 'rebuilding' || taskState?.startsWith('rebuild')) return 'REBUILD';
  switch (vmState) {
    case 'active':
      return 'ACTIVE';
    case 'stopped':
      return 'SHUTOFF';
    case 'error':
      return 'ERROR';
    case 'paused':
      return 'PAUSED';
    default:
      return vmState.toUpperCase();
  }
}
