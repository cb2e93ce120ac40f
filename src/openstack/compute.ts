import type { Logger } from '../log.js';
import { MicroversionError, OpenStackApiError } from './errors.js';
import { httpJson, type HttpOptions, type HttpRequest, type HttpResponse } from './http.js';
import type { KeystoneSession } from './keystone.js';
import { mvHeaders, mvMinor, negotiate, type ComputeVersions, type Microversion } from './microversions.js';
import type { Aggregate, ComputeService, InstanceAction, Migration, Server, ServerGroup } from './types.js';

export interface ComputeClientOptions {
  session: KeystoneSession;
  http: HttpOptions;
  log: Logger;
}

export interface ServerFilter {
  host: string;
  tags?: string[];
  tagsAny?: string[];
  notTags?: string[];
}

/**
 * The compute (Nova) calls recovery needs, each at the microversion negotiated for it. Shapes and
 * status codes: docs/openstack-reference.md and the Nova API reference (os-services, servers,
 * os-migrations, evacuate).
 */
export class ComputeClient {
  private versionsP: Promise<ComputeVersions> | null = null;
  private readonly serviceIds = new Map<string, string>();

  constructor(private readonly opts: ComputeClientOptions) {}

  /** Reads the compute root's version document once (GET /v2.1/: `{"version": {min_version, version}}`). */
  versions(signal?: AbortSignal): Promise<ComputeVersions> {
    if (!this.versionsP) {
      this.versionsP = this.fetchVersions(signal).catch((err) => {
        this.versionsP = null;
        throw err;
      });
    }
    return this.versionsP;
  }

  /**
   * Makes sure a token is in hand and fresh: KeystoneSession renews it when it is within
   * token_renew_before of expiring (the monitor's pre-authentication calls this periodically).
   */
  async refreshToken(signal?: AbortSignal): Promise<void> {
    await this.opts.session.getToken(signal);
  }

  private async fetchVersions(signal?: AbortSignal): Promise<ComputeVersions> {
    const res = await this.call({ method: 'GET', path: '/', signal });
    const b = res.body as { version?: VersionDoc; versions?: VersionDoc[] } | undefined;
    const doc = b?.version ?? b?.versions?.find((v) => v.status === 'CURRENT');
    if (!doc?.version) throw new MicroversionError('the compute root gave no microversion range: a v2.0-only endpoint? (need v2.1)');
    const v = negotiate(doc.min_version || '2.1', doc.version);
    this.opts.log.info({ min: v.min, max: v.max, services: v.services, evacuate: v.evacuate }, 'compute microversions negotiated');
    return v;
  }

  async findService(host: string, signal?: AbortSignal): Promise<ComputeService | null> {
    const v = await this.versions(signal);
    const res = await this.call({ method: 'GET', path: `/os-services?binary=nova-compute&host=${enc(host)}`, mv: v.services, signal });
    const list = ((res.body as { services?: RawService[] })?.services ?? []).map(toService);
    return list.find((s) => s.host === host) ?? null;
  }

  /**
   * Every nova-compute service in one call (the status surfaces' view of Nova; one request per poll).
   * It also learns each host's service id, so a force-down needs no lookup first (a stale id is a 404,
   * looked up again: updateService).
   */
  async listComputeServices(signal?: AbortSignal): Promise<ComputeService[]> {
    const v = await this.versions(signal);
    const res = await this.call({ method: 'GET', path: '/os-services?binary=nova-compute', mv: v.services, signal });
    const list = ((res.body as { services?: RawService[] })?.services ?? []).map(toService);
    for (const s of list) if (s.host && s.id) this.serviceIds.set(s.host, s.id);
    return list;
  }

  /** forced_down true/false: PUT /os-services/{id} (≥2.53) or PUT /os-services/force-down (2.11). */
  async setForcedDown(host: string, forcedDown: boolean, signal?: AbortSignal): Promise<void> {
    const v = await this.versions(signal);
    if (v.servicesById) {
      await this.updateService(host, { forced_down: forcedDown }, v.services, signal);
    } else {
      await this.call({
        method: 'PUT',
        path: '/os-services/force-down',
        mv: v.services,
        body: { host, binary: 'nova-compute', forced_down: forcedDown },
        signal,
      });
    }
  }

