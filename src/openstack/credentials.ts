import { existsSync } from 'node:fs';
import { MAX_PEM_FILE_BYTES, readTextFile } from '../config/safe-file.js';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { KeystoneError } from './errors.js';

/** What Keystone v3 needs, gathered from clouds.yaml or OS_* variables (the operators' usual places). */
export interface CloudCredentials {
  authUrl: string;
  method: 'password' | 'application_credential';
  username?: string;
  userId?: string;
  password?: string;
  userDomainName?: string;
  userDomainId?: string;
  projectName?: string;
  projectId?: string;
  projectDomainName?: string;
  projectDomainId?: string;
  applicationCredentialId?: string;
  applicationCredentialName?: string;
  applicationCredentialSecret?: string;
  regionName?: string;
  /** Catalog interface: public (default), internal or admin. `publicURL` style is accepted too. */
  interface: 'public' | 'internal' | 'admin';
  /** PEM bundle to trust for TLS, in addition to nothing else (replaces the system roots). */
  cacert?: string;
}

/** The clouds.yaml search path of os-client-config / openstacksdk. */
export function cloudsYamlCandidates(env: NodeJS.ProcessEnv, cwd = process.cwd()): string[] {
  const list: string[] = [];
  if (env.OS_CLIENT_CONFIG_FILE) list.push(env.OS_CLIENT_CONFIG_FILE);
  list.push(join(cwd, 'clouds.yaml'), join(env.HOME ?? homedir(), '.config/openstack/clouds.yaml'), '/etc/openstack/clouds.yaml');
  return list;
}

/**
 * Credentials for `cloud` from the first clouds.yaml found (or `file`), else — with no cloud
 * named — from OS_* environment variables. Throws KeystoneError naming what is missing.
 */
export function loadCredentials(opts: {
  cloud?: string;
  file?: string;
  env: NodeJS.ProcessEnv;
  cacert?: string;
  region?: string;
  interface?: string;
}): CloudCredentials {
  const cloud = opts.cloud ?? opts.env.OS_CLOUD;
  let creds: CloudCredentials;
  if (cloud) {
    const files = opts.file ? [opts.file] : cloudsYamlCandidates(opts.env);
    const file = files.find((f) => existsSync(f));
    if (!file) throw new KeystoneError(`cloud '${cloud}' requested but no clouds.yaml found (looked in ${files.join(', ')})`);
    const text = readTextFile(file, MAX_PEM_FILE_BYTES);
    if (!text.ok) throw new KeystoneError(text.reason);
    const doc = parse(text.text) as { clouds?: Record<string, unknown> } | null;
    const entry = doc?.clouds?.[cloud];
    if (!entry || typeof entry !== 'object') throw new KeystoneError(`cloud '${cloud}' not found in ${file}`);
    creds = fromCloudEntry(entry as Record<string, unknown>, file);
  } else {
    creds = fromEnv(opts.env);
  }
  if (opts.cacert) creds.cacert = opts.cacert;
  if (opts.region) creds.regionName = opts.region;
  if (opts.interface) creds.interface = normalizeInterface(opts.interface);
  return creds;
}

