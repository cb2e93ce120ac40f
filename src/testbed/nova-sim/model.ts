import { randomUUID } from 'node:crypto';

/**
 * The simulated cloud's state and Nova's rules for it. Each rule cites the Nova API reference
 * (https://docs.openstack.org/api-ref/compute/) or the Nova code path it mirrors, and was checked
 * against a real Nova Zed (test/fixtures/nova-zed/).
 */

import {
  statusOf,
  type EvacuateResult,
  type ModelOptions,
  type ServerSpec,
  type SimAggregate,
  type SimMigration,
  type SimServer,
  type SimServerGroup,
  type SimService,
} from './types.js';

export * from './types.js';

/** Nova's API times for instances: second precision, UTC, with a Z (GET /servers/detail `updated`). */
export function novaSecond(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Nova's microsecond UTC time without a zone, as os-instance-actions shows start_time (2018-04-25T01:26:36.000000). */
export function novaMicro(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000');
}

export class NovaModel {
  readonly services = new Map<string, SimService>();
  readonly servers = new Map<string, SimServer>();
  readonly migrations: SimMigration[] = [];
  readonly aggregates: SimAggregate[] = [];
  readonly images = new Map<string, Record<string, string>>();
  /** Server groups; members are server ids. */
  readonly serverGroups: SimServerGroup[] = [];
  /** Evacuate calls that Nova accepted, per server: the exactly-once counter the tests check. */
  readonly evacuateAccepted = new Map<string, number>();
  /** Every evacuate call, refused or not. */
  readonly evacuateCalls = new Map<string, number>();
  /** Rebuilds to fail on purpose per server (the migration goes to `error`, the server to ERROR). */
  readonly failRebuilds = new Map<string, number>();
  /** When each server last became ACTIVE (or SHUTOFF) on its evacuation's destination, epoch ms (the tracking bench's lag start). */
  readonly settledAt = new Map<string, number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private nextMigrationId = 1;
  private readonly now: () => number;

  constructor(readonly opts: ModelOptions) {
    this.now = opts.now ?? Date.now;
    for (const h of opts.hosts) this.addHost(h);
  }

  addHost(host: string): void {
    this.services.set(host, {
      id: randomUUID(),
      host,
      binary: 'nova-compute',
      status: 'enabled',
      disabledReason: null,
      forcedDown: false,
      alive: true,
      lastReportAt: this.now(),
    });
  }

  addServer(spec: ServerSpec): SimServer {
    const vmState = spec.vmState ?? 'active';
    const s: SimServer = {
      id: spec.id ?? randomUUID(),
      name: spec.name,
      tenantId: spec.tenantId ?? 'tenant-a',
      userId: 'user-a',
      host: spec.host,
      status: statusOf(vmState, null),
      vmState,
      taskState: null,
      tags: spec.tags ?? [],
      metadata: spec.metadata ?? {},
      imageId: spec.imageId ?? null,
      volumes: spec.imageId ? [] : [`vol-root-${spec.name}`],
      fault: null,
      flavorExtraSpecs: spec.flavorExtraSpecs ?? {},
      createdAt: new Date(this.now()).toISOString(),
      updatedAt: novaSecond(this.now()),
    };
    this.servers.set(s.id, s);
    return s;
  }

  /**
   * A service is up while it reports, and for service_down_time after its last report, unless
   * forced down (nova/servicegroup/api.py service_is_up: forced_down short-circuits to down).
   */
  serviceState(s: SimService): 'up' | 'down' {
    if (s.forcedDown) return 'down';
    if (s.alive) return 'up';
    return this.now() - s.lastReportAt < this.opts.serviceDownTimeMs ? 'up' : 'down';
  }

  /** Power loss: the compute stops reporting. */
  killCompute(host: string): void {
    const s = this.mustService(host);
    // Its last report was just before the power loss; Nova keeps saying `up` for service_down_time.
    s.alive = false;
    s.lastReportAt = this.now();
  }

  /**
   * The compute process starts again: init_host (_destroy_evacuated_instances) moves evacuation
   * migrations away from this host in accepted/pre-migrating/done to `completed` a moment later.
   */
  restartCompute(host: string): void {
    const s = this.mustService(host);
    s.alive = true;
    s.lastReportAt = this.now();
    this.later(this.opts.initHostMs, () => {
      for (const m of this.migrations) {
        if (m.sourceCompute === host && ['accepted', 'pre-migrating', 'done'].includes(m.status)) this.setMigration(m, 'completed');
      }
    });
  }

  /**
   * PUT /os-services/{id} or /os-services/force-down with forced_down=false is refused (400) while
   * `done` evacuation records remain for the host (api-ref os-services "Update Compute Service";
   * Nova bug 1922053).
   */
  setForcedDown(host: string, down: boolean): { ok: true } | { ok: false; message: string } {
    const s = this.mustService(host);
    if (!down && this.migrations.some((m) => m.sourceCompute === host && m.status === 'done')) {
      return {
        ok: false,
        message:
          `Unable to force up host ${host} as \`done\` evacuation migration records remain associated with the host. ` +
          `Ensure the compute service has been restarted, allowing these records to move to \`completed\` before retrying this request.`,
      };
    }
    s.forcedDown = down;
    return { ok: true };
  }

  /**
   * POST /servers/{id}/action {"evacuate"} (api-ref "Evacuate Server (evacuate Action)"):
   * 404 unknown server or target host; 400 source compute still in use (ComputeServiceInUse)
   * or target equal to the source; 409 while a task is in flight (current Nova's
   * check_instance_state(task_state=[None])). In `zed` mode a second evacuate during a rebuild is
   * accepted, as the real Zed did, and breaks the server (REBUILD / vm_state error, stuck).
   */
  evacuate(id: string, target: string | undefined): EvacuateResult {
    const srv = this.servers.get(id);
    this.evacuateCalls.set(id, (this.evacuateCalls.get(id) ?? 0) + 1);
    if (!srv) return { status: 404, fault: 'itemNotFound', message: `Instance ${id} could not be found.` };
    if (target !== undefined && !this.services.has(target))
      return { status: 404, fault: 'itemNotFound', message: `Compute host ${target} not found.` };
    const source = srv.host ? this.services.get(srv.host) : undefined;
    if (!source || this.serviceState(source) === 'up') {
      return { status: 400, fault: 'badRequest', message: `Compute service of ${srv.host} is still in use.` };
    }
    if (target === srv.host) return { status: 400, fault: 'badRequest', message: "The target host can't be the same one." };
    const inTask = srv.taskState !== null;
    if (!['active', 'stopped', 'error'].includes(srv.vmState) || (inTask && this.opts.mode === 'current')) {
      const what = inTask ? `task_state ${srv.taskState}` : `vm_state ${srv.vmState}`;
      return { status: 409, fault: 'conflictingRequest', message: `Cannot 'evacuate' instance ${id} while it is in ${what}` };
    }
    this.evacuateAccepted.set(id, (this.evacuateAccepted.get(id) ?? 0) + 1);
    const m: SimMigration = {
      id: this.nextMigrationId++,
      uuid: randomUUID(),
      instanceUuid: id,
      sourceCompute: srv.host!,
      destCompute: target ?? null,
      status: 'accepted',
      createdAt: new Date(this.now()).toISOString(),
      updatedAt: null,
      userId: 'admin',
      projectId: 'admin-project',
    };
    this.migrations.push(m);
    if (inTask) {
      // Zed: both rebuilds race on the destination. As captured on the harness, the first one's
      // migration ends `failed` (UnexpectedTaskStateError) and the second's `done`, and the server
      // is left REBUILD / vm_state error / task_state rebuild_block_device_mapping on the destination.
      const prev = this.migrations.find((x) => x.instanceUuid === id && x !== m && ['accepted', 'pre-migrating'].includes(x.status));
      this.later(this.opts.claimMs, () => {
        if (prev) this.setMigration(prev, 'failed');
        (srv as SimServer & { broken?: boolean }).broken = true;
        srv.vmState = 'error';
        srv.taskState = 'rebuild_block_device_mapping';
        srv.status = 'REBUILD';
        this.touch(srv);
        m.destCompute = prev?.destCompute ?? target ?? this.schedule(srv.host!);
        this.setMigration(m, 'pre-migrating');
        this.later(this.opts.rebuildMs, () => {
          if (m.destCompute) srv.host = m.destCompute;
          this.touch(srv);
          this.setMigration(m, 'done');
        });
      });
      return { status: 200 };
    }
    const startVm = srv.vmState;
    srv.taskState = 'rebuilding';
    srv.status = 'REBUILD';
    this.touch(srv);
    this.later(this.opts.claimMs, () => {
      // A requested host (2.29+, force unset) still goes through the scheduler: disabled or down, no valid host.
      const dest = target ? (this.usable(target) ? target : null) : this.schedule(srv.host!);
      if (!dest) {
        // NoValidHost in the conductor: migration error, instance ERROR (conductor rebuild_instance).
        this.failEvacuation(srv, m, 'error', 'No valid host was found. There are not enough hosts available.');
        return;
      }
      m.destCompute = dest;
      this.setMigration(m, 'pre-migrating');
      // The destination compute starts the rebuild: instance.evacuate, then instance.rebuild.start.
      this.notify('instance.evacuate', srv, dest, 'InstanceActionPayload');
      this.notify('instance.rebuild.start', srv, dest, 'InstanceActionRebuildPayload');
      this.later(this.opts.rebuildMsFor?.(id) ?? this.opts.rebuildMs, () => {
        if ((srv as SimServer & { broken?: boolean }).broken) return; // lost the race (see above)
        const toFail = this.failRebuilds.get(id) ?? 0;
        if (toFail > 0) {
          // A rebuild failure on the destination: migration `failed`, instance ERROR, task cleared.
          this.failRebuilds.set(id, toFail - 1);
          this.failEvacuation(srv, m, 'failed', 'Build of instance aborted: simulated rebuild failure');
          return;
        }
        srv.host = dest;
        srv.taskState = null;
        // 2.68–2.94 semantics: an active (or errored) server comes back active, a stopped one stopped.
        srv.vmState = startVm === 'stopped' ? 'stopped' : 'active';
        srv.status = statusOf(srv.vmState, null);
        this.touch(srv);
        this.setMigration(m, 'done');
        this.settledAt.set(id, this.now());
        this.notify('instance.rebuild.end', srv, dest, 'InstanceActionRebuildPayload');
      });
    });
    return { status: 200 };
  }

  /** Every reboot accepted, by server (a crashed guest's restart is one). */
  readonly reboots = new Map<string, number>();
  /** Each server's action history (os-instance-actions) as far as the simulator keeps one: its reboots. */
  readonly actions = new Map<string, Array<{ action: string; requestId: string; userId: string; startTime: string }>>();
  private actionSeq = 0;

  /** POST /servers/{id}/action {"reboot"}: HARD from active/stopped/paused/suspended/error, SOFT from active only. */
  reboot(id: string, type: 'HARD' | 'SOFT', userId = 'admin'): { status: 202 } | { status: 404 | 409; fault: string; message: string } {
    const srv = this.servers.get(id);
    if (!srv) return { status: 404, fault: 'itemNotFound', message: `Instance ${id} could not be found.` };
    const ok = type === 'HARD' ? ['active', 'stopped', 'paused', 'suspended', 'error'] : ['active'];
    if (!ok.includes(srv.vmState) || srv.taskState !== null)
      return { status: 409, fault: 'conflictingRequest', message: `Cannot 'reboot' instance ${id} while it is in vm_state ${srv.vmState}` };
    this.reboots.set(id, (this.reboots.get(id) ?? 0) + 1);
    // Nova records the action as the API accepts it (compute/api.py _record_action_start), microseconds.
    const list = this.actions.get(id) ?? [];
    list.push({ action: 'reboot', requestId: `req-sim-${++this.actionSeq}`, userId, startTime: novaMicro(this.now()) });
    this.actions.set(id, list);
    srv.vmState = 'active';
    srv.status = statusOf('active', null);
    return { status: 202 };
  }

  /** os-resetState (api-ref "Reset Server State"): vm_state active|error, task_state cleared. */
  resetState(id: string, state: 'active' | 'error'): boolean {
    const srv = this.servers.get(id);
    if (!srv) return false;
    srv.vmState = state;
    srv.taskState = null;
    srv.status = statusOf(state, null);
    this.touch(srv);
    delete (srv as SimServer & { broken?: boolean }).broken;
    return true;
  }

  private usable(host: string): boolean {
    const s = this.services.get(host);
    return !!s && s.status === 'enabled' && this.serviceState(s) === 'up';
  }

  /** Least-loaded up+enabled compute other than the source (the scheduler, roughly). */
  private schedule(source: string): string | null {
    const load = new Map<string, number>();
    for (const s of this.services.values()) {
      if (s.host !== source && s.status === 'enabled' && this.serviceState(s) === 'up') load.set(s.host, 0);
    }
    for (const srv of this.servers.values()) if (srv.host && load.has(srv.host)) load.set(srv.host, load.get(srv.host)! + 1);
    let best: string | null = null;
    for (const [h, n] of load) if (best === null || n < load.get(best)!) best = h;
    return best;
  }

  private setMigration(m: SimMigration, status: string): void {
    m.status = status;
    m.updatedAt = new Date(this.now()).toISOString();
  }

  /** An evacuation that ends badly: the migration says how, the instance is ERROR, its task cleared. */
  private failEvacuation(srv: SimServer, m: SimMigration, status: 'error' | 'failed', fault: string): void {
    this.setMigration(m, status);
    srv.fault = fault;
    srv.vmState = 'error';
    srv.taskState = null;
    srv.status = 'ERROR';
    this.touch(srv);
    if (m.destCompute) this.notify('instance.rebuild.error', srv, m.destCompute, 'InstanceActionRebuildPayload', 'ERROR');
  }

  /** Nova saves the instance on each state change: updated_at moves (second precision, as the API prints it). */
  touch(srv: SimServer): void {
    srv.updatedAt = novaSecond(this.now());
  }

  /**
   * A versioned notification as the destination compute emits it during an evacuation (Nova
   * notification reference, https://docs.openstack.org/nova/latest/reference/notifications.html:
   * instance.evacuate (InstanceActionPayload), instance.rebuild.start/.end/.error
   * (InstanceActionRebuildPayload)); the payload carries the fields instance-ha reads: uuid, host,
   * state, task_state.
   */
  private notify(eventType: string, srv: SimServer, host: string, objectName: string, priority: 'INFO' | 'ERROR' = 'INFO'): void {
    this.opts.onNotification?.(
      eventType,
      {
        'nova_object.name': objectName,
        'nova_object.namespace': 'nova',
        'nova_object.version': '1.8',
        'nova_object.data': {
          uuid: srv.id,
          display_name: srv.name,
          host,
          node: host,
          state: srv.vmState,
          task_state: srv.taskState,
          tenant_id: srv.tenantId,
          user_id: srv.userId,
          updated_at: srv.updatedAt,
        },
      },
      priority,
    );
  }

  mustService(host: string): SimService {
    const s = this.services.get(host);
    if (!s) throw new Error(`no compute host ${host}`);
    return s;
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