  /** Disable with a reason, or enable (Nova refuses a reason with `enabled`). */
  async setServiceEnabled(host: string, enabled: boolean, reason: string | undefined, signal?: AbortSignal): Promise<void> {
    const v = await this.versions(signal);
    if (v.servicesById) {
      const body = enabled ? { status: 'enabled' } : { status: 'disabled', ...(reason ? { disabled_reason: reason } : {}) };
      await this.updateService(host, body, v.services, signal);
    } else if (enabled) {
      await this.call({ method: 'PUT', path: '/os-services/enable', mv: v.services, body: { host, binary: 'nova-compute' }, signal });
    } else {
      await this.call({
        method: 'PUT',
        path: '/os-services/disable-log-reason',
        mv: v.services,
        body: { host, binary: 'nova-compute', disabled_reason: reason ?? 'instance-ha' },
        signal,
      });
    }
  }

  /** Every server on a host, all projects (admin: `host` is silently ignored for others). Follows paging. */
  async listServers(f: ServerFilter, signal?: AbortSignal): Promise<Server[]> {
    const v = await this.versions(signal);
    const q = new URLSearchParams({ all_tenants: '1', host: f.host, limit: '1000' });
    if (f.tags?.length) q.set('tags', f.tags.join(','));
    if (f.tagsAny?.length) q.set('tags-any', f.tagsAny.join(','));
    if (f.notTags?.length) q.set('not-tags', f.notTags.join(','));
    const out: Server[] = [];
    for (;;) {
      const res = await this.call({ method: 'GET', path: `/servers/detail?${q}`, mv: v.servers, signal });
      const page = (res.body as { servers?: RawServer[] })?.servers ?? [];
      out.push(...page.map(toServer));
      const more = (res.body as { servers_links?: Array<{ rel: string }> })?.servers_links?.some((l) => l.rel === 'next');
      if (!more || page.length === 0) return out;
      q.set('marker', page[page.length - 1]!.id);
    }
  }

  /**
   * Every server of every project changed at or after `since` (Nova's own `updated` time, ISO), in
   * one call per 1,000 servers: GET /servers/detail?all_tenants=1&changes-since=… (api-ref "List
   * Servers Detailed", https://docs.openstack.org/api-ref/compute/#list-servers-detailed:
   * `changes-since` compares the server's updated_at and also lists servers deleted since then, with
   * status DELETED; `all_tenants` is admin-only). The evacuation tracker's one look at all servers.
   */
  async listChangedServers(since: string, signal?: AbortSignal): Promise<Server[]> {
    const v = await this.versions(signal);
    const q = new URLSearchParams({ all_tenants: '1', 'changes-since': since, limit: '1000' });
    const out: Server[] = [];
    for (let pages = 0; ; pages++) {
      const res = await this.call({ method: 'GET', path: `/servers/detail?${q}`, mv: v.servers, signal });
      const page = (res.body as { servers?: RawServer[] })?.servers ?? [];
      out.push(...page.map(toServer));
      const more = (res.body as { servers_links?: Array<{ rel: string }> })?.servers_links?.some((l) => l.rel === 'next');
      // Bounded: 100 pages (100,000 servers changed in one window) is more than any poll should read.
      if (!more || page.length === 0 || pages >= 99) return out;
      q.set('marker', page[page.length - 1]!.id);
    }
  }

  /** null when Nova answers 404 (deleted). */
  async getServer(id: string, signal?: AbortSignal): Promise<Server | null> {
    const v = await this.versions(signal);
    try {
      const res = await this.call({ method: 'GET', path: `/servers/${enc(id)}`, mv: v.servers, signal });
      return toServer((res.body as { server: RawServer }).server);
    } catch (err) {
      if (err instanceof OpenStackApiError && err.status === 404) return null;
      throw err;
    }
  }

  /**
   * POST /servers/{id}/action {"evacuate": {host?}}: 200 with no body from 2.14. Sent once, never
   * retried here: a reset or 5xx leaves the outcome unknown and the caller must ask Nova.
   */
  async evacuate(id: string, target: string | undefined, signal?: AbortSignal): Promise<{ requestId: string | undefined }> {
    const v = await this.versions(signal);
    const body = { evacuate: target ? { host: target } : {} };
    const res = await this.call({ method: 'POST', path: `/servers/${enc(id)}/action`, mv: v.evacuate, body, idempotent: false, signal });
    return { requestId: res.requestId };
  }

