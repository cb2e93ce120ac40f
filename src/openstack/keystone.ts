import type { Logger } from '../log.js';
import type { CloudCredentials } from './credentials.js';
import { KeystoneError, OpenStackApiError } from './errors.js';
import { httpJson, type HttpOptions } from './http.js';

interface CatalogEntry {
  type: string;
  endpoints: Array<{ interface: string; region?: string; region_id?: string; url: string }>;
}

interface CachedToken {
  value: string;
  expiresAt: number;
  catalog: CatalogEntry[];
  /** The user the token was issued to (token.user.id), null when Keystone did not say. */
  userId: string | null;
}

export interface KeystoneOptions {
  credentials: CloudCredentials;
  http: HttpOptions;
  log: Logger;
  /** Renew this long before the token's expiry, so no call goes out with a token about to lapse. */
  renewBeforeMs: number;
  now?: () => number;
}

/**
 * A Keystone v3 session: one scoped token, cached and renewed before expiry (or after a 401),
 * and the service catalog that came with it. Concurrent callers share one in-flight issue.
 */
export class KeystoneSession {
  private token: CachedToken | null = null;
  private pending: Promise<CachedToken> | null = null;
  private readonly now: () => number;

  constructor(private readonly opts: KeystoneOptions) {
    this.now = opts.now ?? Date.now;
  }

  async getToken(signal?: AbortSignal): Promise<string> {
    return (await this.current(signal)).value;
  }

  /** The Keystone id of the user this session acts as: Nova records it on every action it takes. */
  async userId(signal?: AbortSignal): Promise<string | null> {
    return (await this.current(signal)).userId;
  }

  /** Drop the cached token (the service answered 401 with it). */
  invalidate(token: string): void {
    if (this.token?.value === token) this.token = null;
  }

  /** Endpoint URL for a service type in the configured region and interface, without a trailing slash. */
  async endpoint(serviceType: string, signal?: AbortSignal): Promise<string> {
    const t = await this.current(signal);
    const c = this.opts.credentials;
    const entry = t.catalog.find((e) => e.type === serviceType);
    if (!entry) throw new KeystoneError(`the service catalog has no '${serviceType}' service`);
    const ep = entry.endpoints.find(
      (e) => e.interface === c.interface && (!c.regionName || e.region_id === c.regionName || e.region === c.regionName),
    );
    if (!ep) throw new KeystoneError(`no ${c.interface} '${serviceType}' endpoint${c.regionName ? ` in region ${c.regionName}` : ''}`);
    return ep.url.replace(/\/+$/, '');
  }

  private async current(signal?: AbortSignal): Promise<CachedToken> {
    if (this.token && this.token.expiresAt - this.opts.renewBeforeMs > this.now()) return this.token;
    if (!this.pending) {
      this.pending = this.issue(signal).finally(() => {
        this.pending = null;
      });
    }
    this.token = await this.pending;
    return this.token;
  }

  private async issue(signal?: AbortSignal): Promise<CachedToken> {
    const c = this.opts.credentials;
    const url = `${identityBase(c.authUrl)}/auth/tokens`;
    let res;
    try {
      res = await httpJson(this.opts.http, { method: 'POST', url, body: authBody(c), signal });
    } catch (err) {
      if (err instanceof OpenStackApiError && err.status === 401) {
        throw new KeystoneError(`Keystone refused the credentials at ${url}: ${err.faultMessage}`, { cause: err });
      }
      throw err;
    }
    const value = res.headers.get('x-subject-token');
    const body = res.body as { token?: { expires_at?: string; catalog?: CatalogEntry[]; user?: { id?: unknown } } } | undefined;
    if (!value || !body?.token) throw new KeystoneError(`Keystone at ${url} answered without a token`);
    const expiresAt = body.token.expires_at ? Date.parse(body.token.expires_at) : this.now() + 3_600_000;
    this.opts.log.info({ expiresAt: new Date(expiresAt).toISOString(), requestId: res.requestId }, 'keystone token issued');
    const userId = typeof body.token.user?.id === 'string' ? body.token.user.id : null;
    return { value, expiresAt, catalog: body.token.catalog ?? [], userId };
  }
}

/** `http://k:5000`, `http://k:5000/v3/` and `http://k:5000/v3` all mean the v3 API. */
export function identityBase(authUrl: string): string {
  const u = authUrl.replace(/\/+$/, '');
  return /\/v3$/.test(u) ? u : `${u}/v3`;
}

function domain(name?: string, id?: string): { name: string } | { id: string } | undefined {
  if (id) return { id };
  if (name) return { name };
  return undefined;
}

function authBody(c: CloudCredentials): unknown {
  if (c.method === 'application_credential') {
    // An application credential is already scoped to its project: no scope block allowed.
    const ac: Record<string, unknown> = { secret: c.applicationCredentialSecret };
    if (c.applicationCredentialId) ac.id = c.applicationCredentialId;
    else {
      ac.name = c.applicationCredentialName;
      ac.user = c.userId ? { id: c.userId } : { name: c.username, domain: domain(c.userDomainName ?? 'Default', c.userDomainId) };
    }
    return { auth: { identity: { methods: ['application_credential'], application_credential: ac } } };
  }
  const user = c.userId
    ? { id: c.userId, password: c.password }
    : { name: c.username, domain: domain(c.userDomainName ?? 'Default', c.userDomainId), password: c.password };
  const project = c.projectId
    ? { id: c.projectId }
    : c.projectName
      ? { name: c.projectName, domain: domain(c.projectDomainName ?? 'Default', c.projectDomainId) }
      : undefined;
  return {
    auth: {
      identity: { methods: ['password'], password: { user } },
      ...(project ? { scope: { project } } : {}),
    },
  };
}
