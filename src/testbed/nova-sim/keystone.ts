import { randomBytes } from 'node:crypto';

/**
 * Keystone v3 token issue (api-ref identity "Password authentication with scoped authorization",
 * "Authenticating with an Application Credential"): 201, token in X-Subject-Token, body with
 * expires_at, roles and the service catalog.
 */
export interface SimUser {
  name: string;
  password: string;
  admin: boolean;
  projectId: string;
}

export interface SimToken {
  user: SimUser;
  expiresAt: number;
}

export interface SimAppCred {
  id: string;
  secret: string;
  user: SimUser;
}

export class SimKeystone {
  readonly tokens = new Map<string, SimToken>();
  issued = 0;

  constructor(
    readonly users: SimUser[],
    readonly appCreds: SimAppCred[],
    readonly tokenTtlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Returns null for bad credentials (Keystone answers 401). */
  authenticate(body: unknown, catalog: unknown[]): { token: string; body: unknown } | null {
    const identity = (body as { auth?: { identity?: Record<string, unknown> } })?.auth?.identity;
    const methods = (identity?.methods ?? []) as string[];
    let user: SimUser | undefined;
    if (methods.includes('password')) {
      const u = (identity?.password as { user?: { name?: string; id?: string; password?: string } })?.user;
      user = this.users.find((x) => (x.name === u?.name || x.name === u?.id) && x.password === u?.password);
    } else if (methods.includes('application_credential')) {
      const ac = identity?.application_credential as { id?: string; secret?: string } | undefined;
      user = this.appCreds.find((a) => a.id === ac?.id && a.secret === ac?.secret)?.user;
    }
    if (!user) return null;
    const token = 'gAAAA' + randomBytes(24).toString('base64url');
    const expiresAt = this.now() + this.tokenTtlMs;
    this.tokens.set(token, { user, expiresAt });
    this.issued++;
    return {
      token,
      body: {
        token: {
          methods,
          expires_at: new Date(expiresAt).toISOString(),
          issued_at: new Date(this.now()).toISOString(),
          user: { name: user.name, id: user.name, domain: { id: 'default', name: 'Default' } },
          project: { id: user.projectId, name: user.projectId, domain: { id: 'default', name: 'Default' } },
          roles: user.admin ? [{ name: 'admin' }, { name: 'member' }, { name: 'reader' }] : [{ name: 'member' }, { name: 'reader' }],
          catalog,
        },
      },
    };
  }

  /** The token's holder, or null when unknown or expired (Nova's keystonemiddleware then answers 401). */
  validate(token: string | undefined): SimToken | null {
    if (!token) return null;
    const t = this.tokens.get(token);
    if (!t || t.expiresAt <= this.now()) return null;
    return t;
  }

  revokeAll(): void {
    this.tokens.clear();
  }
}