  /**
   * POST /servers/{id}/action {"reboot": {"type": "HARD"}} (api-ref "Reboot Server (reboot Action)",
   * https://docs.openstack.org/api-ref/compute/#reboot-server-reboot-action): 202. A hard reboot is
   * accepted from ACTIVE, SHUTOFF, PAUSED, SUSPENDED and ERROR, so it restarts a crashed guest
   * whether or not Nova has synced its power state yet (os-start wants SHUTOFF only, os-stop first
   * would race the sync). Sent once, not retried here.
   */
  async rebootHard(id: string, signal?: AbortSignal): Promise<void> {
    const v = await this.versions(signal);
    await this.call({
      method: 'POST',
      path: `/servers/${enc(id)}/action`,
      mv: v.servers,
      body: { reboot: { type: 'HARD' } },
      idempotent: false,
      signal,
    });
  }

  /** os-resetState: clears a stuck task_state (Nova accepts only `active` or `error`). 202. */
  async resetState(id: string, state: 'active' | 'error', signal?: AbortSignal): Promise<void> {
    const v = await this.versions(signal);
    await this.call({ method: 'POST', path: `/servers/${enc(id)}/action`, mv: v.servers, body: { 'os-resetState': { state } }, signal });
  }

  /**
   * `changesSinceMs`: only records changed since then: Nova's `changes-since` (≥2.59) compares
   * `updated_at` (a record never updated, still `accepted`, is not listed); below 2.59 Nova has no such
   * filter and it is applied here on the last change (created_at when never updated).
   */
  async listMigrations(
    f: { instanceUuid?: string; sourceCompute?: string; changesSinceMs?: number },
    signal?: AbortSignal,
  ): Promise<Migration[]> {
    const v = await this.versions(signal);
    const q = new URLSearchParams({ migration_type: 'evacuation' });
    if (f.instanceUuid) q.set('instance_uuid', f.instanceUuid);
    if (f.sourceCompute) q.set('source_compute', f.sourceCompute);
    const since = f.changesSinceMs;
    if (since !== undefined && mvMinor(v.migrations) >= 59) q.set('changes-since', new Date(since).toISOString().replace(/\.\d{3}Z$/, 'Z'));
    if (since !== undefined && mvMinor(v.migrations) < 59) {
      const all = await this.listMigrations({ instanceUuid: f.instanceUuid, sourceCompute: f.sourceCompute }, signal);
      return all.filter((m) => changedMs(m) >= since);
    }
    // From 2.59 the list is paged (api max_limit, 1000 by default): follow migrations_links by uuid marker.
    const out: Migration[] = [];
    for (;;) {
      const res = await this.call({ method: 'GET', path: `/os-migrations?${q}`, mv: v.migrations, signal });
      const body = res.body as { migrations?: RawMigration[]; migrations_links?: Array<{ rel: string }> } | undefined;
      const page = body?.migrations ?? [];
      out.push(...page.map(toMigration).filter((m) => (m.migrationType ?? 'evacuation') === 'evacuation'));
      const last = page[page.length - 1];
      if (!body?.migrations_links?.some((l) => l.rel === 'next') || !last?.uuid) return out;
      q.set('marker', last.uuid);
    }
  }

  /** The Keystone user this client acts as: Nova records it as the user_id of each action it asks for. */
  userId(signal?: AbortSignal): Promise<string | null> {
    return this.opts.session.userId(signal);
  }

  /**
   * A server's actions started since `sinceMs`, newest first: GET /servers/{id}/os-instance-actions
   * (api-ref "List Actions For Server", https://docs.openstack.org/api-ref/compute/#list-actions-for-server;
   * Nova sorts by created_at, newest first: nova/db/main/api.py actions_get). From 2.58 `changes-since`
   * narrows the answer on Nova's side (it compares updated_at, which is never before the start);
   * below, the whole history comes and is filtered here. Null when the server does not exist.
   */
  async listInstanceActions(id: string, sinceMs: number, signal?: AbortSignal): Promise<InstanceAction[] | null> {
    const v = await this.versions(signal);
    const q =
      mvMinor(v.servers) >= 58 ? `?changes-since=${encodeURIComponent(new Date(sinceMs).toISOString().replace(/\.\d{3}Z$/, 'Z'))}` : '';
    let res;
    try {
      res = await this.call({ method: 'GET', path: `/servers/${enc(id)}/os-instance-actions${q}`, mv: v.servers, signal });
    } catch (err) {
      if (err instanceof OpenStackApiError && err.status === 404) return null;
      throw err;
    }
    const raw = (res.body as { instanceActions?: unknown } | undefined)?.instanceActions;
    if (!Array.isArray(raw)) throw new Error(`GET /servers/${id}/os-instance-actions: the answer has no instanceActions list`);
    const out: InstanceAction[] = [];
    for (const a of raw as Array<Record<string, unknown>>) {
      if (typeof a?.action !== 'string' || typeof a.start_time !== 'string') continue;
      if (novaClockMs(a.start_time) < sinceMs) continue;
      out.push({
        action: a.action,
        requestId: typeof a.request_id === 'string' ? a.request_id : '',
        userId: typeof a.user_id === 'string' ? a.user_id : null,
        startTime: a.start_time,
      });
    }
    return out;
  }