function fromCloudEntry(e: Record<string, unknown>, file: string): CloudCredentials {
  const auth = (e.auth ?? {}) as Record<string, unknown>;
  const s = (o: Record<string, unknown>, k: string): string | undefined =>
    typeof o[k] === 'string' && o[k] !== '' ? (o[k] as string) : undefined;
  const authType =
    s(e, 'auth_type') ??
    (s(auth, 'application_credential_id') || s(auth, 'application_credential_name') ? 'v3applicationcredential' : 'password');
  const authUrl = s(auth, 'auth_url');
  if (!authUrl) throw new KeystoneError(`${file}: auth.auth_url is missing`);
  return check(
    {
      authUrl,
      method: authType.includes('applicationcredential') ? 'application_credential' : 'password',
      username: s(auth, 'username'),
      userId: s(auth, 'user_id'),
      password: s(auth, 'password'),
      userDomainName: s(auth, 'user_domain_name') ?? s(auth, 'domain_name'),
      userDomainId: s(auth, 'user_domain_id') ?? s(auth, 'domain_id'),
      projectName: s(auth, 'project_name') ?? s(auth, 'tenant_name'),
      projectId: s(auth, 'project_id') ?? s(auth, 'tenant_id'),
      projectDomainName: s(auth, 'project_domain_name') ?? s(auth, 'domain_name'),
      projectDomainId: s(auth, 'project_domain_id') ?? s(auth, 'domain_id'),
      applicationCredentialId: s(auth, 'application_credential_id'),
      applicationCredentialName: s(auth, 'application_credential_name'),
      applicationCredentialSecret: s(auth, 'application_credential_secret'),
      regionName: s(e, 'region_name'),
      interface: normalizeInterface(s(e, 'interface') ?? s(e, 'endpoint_type') ?? 'public'),
      cacert: s(e, 'cacert'),
    },
    file,
  );
}

function fromEnv(env: NodeJS.ProcessEnv): CloudCredentials {
  const v = (k: string): string | undefined => (env[k] ? env[k] : undefined);
  const authUrl = v('OS_AUTH_URL');
  if (!authUrl)
    throw new KeystoneError('no cloud configured: set compute.cloud (clouds.yaml) or OS_CLOUD, or the OS_AUTH_URL/OS_* variables');
  const authType =
    v('OS_AUTH_TYPE') ??
    (v('OS_APPLICATION_CREDENTIAL_ID') || v('OS_APPLICATION_CREDENTIAL_NAME') ? 'v3applicationcredential' : 'password');
  return check(
    {
      authUrl,
      method: authType.includes('applicationcredential') ? 'application_credential' : 'password',
      username: v('OS_USERNAME'),
      userId: v('OS_USER_ID'),
      password: v('OS_PASSWORD'),
      userDomainName: v('OS_USER_DOMAIN_NAME'),
      userDomainId: v('OS_USER_DOMAIN_ID'),
      projectName: v('OS_PROJECT_NAME') ?? v('OS_TENANT_NAME'),
      projectId: v('OS_PROJECT_ID') ?? v('OS_TENANT_ID'),
      projectDomainName: v('OS_PROJECT_DOMAIN_NAME'),
      projectDomainId: v('OS_PROJECT_DOMAIN_ID'),
      applicationCredentialId: v('OS_APPLICATION_CREDENTIAL_ID'),
      applicationCredentialName: v('OS_APPLICATION_CREDENTIAL_NAME'),
      applicationCredentialSecret: v('OS_APPLICATION_CREDENTIAL_SECRET'),
      regionName: v('OS_REGION_NAME'),
      interface: normalizeInterface(v('OS_INTERFACE') ?? v('OS_ENDPOINT_TYPE') ?? 'public'),
      cacert: v('OS_CACERT'),
    },
    'OS_* environment',
  );
}

function check(c: CloudCredentials, where: string): CloudCredentials {
  if (c.method === 'password') {
    if (!c.password) throw new KeystoneError(`${where}: password auth without a password`);
    if (!c.username && !c.userId) throw new KeystoneError(`${where}: password auth needs username or user_id`);
  } else if (!c.applicationCredentialSecret || (!c.applicationCredentialId && !c.applicationCredentialName)) {
    throw new KeystoneError(`${where}: application credential auth needs an id (or name) and a secret`);
  }
  return c;
}

export function normalizeInterface(s: string): 'public' | 'internal' | 'admin' {
  const i = s.replace(/URL$/, '');
  if (i === 'public' || i === 'internal' || i === 'admin') return i;
  throw new KeystoneError(`unknown endpoint interface '${s}' (public, internal or admin)`);
}
