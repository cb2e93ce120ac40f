import type { ObjectReader } from '../config/reader.js';
import { MAX_PEM_FILE_BYTES } from '../config/safe-file.js';

/** The `compute:` section of the monitor YAML (docs/recovery.md lists every key). */
export interface ComputeConfig {
  /** clouds.yaml cloud name; absent: OS_CLOUD, then the OS_* variables. */
  cloud?: string;
  /** Explicit clouds.yaml path (else the usual search path). */
  cloudsFile?: string;
  region?: string;
  /** public | internal | admin; absent: what the cloud entry / OS_INTERFACE says, else public. */
  interface?: string;
  /** PEM CA bundle for TLS to Keystone and Nova. */
  cacert?: string;
  requestTimeoutMs: number;
  retries: number;
  minBackoffMs: number;
  maxBackoffMs: number;
  tokenRenewBeforeMs: number;
  /** Inline credentials (instead of clouds.yaml / OS_*), the secret preferably from a file. */
  auth?: InlineAuth;
}

export interface InlineAuth {
  authUrl: string;
  username?: string;
  userId?: string;
  password?: string;
  userDomainName?: string;
  projectName?: string;
  projectId?: string;
  projectDomainName?: string;
  applicationCredentialId?: string;
  applicationCredentialSecret?: string;
}

export const COMPUTE_DEFAULTS = {
  requestTimeoutMs: 10_000,
  retries: 4,
  minBackoffMs: 200,
  maxBackoffMs: 5_000,
  tokenRenewBeforeMs: 300_000,
} as const;

export function readComputeConfig(r: ObjectReader): ComputeConfig {
  const cfg: ComputeConfig = {
    cloud: r.string('cloud'),
    cloudsFile: r.filePath('clouds_file', { maxBytes: MAX_PEM_FILE_BYTES }),
    region: r.string('region'),
    interface: r.string('interface', { oneOf: ['public', 'internal', 'admin'] }),
    cacert: r.filePath('cacert', { maxBytes: MAX_PEM_FILE_BYTES }),
    requestTimeoutMs: r.durationMs('request_timeout', { default: COMPUTE_DEFAULTS.requestTimeoutMs, min: 100, max: 600_000 }),
    retries: r.number('retries', { default: COMPUTE_DEFAULTS.retries, min: 0, max: 20, integer: true }),
    minBackoffMs: r.durationMs('min_backoff', { default: COMPUTE_DEFAULTS.minBackoffMs, min: 1, max: 60_000 }),
    maxBackoffMs: r.durationMs('max_backoff', { default: COMPUTE_DEFAULTS.maxBackoffMs, min: 1, max: 600_000 }),
    tokenRenewBeforeMs: r.durationMs('token_renew_before', { default: COMPUTE_DEFAULTS.tokenRenewBeforeMs, min: 0, max: 21_600_000 }),
  };
  if (cfg.minBackoffMs > cfg.maxBackoffMs)
    r.problem('min_backoff', `must not be more than max_backoff (${cfg.maxBackoffMs}ms), got ${cfg.minBackoffMs}ms`);
  if (r.has('auth')) cfg.auth = readInlineAuth(r.object('auth'));
  if (cfg.auth && cfg.cloud) r.problem('auth', "and 'cloud' are mutually exclusive");
  r.finish();
  return cfg;
}

/** `compute.auth`: the usual clouds.yaml auth keys; `password_file` / `application_credential_secret_file` preferred. */
function readInlineAuth(a: ObjectReader): InlineAuth {
  const auth: InlineAuth = {
    authUrl: a.requiredString('auth_url', { pattern: /^https?:\/\//, patternHint: 'an http(s) URL' }),
    username: a.string('username'),
    userId: a.string('user_id'),
    userDomainName: a.string('user_domain_name'),
    projectName: a.string('project_name'),
    projectId: a.string('project_id'),
    projectDomainName: a.string('project_domain_name'),
    applicationCredentialId: a.string('application_credential_id'),
  };
  if (auth.applicationCredentialId) {
    auth.applicationCredentialSecret = a.secret('application_credential_secret', { required: true });
  } else {
    if (!auth.username && !auth.userId) a.problem('username', "is required (or 'user_id', or 'application_credential_id')");
    auth.password = a.secret('password', { required: true });
  }
  a.finish();
  return auth;
}