  /**
   * Every server group of every project (admin, `all_projects=True`), paged by limit/offset
   * (api-ref "List Server Groups"). `policy` from 2.64, `policies: [one]` before it.
   */
  async listServerGroups(signal?: AbortSignal): Promise<ServerGroup[]> {
    const v = await this.versions(signal);
    const out: ServerGroup[] = [];
    const limit = 1000;
    // Bounded: at most 100 pages (100,000 groups) even if a proxy ignores offset.
    for (let offset = 0, page = 0; page < 100; offset += limit, page++) {
      const q = new URLSearchParams({ all_projects: 'True', limit: String(limit), offset: String(offset) });
      const res = await this.call({ method: 'GET', path: `/os-server-groups?${q}`, mv: v.servers, signal });
      type Raw = { id: string; name?: string; policy?: string; policies?: string[]; members?: string[] };
      const got = (res.body as { server_groups?: Raw[] })?.server_groups ?? [];
      for (const g of got) out.push({ id: g.id, name: g.name ?? '', policy: g.policy ?? g.policies?.[0] ?? '', members: g.members ?? [] });
      if (got.length < limit) break;
    }
    return out;
  }

  async listAggregates(signal?: AbortSignal): Promise<Aggregate[]> {
    const v = await this.versions(signal);
    const res = await this.call({ method: 'GET', path: '/os-aggregates', mv: v.servers, signal });
    return (
      (res.body as { aggregates?: Array<{ name: string; hosts?: string[]; metadata?: Record<string, string> }> })?.aggregates ?? []
    ).map((a) => ({
      name: a.name,
      hosts: a.hosts ?? [],
      metadata: a.metadata ?? {},
    }));
  }

  /** Glance v2 image properties are top-level fields of the image; null when the image is gone. */
  async getImageProperties(imageId: string, signal?: AbortSignal): Promise<Record<string, string> | null> {
    const base = await this.opts.session.endpoint('image', signal);
    try {
      const res = await this.authed({ method: 'GET', url: `${base}/v2/images/${enc(imageId)}`, signal });
      const out: Record<string, string> = {};
      for (const [k, val] of Object.entries((res.body ?? {}) as Record<string, unknown>)) if (typeof val === 'string') out[k] = val;
      return out;
    } catch (err) {
      if (err instanceof OpenStackApiError && err.status === 404) return null;
      throw err;
    }
  }

  /** PUT /os-services/{id}; a 404 means the service was re-created: look its id up again once. */
  private async updateService(host: string, body: unknown, mv: Microversion, signal?: AbortSignal): Promise<void> {
    for (let i = 0; ; i++) {
      const svc = await this.requireService(host, signal);
      try {
        await this.call({ method: 'PUT', path: `/os-services/${enc(svc.id)}`, mv, body, signal });
        return;
      } catch (err) {
        if (i > 0 || !(err instanceof OpenStackApiError) || err.status !== 404) throw err;
        this.serviceIds.delete(host);
      }
    }
  }

  /** The service's id, looked up once per host (force-down then disable need it back to back). */
  private async requireService(host: string, signal?: AbortSignal): Promise<{ id: string }> {
    const known = this.serviceIds.get(host);
    if (known) return { id: known };
    const svc = await this.findService(host, signal);
    if (!svc) throw new OpenStackApiError('GET', '/os-services', 404, 'itemNotFound', `no nova-compute service on host ${host}`, undefined);
    this.serviceIds.set(host, svc.id);
    return svc;
  }

  private async call(r: {
    method: HttpRequest['method'];
    path: string;
    mv?: Microversion;
    body?: unknown;
    idempotent?: boolean;
    signal?: AbortSignal;
  }): Promise<HttpResponse> {
    const base = await this.opts.session.endpoint('compute', r.signal);
    return this.authed({
      method: r.method,
      url: r.path === '/' ? `${base}/` : base + r.path,
      headers: r.mv ? mvHeaders(r.mv) : {},
      body: r.body,
      idempotent: r.idempotent,
      signal: r.signal,
    });
  }

