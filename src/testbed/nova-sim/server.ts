import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { computeRoute, type Reply } from './compute-api.js';
import { Faults, type FaultRule } from './faults.js';
import { SimKeystone, type SimAppCred, type SimUser } from './keystone.js';
import { startSimNotifier, type SimNotificationsOptions } from './notifications.js';
import { NovaModel, type ModelOptions, type NovaMode, type ServerSpec, type SimServerGroup } from './model.js';

export interface NovaSimOptions {
  port?: number;
  hosts: string[];
  servers?: ServerSpec[];
  mode?: NovaMode;
  /** Highest compute microversion offered: 2.93 is Zed's (the harness), 2.96 current Nova. */
  maxVersion?: string;
  minVersion?: string;
  serviceDownTimeMs?: number;
  claimMs?: number;
  rebuildMs?: number;
  initHostMs?: number;
  /** Added to every compute call (not Keystone). */
  computeLatencyMs?: number;
  /** Added to every token issue. */
  tokenDelayMs?: number;
  tokenTtlMs?: number;
  users?: SimUser[];
  appCreds?: SimAppCred[];
  images?: Record<string, Record<string, string>>;
  aggregates?: Array<{ name: string; hosts: string[]; metadata: Record<string, string> }>;
  /** Per-server rebuild time (ms), overriding rebuildMs. */
  rebuildMsFor?: (id: string) => number;
  /** Emit Nova's versioned notifications on this RabbitMQ (oslo v2 envelope, `nova` exchange). */
  notifications?: SimNotificationsOptions;
  /** Server groups whose members are named by server name. */
  serverGroups?: Array<{ name: string; policy: SimServerGroup['policy']; members: string[] }>;
  /** Serve HTTPS with this key and certificate (PEM), to test custom CA bundles. */
  tls?: { key: string; cert: string };
}

export interface NovaSim {
  url: string;
  authUrl: string;
  model: NovaModel;
  keystone: SimKeystone;
  faults: Faults;
  /** Every request, `METHOD /path` with query, in arrival order. */
  requests: string[];
  setLatency(computeMs: number, tokenMs?: number): void;
  injectFault(rule: FaultRule): void;
  /**
   * nova-api (and Keystone, on the same port) goes away: the listener is closed, so every call gets
   * ECONNREFUSED, as when the API process is down; the model (conductor, computes) runs on.
   */
  pause(): Promise<void>;
  /** Listens again on the same port. */
  resume(): Promise<void>;
  /** Keystone alone goes away (true) or comes back: every token request's connection is dropped. */
  setKeystoneDown(down: boolean): void;
  stop(): Promise<void>;
}

export const SIM_ADMIN: SimUser = { name: 'admin', password: 'admin', admin: true, projectId: 'admin-project' };

