import type { NovaModel, SimMigration, SimServer, SimService } from './model.js';
import type { SimToken } from './keystone.js';

/**
 * Compute API v2.1 routes of the simulator. Shapes follow the Nova API reference and the captured
 * Zed answers in test/fixtures/nova-zed (where they disagree, the capture wins):
 *   versions       https://docs.openstack.org/api-ref/compute/#api-versions
 *   microversions  https://docs.openstack.org/api-guide/compute/microversions.html
 *   os-services    https://docs.openstack.org/api-ref/compute/#compute-services-os-services
 *   servers        https://docs.openstack.org/api-ref/compute/#list-servers-detailed
 *   evacuate       https://docs.openstack.org/api-ref/compute/#evacuate-server-evacuate-action
 *   resetState     https://docs.openstack.org/api-ref/compute/#reset-server-state-os-resetstate-action
 *   os-migrations  https://docs.openstack.org/api-ref/compute/#list-migrations
 *   os-aggregates  https://docs.openstack.org/api-ref/compute/#list-aggregates
 *   faults         https://docs.openstack.org/api-guide/compute/faults.html
 */
export interface Reply {
  status: number;
  body?: unknown;
}

export interface ComputeRequest {
  method: string;
  /** Path below /v2.1, e.g. /servers/detail. */
  path: string;
  query: URLSearchParams;
  body: unknown;
  mv: number;
  token: SimToken;
  baseUrl: string;
}

const fault = (status: number, name: string, message: string): Reply => ({ status, body: { [name]: { code: status, message } } });

export function computeRoute(model: NovaModel, r: ComputeRequest): Reply {
  const admin = r.token.user.admin;
  const seg = r.path.split('/').filter(Boolean);
  if (seg[0] === 'os-services') {
    // api-ref "Compute services (os-services)": policy admin-only.
    if (!admin) return fault(403, 'forbidden', "Policy doesn't allow os_compute_api:os-services:list to be performed.");
    if (r.method === 'GET' && seg.length === 1) return listServices(model, r);
    if (r.method === 'PUT' && seg.length === 2) return updateService(model, r, seg[1]!);
  }
  if (seg[0] === 'servers') {
    if (r.method === 'GET' && seg[1] === 'detail' && seg.length === 2) return listServers(model, r, admin);
    const srv = seg[1] ? model.servers.get(seg[1]) : undefined;
    if (r.method === 'GET' && seg.length === 2) {
      if (!srv || (!admin && srv.tenantId !== r.token.user.projectId)) return fault(404, 'itemNotFound', 'Instance could not be found.');
      return { status: 200, body: { server: serverView(srv, r.mv, r.baseUrl) } };
    }
    if (r.method === 'POST' && seg[2] === 'action' && seg.length === 3) return serverAction(model, r, seg[1]!, admin);
    if (r.method === 'GET' && seg[2] === 'os-instance-actions' && seg.length === 3) {
      if (!srv || (!admin && srv.tenantId !== r.token.user.projectId))
        return fault(404, 'itemNotFound', `Instance ${seg[1]} could not be found.`);
      return listInstanceActions(model, r, srv.id);
    }
  }
  if (seg[0] === 'os-migrations' && r.method === 'GET' && seg.length === 1) {
    if (!admin) return fault(403, 'forbidden', "Policy doesn't allow os_compute_api:os-migrations:index to be performed.");
    return listMigrations(model, r);
  }
  if (seg[0] === 'os-server-groups' && r.method === 'GET' && seg.length === 1) {
    // api-ref "List Server Groups": all_projects=True for admins; `policy` from 2.64, `policies` before.
    const all = admin && /^(true|1)$/i.test(r.query.get('all_projects') ?? '');
    const groups = model.serverGroups.filter((g) => all || g.projectId === 'tenant-a');
    return {
      status: 200,
      body: {
        server_groups: groups.map((g) => ({
          id: g.id,
          name: g.name,
          members: g.members,
          ...(r.mv >= 64 ? { policy: g.policy, rules: {} } : { policies: [g.policy], metadata: {} }),
        })),
      },
    };
  }
  if (seg[0] === 'os-aggregates' && r.method === 'GET' && seg.length === 1) {
    if (!admin) return fault(403, 'forbidden', "Policy doesn't allow os_compute_api:os-aggregates:index to be performed.");
    return {
      status: 200,
      body: {
        aggregates: model.aggregates.map((a) => ({
          id: a.id,
          name: a.name,
          hosts: a.hosts,
          metadata: a.metadata,
          availability_zone: null,
        })),
      },
    };
  }
  return fault(404, 'itemNotFound', `The resource could not be found.`);
}