  /** Adds the token; on 401 renews it once and repeats (a 401 means the call was not carried out). */
  private async authed(req: HttpRequest): Promise<HttpResponse> {
    for (let attempt = 0; ; attempt++) {
      const token = await this.opts.session.getToken(req.signal);
      try {
        return await httpJson(this.opts.http, { ...req, headers: { ...req.headers, 'X-Auth-Token': token } });
      } catch (err) {
        if (attempt === 0 && err instanceof OpenStackApiError && err.status === 401) {
          this.opts.log.info({ url: req.url.split('?')[0] }, 'token refused (401): renewing');
          this.opts.session.invalidate(token);
          continue;
        }
        throw err;
      }
    }
  }
}

interface VersionDoc {
  id?: string;
  status?: string;
  version?: string;
  min_version?: string;
}
interface RawService {
  id: string | number;
  host: string;
  binary: string;
  status: string;
  state: string;
  forced_down?: boolean;
  disabled_reason?: string | null;
}
interface RawServer {
  id: string;
  name?: string;
  status?: string;
  tenant_id?: string;
  user_id?: string;
  tags?: string[];
  metadata?: Record<string, string>;
  image?: { id?: string } | string;
  flavor?: { extra_specs?: Record<string, string> };
  'OS-EXT-SRV-ATTR:host'?: string | null;
  'OS-EXT-STS:vm_state'?: string | null;
  'OS-EXT-STS:task_state'?: string | null;
  /** Only on a server in ERROR (or DELETED): why, e.g. the scheduler's "No valid host was found" (api-ref "Show Server Details"). */
  fault?: { message?: string; code?: number } | null;
  updated?: string;
}
interface RawMigration {
  id: number;
  uuid?: string;
  instance_uuid: string;
  source_compute?: string | null;
  dest_compute?: string | null;
  status: string;
  migration_type?: string;
  created_at: string;
  updated_at?: string | null;
}

const enc = encodeURIComponent;

function toService(s: RawService): ComputeService {
  return {
    id: String(s.id),
    host: s.host,
    binary: s.binary,
    status: s.status === 'disabled' ? 'disabled' : 'enabled',
    state: s.state === 'up' ? 'up' : 'down',
    forcedDown: s.forced_down === true,
    disabledReason: s.disabled_reason ?? null,
  };
}

export function toServer(s: RawServer): Server {
  const image = s.image && typeof s.image === 'object' ? (s.image.id ?? null) : null;
  return {
    id: s.id,
    name: s.name ?? '',
    status: s.status ?? 'UNKNOWN',
    host: s['OS-EXT-SRV-ATTR:host'] ?? null,
    vmState: s['OS-EXT-STS:vm_state'] ?? null,
    taskState: s['OS-EXT-STS:task_state'] ?? null,
    projectId: s.tenant_id ?? '',
    userId: s.user_id ?? '',
    tags: s.tags ?? [],
    metadata: s.metadata ?? {},
    imageId: image,
    flavorExtraSpecs: s.flavor?.extra_specs ?? {},
    // Bounded: it ends up in alarms, events and notifications (Nova's own column is 255 characters).
    fault: typeof s.fault?.message === 'string' && s.fault.message ? s.fault.message.slice(0, FAULT_MAX) : null,
    updatedAt: s.updated ?? null,
  };
}

/** Longest server fault message kept (Nova's instance_faults.message is a 255-character column). */
const FAULT_MAX = 255;

/** When a migration last changed (Nova's UTC times carry no zone), epoch ms. */
/** Nova's times carry no zone (UTC) or a Z; epoch ms, NaN when unreadable. */
function novaClockMs(x: string | null): number {
  return x ? Date.parse(/Z$|[+-]\d\d:?\d\d$/.test(x) ? x : `${x}Z`) : NaN;
}

function changedMs(m: Migration): number {
  return Math.max(novaClockMs(m.createdAt) || 0, novaClockMs(m.updatedAt) || 0);
}

function toMigration(m: RawMigration): Migration {
  return {
    id: m.id,
    uuid: m.uuid,
    instanceUuid: m.instance_uuid,
    sourceCompute: m.source_compute ?? null,
    destCompute: m.dest_compute ?? null,
    status: m.status,
    migrationType: m.migration_type,
    createdAt: m.created_at,
    updatedAt: m.updated_at ?? null,
  };
}
