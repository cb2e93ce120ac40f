/**
 * The few Redfish calls a fence needs (DMTF DSP0266 / DSP8010 ComputerSystem): find the system,
 * read its PowerState, post a Reset. HTTPS through one kept-alive undici Agent, so a fence (read,
 * reset, a few polls) costs one TLS handshake; certificates are checked unless `insecure` is set
 * (and the caller logs that it is).
 */
import { MAX_PEM_FILE_BYTES, readTextFileOrThrow } from '../config/safe-file.js';
import { timerMs } from '../timer-limit.js';
import type { Agent } from 'undici';
import { undici } from '../lazy-undici.js';

export interface RedfishOptions {
  host: string;
  port: number;
  username: string;
  password: string;
  /** Service root path, `/redfish/v1` unless the BMC puts it elsewhere. */
  rootPath: string;
  /** The ComputerSystem to act on; absent: the only member of the Systems collection. */
  systemPath?: string;
  /** PEM CA bundle to check the BMC's certificate with (else the system's CAs). */
  caFile?: string;
  insecure: boolean;
  /** `session`: one Redfish session (X-Auth-Token) per connection, deleted at close; else HTTP basic. */
  auth: 'basic' | 'session';
  requestTimeoutMs: number;
  signal?: AbortSignal;
}

/** PowerState values of the ComputerSystem schema; `PoweringOff` is not off. */
export type RedfishPowerState = 'On' | 'Off' | 'PoweringOn' | 'PoweringOff' | 'Paused';

export type ResetType = 'On' | 'ForceOff' | 'ForceRestart' | 'GracefulShutdown' | 'PowerCycle';

export class RedfishError extends Error {
  override name = 'RedfishError';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

interface Answer {
  status: number;
  body: Record<string, unknown> | null;
  headers: Record<string, string | string[] | undefined>;
}

/** The largest answer read from a BMC: a ComputerSystem is a few KB; anything far larger is not one. */
const MAX_BODY_BYTES = 1 << 20;

export class RedfishClient {
  private readonly agent: Agent;
  private readonly base: string;
  private token: string | undefined;
  private sessionPath: string | undefined;
  private system: { path: string; resetTarget: string } | undefined;

  constructor(private readonly o: RedfishOptions) {
    // Through the config file checks: a FIFO or a huge file named as the CA never blocks a fence.
    const ca = o.caFile ? readTextFileOrThrow(o.caFile, MAX_PEM_FILE_BYTES) : undefined;
    this.agent = new (undici().Agent)({ connect: { ca, rejectUnauthorized: !o.insecure }, keepAliveTimeout: 10_000, connections: 1 });
    this.base = `https://${o.host.includes(':') ? `[${o.host}]` : o.host}:${o.port}`;
  }