function serviceView(model: NovaModel, s: SimService, mv: number): Record<string, unknown> {
  const v: Record<string, unknown> = {
    id: mv >= 53 ? s.id : hashInt(s.id),
    binary: s.binary,
    host: s.host,
    zone: 'nova',
    status: s.status,
    state: model.serviceState(s),
    updated_at: novaTime(new Date(s.lastReportAt).toISOString()),
    disabled_reason: s.disabledReason,
  };
  if (mv >= 11) v.forced_down = s.forcedDown;
  return v;
}

function listServices(model: NovaModel, r: ComputeRequest): Reply {
  const host = r.query.get('host');
  const binary = r.query.get('binary');
  const list = [...model.services.values()].filter((s) => (!host || s.host === host) && (!binary || s.binary === binary));
  return { status: 200, body: { services: list.map((s) => serviceView(model, s, r.mv)) } };
}

/**
 * PUT /os-services/{action} (2.11–2.52: force-down, enable, disable, disable-log-reason with
 * host/binary) and PUT /os-services/{service_id} (≥2.53, by uuid; the action URLs are gone).
 */
function updateService(model: NovaModel, r: ComputeRequest, idOrAction: string): Reply {
  const b = (r.body ?? {}) as Record<string, unknown>;
  if (r.mv < 53) {
    const svc = typeof b.host === 'string' ? model.services.get(b.host) : undefined;
    if (!svc) return fault(404, 'itemNotFound', `Host '${String(b.host)}' is not found.`);
    switch (idOrAction) {
      case 'force-down': {
        if (r.mv < 11) return fault(404, 'itemNotFound', 'Unknown action');
        if (typeof b.forced_down !== 'boolean') return fault(400, 'badRequest', 'Invalid input for field/attribute forced_down.');
        const res = model.setForcedDown(svc.host, b.forced_down);
        if (!res.ok) return fault(400, 'badRequest', res.message);
        return { status: 200, body: { service: { host: svc.host, binary: svc.binary, forced_down: svc.forcedDown } } };
      }
      case 'enable':
        svc.status = 'enabled';
        svc.disabledReason = null;
        return { status: 200, body: { service: { host: svc.host, binary: svc.binary, status: 'enabled' } } };
      case 'disable':
      case 'disable-log-reason':
        svc.status = 'disabled';
        svc.disabledReason = typeof b.disabled_reason === 'string' ? b.disabled_reason : null;
        return {
          status: 200,
          body: { service: { host: svc.host, binary: svc.binary, status: 'disabled', disabled_reason: svc.disabledReason } },
        };
      default:
        return fault(404, 'itemNotFound', 'Unknown action');
    }
  }
  // ≥2.53 the body schema is checked first: the old host/binary form is refused (seen on Zed).
  const extra = Object.keys(b)
    .filter((k) => !['status', 'disabled_reason', 'forced_down'].includes(k))
    .sort();
  if (extra.length)
    return fault(
      400,
      'badRequest',
      `Additional properties are not allowed (${extra.map((k) => `'${k}'`).join(', ')} ${extra.length > 1 ? 'were' : 'was'} unexpected)`,
    );
  const svc = [...model.services.values()].find((s) => s.id === idOrAction);
  if (!/^[0-9a-f-]{36}$/.test(idOrAction)) return fault(400, 'badRequest', `Invalid uuid ${idOrAction}`);
  if (!svc) return fault(404, 'itemNotFound', `Service ${idOrAction} not found.`);
  if (b.status === undefined && b.forced_down === undefined)
    return fault(400, 'badRequest', "No updates were requested. Fields 'status' or 'forced_down' should be specified.");
  if (b.status === 'enabled' && b.disabled_reason !== undefined)
    return fault(400, 'badRequest', "Specifying 'disabled_reason' with status 'enabled' is invalid.");
  if (typeof b.forced_down === 'boolean') {
    const res = model.setForcedDown(svc.host, b.forced_down);
    if (!res.ok) return fault(400, 'badRequest', res.message);
  }
  if (b.status === 'enabled' || b.status === 'disabled') {
    svc.status = b.status;
    svc.disabledReason = b.status === 'disabled' && typeof b.disabled_reason === 'string' ? b.disabled_reason : null;
  }
  return { status: 200, body: { service: serviceView(model, svc, r.mv) } };
}