/** Starts the simulator on 127.0.0.1 (loopback only). */
export async function startNovaSim(opts: NovaSimOptions): Promise<NovaSim> {
  const modelOpts: ModelOptions = {
    hosts: opts.hosts,
    mode: opts.mode ?? 'current',
    serviceDownTimeMs: opts.serviceDownTimeMs ?? 60_000,
    claimMs: opts.claimMs ?? 50,
    rebuildMs: opts.rebuildMs ?? 300,
    initHostMs: opts.initHostMs ?? 200,
    ...(opts.rebuildMsFor ? { rebuildMsFor: opts.rebuildMsFor } : {}),
  };
  const notifier = opts.notifications ? await startSimNotifier(opts.notifications) : null;
  if (notifier) modelOpts.onNotification = (t, p, prio) => notifier.emit(t, p, prio);
  const model = new NovaModel(modelOpts);
  for (const s of opts.servers ?? []) model.addServer(s);
  for (const [id, props] of Object.entries(opts.images ?? {})) model.images.set(id, props);
  (opts.aggregates ?? []).forEach((a, i) => model.aggregates.push({ id: i + 1, ...a }));
  const idOf = (name: string): string => [...model.servers.values()].find((s) => s.name === name)?.id ?? name;
  (opts.serverGroups ?? []).forEach((g, i) =>
    model.serverGroups.push({ id: `sg-${i + 1}`, name: g.name, policy: g.policy, members: g.members.map(idOf), projectId: 'tenant-a' }),
  );
  const users = opts.users ?? [SIM_ADMIN, { name: 'demo', password: 'demo', admin: false, projectId: 'tenant-a' }];
  const keystone = new SimKeystone(
    users,
    opts.appCreds ?? [{ id: 'ac-admin', secret: 'ac-secret', user: users[0]! }],
    opts.tokenTtlMs ?? 3_600_000,
  );
  const faults = new Faults();
  const requests: string[] = [];
  const lat = { compute: opts.computeLatencyMs ?? 0, token: opts.tokenDelayMs ?? 0 };
  const maxVersion = opts.maxVersion ?? (opts.mode === 'zed' ? '2.93' : '2.96');
  const minVersion = opts.minVersion ?? '2.1';
  let base = '';
  let keystoneDown = false;

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    void handle(req, res).catch((err) => {
      if (!res.headersSent) send(res, 500, { computeFault: { code: 500, message: String(err) } });
    });
  };
  const server = opts.tls ? createTlsServer({ key: opts.tls.key, cert: opts.tls.cert }, onRequest) : createServer(onRequest);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', base);
    const method = req.method ?? 'GET';
    const raw = await readBody(req);
    requests.push(`${method} ${url.pathname}${url.search}`);
    if (keystoneDown && url.pathname.startsWith('/identity/')) return void req.socket.destroy();
    const rules = faults.take(method, url.pathname);
    for (const r of rules) if (r.kind === 'delay') await sleep(r.delayMs ?? 0);
    if (rules.some((r) => r.kind === 'drop_before')) return void req.socket.destroy();
    const statusFault = rules.find((r) => r.kind === 'status');
    if (statusFault) {
      const st = statusFault.status ?? 503;
      return send(
        res,
        st,
        st === 503
          ? { serviceUnavailable: { code: 503, message: 'injected' } }
          : { computeFault: { code: st, message: 'Unexpected API Error (injected)' } },
      );
    }
    let body: unknown;
    try {
      body = raw.length ? JSON.parse(raw) : undefined;
    } catch {
      return send(res, 400, { badRequest: { code: 400, message: 'Malformed request body' } });
    }
    const reply = await route(method, url, body, req);
    if (rules.some((r) => r.kind === 'drop_after')) return void req.socket.destroy();
    send(res, reply.status, reply.body, reply.headers);
  }

  async function route(
    method: string,
    url: URL,
    body: unknown,
    req: IncomingMessage,
  ): Promise<Reply & { headers?: Record<string, string> }> {
    const p = url.pathname;
    if (p === '/identity/v3/auth/tokens' && method === 'POST') {
      if (lat.token) await sleep(lat.token);
      const r = keystone.authenticate(body, catalog());
      if (!r)
        return {
          status: 401,
          body: { error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } },
        };
      return { status: 201, body: r.body, headers: { 'X-Subject-Token': r.token } };
    }
    if (p.startsWith('/image/v2/images/') && method === 'GET') {
      if (!keystone.validate(header(req, 'x-auth-token'))) return unauthorized();
      const props = model.images.get(decodeURIComponent(p.slice('/image/v2/images/'.length)));
      return props ? { status: 200, body: { id: p.split('/').pop(), status: 'active', ...props } } : { status: 404, body: 'Not Found' };
    }
    if (p.startsWith('/_sim/')) return control(method, p.slice(6), body);
    if (!p.startsWith('/compute'))
      return { status: 404, body: { itemNotFound: { code: 404, message: 'The resource could not be found.' } } };
    if (lat.compute) await sleep(lat.compute);
    // Version documents are public (no token), as on the real API (GET / and GET /v2.1/).
    if (p === '/compute' || p === '/compute/')
      return { status: 200, body: { versions: [versionDoc('SUPPORTED', 'v2.0'), versionDoc('CURRENT', 'v2.1')] } };
    if (p === '/compute/v2.1' || p === '/compute/v2.1/') return { status: 200, body: { version: versionDoc('CURRENT', 'v2.1') } };
    const token = keystone.validate(header(req, 'x-auth-token'));
    if (!token) return unauthorized();
    const mvRes = microversion(req);
    if ('error' in mvRes) return { status: 406, body: { computeFault: { code: 406, message: mvRes.error } } };
    const mvHeaders = {
      'OpenStack-API-Version': `compute 2.${mvRes.mv}`,
      'X-OpenStack-Nova-API-Version': `2.${mvRes.mv}`,
      Vary: 'OpenStack-API-Version, X-OpenStack-Nova-API-Version',
    };
    const reply = computeRoute(model, {
      method,
      path: p.slice('/compute/v2.1'.length),
      query: url.searchParams,
      body,
      mv: mvRes.mv,
      token,
      baseUrl: `${base}/compute/v2.1`,
    });
    return { ...reply, headers: mvHeaders };
  }

  /** OpenStack-API-Version: compute 2.N (≥2.27) or X-OpenStack-Nova-API-Version; absent → 2.1; 406 outside the range. */
  function microversion(req: IncomingMessage): { mv: number } | { error: string } {
    const newer = header(req, 'openstack-api-version');
    const legacy = header(req, 'x-openstack-nova-api-version');
    let v = newer?.replace(/^compute\s+/, '') ?? legacy ?? '2.1';
    if (v === 'latest') v = maxVersion;
    const n = Number(/^2\.(\d+)$/.exec(v)?.[1] ?? NaN);
    const lo = Number(minVersion.split('.')[1]);
    const hi = Number(maxVersion.split('.')[1]);
    if (!Number.isFinite(n) || n < lo || n > hi)
      return { error: `Version ${v} is not supported by the API. Minimum is ${minVersion} and maximum is ${maxVersion}.` };
    return { mv: n };
  }

  function versionDoc(status: string, id: string): Record<string, unknown> {
    return {
      id,
      status,
      version: id === 'v2.1' ? maxVersion : '',
      min_version: id === 'v2.1' ? minVersion : '',
      updated: '2013-07-23T11:33:21Z',
      links: [{ rel: 'self', href: `${base}/compute/${id}/` }],
    };
  }

  function catalog(): unknown[] {
    const ep = (type: string, url: string): unknown => ({
      type,
      name: type,
      id: randomUUID(),
      endpoints: ['public', 'internal', 'admin'].map((i) => ({
        id: randomUUID(),
        interface: i,
        region: 'RegionOne',
        region_id: 'RegionOne',
        url,
      })),
    });
    return [ep('identity', `${base}/identity/v3`), ep('compute', `${base}/compute/v2.1`), ep('image', `${base}/image`)];
  }

  /** Control endpoints for the process mode (tests in-process use the model directly). */
  function control(method: string, what: string, body: unknown): Reply {
    const b = (body ?? {}) as { host?: string; rule?: FaultRule };
    if (method === 'GET' && what === 'state') {
      return {
        status: 200,
        body: {
          services: [...model.services.values()].map((s) => ({ ...s, state: model.serviceState(s) })),
          servers: [...model.servers.values()],
          migrations: model.migrations,
          evacuateAccepted: Object.fromEntries(model.evacuateAccepted),
          evacuateCalls: Object.fromEntries(model.evacuateCalls),
        },
      };
    }
    if (method === 'POST' && what === 'kill-compute' && b.host) return (model.killCompute(b.host), { status: 204 });
    if (method === 'POST' && what === 'restart-compute' && b.host) return (model.restartCompute(b.host), { status: 204 });
    if (method === 'POST' && what === 'fault' && b.rule)
      return (faults.add({ ...b.rule, count: b.rule.count ?? Infinity }), { status: 204 });
    if (method === 'POST' && what === 'clear-faults') return (faults.clear(), { status: 204 });
    return { status: 404 };
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  base = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    authUrl: `${base}/identity/v3`,
    model,
    keystone,
    faults,
    requests,
    setLatency(computeMs, tokenMs) {
      lat.compute = computeMs;
      if (tokenMs !== undefined) lat.token = tokenMs;
    },
    injectFault: (rule) => faults.add(rule),
    pause: async () => {
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      await closed;
    },
    resume: async () => {
      if (server.listening) return;
      const port = Number(new URL(base).port);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => {
          server.off('error', reject);
          resolve();
        });
      });
    },
    setKeystoneDown: (down) => {
      keystoneDown = down;
    },
    stop: async () => {
      model.stop();
      await notifier?.close();
      server.closeAllConnections();
      if (server.listening) await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function unauthorized(): Reply {
  return {
    status: 401,
    body: { error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } },
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  const rid = `req-${randomUUID()}`;
  res.writeHead(status, {
    ...(text ? { 'Content-Type': 'application/json' } : {}),
    'Content-Length': Buffer.byteLength(text),
    'x-openstack-request-id': rid,
    'x-compute-request-id': rid,
    ...headers,
  });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