  private async call(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<Answer> {
    const headers: Record<string, string> = { accept: 'application/json', 'odata-version': '4.0' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.token) headers['x-auth-token'] = this.token;
    else if (this.o.auth === 'basic')
      headers.authorization = `Basic ${Buffer.from(`${this.o.username}:${this.o.password}`).toString('base64')}`;
    const timeout = AbortSignal.timeout(timerMs(this.o.requestTimeoutMs));
    const signal = this.o.signal ? AbortSignal.any([this.o.signal, timeout]) : timeout;
    let res;
    try {
      res = await undici().request(`${this.base}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        dispatcher: this.agent,
        signal,
      });
    } catch (err) {
      const why = timeout.aborted ? `no answer within ${this.o.requestTimeoutMs}ms` : err instanceof Error ? err.message : String(err);
      throw new RedfishError(`${method} ${path}: ${why}`);
    }
    const text = await readBounded(res.body);
    let parsed: Record<string, unknown> | null = null;
    if (text.trim()) {
      try {
        const v: unknown = JSON.parse(text);
        parsed = typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
      } catch {
        parsed = null;
      }
    }
    if (res.statusCode === 401 || res.statusCode === 403)
      throw new RedfishError(`${method} ${path}: ${res.statusCode} (credentials refused)`, res.statusCode);
    return { status: res.statusCode, body: parsed, headers: res.headers };
  }

  private async get(path: string): Promise<Record<string, unknown>> {
    const a = await this.call('GET', path);
    if (a.status !== 200 || !a.body) throw new RedfishError(`GET ${path}: ${a.status}${faultText(a.body)}`, a.status);
    return a.body;
  }

  /** Opens a session when configured (its token is used for every later call). */
  async open(): Promise<void> {
    if (this.o.auth !== 'session' || this.token) return;
    const root = await this.get(this.o.rootPath);
    const sessions = linkOf(linkObj(root, 'Links'), 'Sessions') ?? `${this.o.rootPath}/SessionService/Sessions`;
    const a = await this.call('POST', sessions, { UserName: this.o.username, Password: this.o.password });
    const token = header(a.headers, 'x-auth-token');
    if (a.status !== 201 && a.status !== 200) throw new RedfishError(`POST ${sessions}: ${a.status}${faultText(a.body)}`, a.status);
    if (!token) throw new RedfishError(`POST ${sessions}: no X-Auth-Token in the answer`);
    this.token = token;
    this.sessionPath =
      pathOf(header(a.headers, 'location')) ?? (typeof a.body?.['@odata.id'] === 'string' ? a.body['@odata.id'] : undefined);
  }

  /** Deletes the session (best effort: a BMC expires it anyway) and closes the connection. */
  async close(): Promise<void> {
    try {
      if (this.token && this.sessionPath) await this.call('DELETE', this.sessionPath);
    } catch {
      // The session times out on the BMC; nothing else holds it.
    } finally {
      this.token = undefined;
      await this.agent.close().catch(() => undefined);
    }
  }

  /** The ComputerSystem: the configured one, else the only member of Systems (two or more: say which). */
  async findSystem(): Promise<{ path: string; resetTarget: string }> {
    if (this.system) return this.system;
    let path = this.o.systemPath;
    if (!path) {
      const root = await this.get(this.o.rootPath);
      const systemsPath = linkOf(root, 'Systems');
      if (!systemsPath) throw new RedfishError(`${this.o.rootPath}: the service root names no Systems collection`);
      const members = ((await this.get(systemsPath)).Members ?? []) as unknown[];
      const paths = members.map((m) => linkOf(m, '')).filter((p): p is string => !!p);
      if (paths.length === 0) throw new RedfishError(`${systemsPath}: no systems`);
      if (paths.length > 1)
        throw new RedfishError(`${systemsPath}: ${paths.length} systems (${paths.join(', ')}); set systems_uri to the one to fence`);
      path = paths[0]!;
    }
    const sys = await this.get(path);
    const actions = linkObj(sys, 'Actions');
    const reset = linkObj(actions, '#ComputerSystem.Reset');
    const target = typeof reset?.target === 'string' ? reset.target : `${path}/Actions/ComputerSystem.Reset`;
    this.system = { path, resetTarget: target };
    return this.system;
  }

  async powerState(): Promise<RedfishPowerState> {
    const { path } = await this.findSystem();
    const state = (await this.get(path)).PowerState;
    if (state === 'On' || state === 'Off' || state === 'PoweringOn' || state === 'PoweringOff' || state === 'Paused') return state;
    throw new RedfishError(`${path}: PowerState ${JSON.stringify(state)} is not a Redfish power state`);
  }

  /** POST Reset; resolves to the HTTP status (200/202/204 accepted; 400/409 left to the caller). */
  async reset(type: ResetType): Promise<number> {
    const { resetTarget } = await this.findSystem();
    const a = await this.call('POST', resetTarget, { ResetType: type });
    if ([200, 202, 204, 400, 409].includes(a.status)) return a.status;
    throw new RedfishError(`POST ${resetTarget} ${type}: ${a.status}${faultText(a.body)}`, a.status);
  }
}

async function readBounded(body: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of body) {
    n += c.length;
    if (n > MAX_BODY_BYTES) throw new RedfishError(`answer larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function linkObj(v: unknown, key: string): Record<string, unknown> | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const x = (v as Record<string, unknown>)[key];
  return typeof x === 'object' && x !== null ? (x as Record<string, unknown>) : undefined;
}

/** `{"@odata.id": "/redfish/v1/Systems"}` under key (or v itself for key ''). */
function linkOf(v: unknown, key: string): string | undefined {
  const obj = key ? linkObj(v, key) : typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined;
  const id = obj?.['@odata.id'];
  return typeof id === 'string' && id.startsWith('/') ? id : undefined;
}

function header(h: Answer['headers'], name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

function pathOf(location: string | undefined): string | undefined {
  if (!location) return undefined;
  try {
    return new URL(location, 'https://bmc').pathname;
  } catch {
    return undefined;
  }
}

/** Redfish error bodies: `{"error": {"message": …, "@Message.ExtendedInfo": [{"Message": …}]}}`. */
function faultText(body: Record<string, unknown> | null): string {
  const err = linkObj(body, 'error');
  const info = (err?.['@Message.ExtendedInfo'] as Array<Record<string, unknown>> | undefined)?.[0]?.Message;
  const msg = typeof info === 'string' ? info : typeof err?.message === 'string' ? err.message : '';
  return msg ? ` ${msg.slice(0, 200)}` : '';
}