/**
 * GET /servers/detail: `host` and `all_tenants` are admin-only and silently ignored otherwise;
 * tags / tags-any / not-tags / not-tags-any need ≥2.26 and are ignored below (api-ref "List Servers").
 */
function listServers(model: NovaModel, r: ComputeRequest, admin: boolean): Reply {
  const q = r.query;
  const host = admin ? q.get('host') : null;
  const allTenants = admin && q.get('all_tenants') !== null && q.get('all_tenants') !== '0';
  const csv = (k: string): string[] | null => (r.mv >= 26 && q.get(k) ? q.get(k)!.split(',') : null);
  const tags = csv('tags');
  const tagsAny = csv('tags-any');
  const notTags = csv('not-tags');
  const notTagsAny = csv('not-tags-any');
  // changes-since: servers whose updated_at is at or after it (api-ref "List Servers Detailed",
  // https://docs.openstack.org/api-ref/compute/#list-servers-detailed; nova/db/main/api.py
  // instance_get_all_by_filters compares updated_at >= changes-since). Deleted servers would be
  // listed too, as DELETED; the simulator forgets a deleted server outright.
  const sinceText = q.get('changes-since');
  const since = sinceText === null ? null : Date.parse(sinceText);
  if (sinceText !== null && (since === null || Number.isNaN(since)))
    return fault(
      400,
      'badRequest',
      `Invalid input for query parameters changes-since. Value: ${sinceText}. '${sinceText}' is not a 'date-time'`,
    );
  let list = [...model.servers.values()].filter((s) => {
    if (!allTenants && s.tenantId !== r.token.user.projectId) return false;
    if (host && s.host !== host) return false;
    if (tags && !tags.every((t) => s.tags.includes(t))) return false;
    if (tagsAny && !tagsAny.some((t) => s.tags.includes(t))) return false;
    if (notTags && notTags.every((t) => s.tags.includes(t))) return false;
    if (notTagsAny && notTagsAny.some((t) => s.tags.includes(t))) return false;
    if (since !== null && Date.parse(s.updatedAt) < since) return false;
    return true;
  });
  // Newest first, as Nova's default sort (created_at desc); paging by limit/marker.
  list.sort((a, b) => (a.createdAt === b.createdAt ? (a.id < b.id ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1));
  const marker = q.get('marker');
  if (marker) {
    const i = list.findIndex((s) => s.id === marker);
    if (i < 0) return fault(400, 'badRequest', `marker [${marker}] not found`);
    list = list.slice(i + 1);
  }
  const limit = Number(q.get('limit') ?? 1000);
  const page = list.slice(0, limit);
  const body: Record<string, unknown> = { servers: page.map((s) => serverView(s, r.mv, r.baseUrl)) };
  if (list.length > limit)
    body.servers_links = [{ rel: 'next', href: `${r.baseUrl}/servers/detail?limit=${limit}&marker=${page[page.length - 1]!.id}` }];
  return { status: 200, body };
}

export function serverView(s: SimServer, mv: number, baseUrl: string): Record<string, unknown> {
  const v: Record<string, unknown> = {
    id: s.id,
    name: s.name,
    status: s.status,
    tenant_id: s.tenantId,
    user_id: s.userId,
    metadata: s.metadata,
    image: s.imageId ? { id: s.imageId, links: [] } : '',
    flavor:
      mv >= 47
        ? { vcpus: 1, ram: 64, disk: 1, ephemeral: 0, swap: 0, original_name: 'sim.tiny', extra_specs: s.flavorExtraSpecs }
        : { id: 'sim.tiny', links: [] },
    created: s.createdAt,
    updated: s.updatedAt,
    links: [{ rel: 'self', href: `${baseUrl}/servers/${s.id}` }],
    'OS-EXT-SRV-ATTR:host': s.host,
    'OS-EXT-SRV-ATTR:hypervisor_hostname': s.host,
    'OS-EXT-STS:vm_state': s.vmState,
    'OS-EXT-STS:task_state': s.taskState,
    'OS-EXT-STS:power_state': s.vmState === 'active' ? 1 : 4,
  };
  // nova/api/openstack/compute/views/servers.py: the fault only while ERROR (or DELETED).
  if (s.fault && s.status === 'ERROR') v.fault = { code: 500, created: s.createdAt, message: s.fault };
  // nova/api/openstack/compute/extended_volumes.py: delete_on_termination from 2.3.
  v['os-extended-volumes:volumes_attached'] = s.volumes.map((id) => (mv >= 3 ? { id, delete_on_termination: false } : { id }));
  if (mv >= 9) v.locked = false;
  if (mv >= 26) v.tags = s.tags;
  return v;
}

function serverAction(model: NovaModel, r: ComputeRequest, id: string, admin: boolean): Reply {
  const b = (r.body ?? {}) as Record<string, unknown>;
  if ('evacuate' in b) {
    if (!admin) return fault(403, 'forbidden', "Policy doesn't allow os_compute_api:os-evacuate to be performed.");
    const e = (b.evacuate ?? {}) as { host?: string; onSharedStorage?: boolean };
    if (r.mv < 14 && typeof e.onSharedStorage !== 'boolean')
      return fault(400, 'badRequest', "Invalid input for field/attribute evacuate. Value: {}. 'onSharedStorage' is a required property");
    const res = model.evacuate(id, e.host);
    if (res.status !== 200) return fault(res.status, res.fault, res.message);
    // ≥2.14: 200 with no body (api-ref "Evacuate Server").
    return { status: 200 };
  }
  if ('reboot' in b) {
    // api-ref "Reboot Server (reboot Action)": type SOFT or HARD, 202; HARD from ACTIVE, SHUTOFF, PAUSED, SUSPENDED, ERROR.
    const type = (b.reboot as { type?: string } | null)?.type;
    if (type !== 'HARD' && type !== 'SOFT')
      return fault(
        400,
        'badRequest',
        `Invalid input for field/attribute type. Value: ${type}. '${type}' is not one of ['HARD', 'Hard', 'SOFT', 'Soft']`,
      );
    const res = model.reboot(id, type, r.token.user.name);
    if (res.status !== 202) return fault(res.status, res.fault, res.message);
    return { status: 202 };
  }
  if ('os-resetState' in b) {
    if (!admin) return fault(403, 'forbidden', "Policy doesn't allow os_compute_api:os-admin-actions:reset_state to be performed.");
    const state = (b['os-resetState'] as { state?: string })?.state;
    if (state !== 'active' && state !== 'error')
      return fault(
        400,
        'badRequest',
        `Invalid input for field/attribute state. Value: ${state}. '${state}' is not one of ['active', 'error']`,
      );
    if (!model.resetState(id, state)) return fault(404, 'itemNotFound', `Instance ${id} could not be found.`);
    return { status: 202 };
  }
  return fault(400, 'badRequest', 'There is no such action: ' + Object.keys(b).join(','));
}

/**
 * GET /servers/{id}/os-instance-actions (api-ref "List Actions For Server"): newest first; from 2.58
 * `changes-since` keeps actions updated at or after it (an action's updated_at is its start here).
 */
function listInstanceActions(model: NovaModel, r: ComputeRequest, id: string): Reply {
  const sinceText = r.mv >= 58 ? r.query.get('changes-since') : null;
  const since = sinceText === null ? null : Date.parse(sinceText);
  if (sinceText !== null && Number.isNaN(since))
    return fault(
      400,
      'badRequest',
      `Invalid input for query parameters changes-since. Value: ${sinceText}. '${sinceText}' is not a 'date-time'`,
    );
  const all = [...(model.actions.get(id) ?? [])].reverse();
  const list = all.filter((a) => since === null || Date.parse(`${a.startTime}Z`) >= since);
  return {
    status: 200,
    body: {
      instanceActions: list.map((a) => ({
        action: a.action,
        instance_uuid: id,
        message: null,
        project_id: model.servers.get(id)?.tenantId ?? null,
        request_id: a.requestId,
        start_time: a.startTime,
        user_id: a.userId,
        ...(r.mv >= 58 ? { updated_at: a.startTime } : {}),
      })),
    },
  };
}

/** GET /os-migrations: filters, newest first (≥2.59), uuid ≥2.59, migration_type ≥2.23. */
function listMigrations(model: NovaModel, r: ComputeRequest): Reply {
  const q = r.query;
  // changes-since (≥2.59; ignored before, as Nova's older query schema allows any parameter): records
  // whose updated_at is at or after it; one never updated (NULL) is not listed (nova/db/main/api.py).
  const sinceText = r.mv >= 59 ? q.get('changes-since') : null;
  const since = sinceText === null ? null : Date.parse(sinceText);
  if (sinceText !== null && (Number.isNaN(since) || !/^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(sinceText)))
    return fault(
      400,
      'badRequest',
      `Invalid input for query parameters changes-since. Value: ${sinceText}. '${sinceText}' is not a 'date-time'`,
    );
  const list = model.migrations
    .filter(
      (m) =>
        (!q.get('instance_uuid') || m.instanceUuid === q.get('instance_uuid')) &&
        (!q.get('source_compute') || m.sourceCompute === q.get('source_compute')) &&
        (!q.get('status') || m.status === q.get('status')) &&
        (!q.get('migration_type') || q.get('migration_type') === 'evacuation') &&
        (since === null || (m.updatedAt !== null && Date.parse(m.updatedAt) >= since!)),
    )
    .sort((a, b) => b.id - a.id);
  if (r.mv < 59) return { status: 200, body: { migrations: list.map((m) => migrationView(m, r.mv)) } };
  // ≥2.59: paged by limit/marker (marker = migration uuid), default limit = max_limit 1000.
  let rest = list;
  const marker = q.get('marker');
  if (marker) {
    const i = list.findIndex((m) => m.uuid === marker);
    if (i < 0) return fault(404, 'itemNotFound', `Marker ${marker} could not be found.`);
    rest = list.slice(i + 1);
  }
  const limit = Math.min(Number(q.get('limit') ?? 1000), 1000);
  const page = rest.slice(0, limit);
  const body: Record<string, unknown> = { migrations: page.map((m) => migrationView(m, r.mv)) };
  if (rest.length > limit)
    body.migrations_links = [{ rel: 'next', href: `${r.baseUrl}/os-migrations?limit=${limit}&marker=${page[page.length - 1]!.uuid}` }];
  return { status: 200, body };
}

function migrationView(m: SimMigration, mv: number): Record<string, unknown> {
  const v: Record<string, unknown> = {
    id: m.id,
    instance_uuid: m.instanceUuid,
    source_compute: m.sourceCompute,
    source_node: m.sourceCompute,
    dest_compute: m.destCompute,
    dest_node: m.destCompute,
    dest_host: m.destCompute ? '127.0.0.1' : null,
    status: m.status,
    created_at: novaTime(m.createdAt),
    updated_at: m.updatedAt ? novaTime(m.updatedAt) : null,
    old_instance_type_id: null,
    new_instance_type_id: null,
  };
  if (mv >= 23) v.migration_type = 'evacuation';
  if (mv >= 59) v.uuid = m.uuid;
  if (mv >= 80) Object.assign(v, { user_id: m.userId, project_id: m.projectId });
  return v;
}

/** Nova prints times without zone and with microseconds: 2026-11-21T10:30:55.000000. */
function novaTime(iso: string): string {
  return iso.replace(/\.\d{3}Z$/, '.000000').replace(/Z$/, '');
}

function hashInt(s: string): number {
  let h = 0;
  for (const c of s) h = (h * 31 + c.charCodeAt(0)) % 100000;
  return h;
}
