import { MAX_PEM_FILE_BYTES, readTextFileOrThrow } from '../config/safe-file.js';
import { componentLogger, type Logger } from '../log.js';
import type { ComputeConfig } from './config.js';
import { ComputeClient } from './compute.js';
import { loadCredentials, normalizeInterface, type CloudCredentials } from './credentials.js';
import type { FetchFn, HttpOptions } from './http.js';
import { KeystoneSession } from './keystone.js';
import { undici } from '../lazy-undici.js';

export interface ComputeDeps {
  log: Logger;
  env?: NodeJS.ProcessEnv;
  /** Injected in tests; default: global fetch, or undici's with the configured CA bundle. */
  fetch?: FetchFn;
  now?: () => number;
}

/** Builds the Keystone session and compute client from the `compute:` section and the environment. */
export function createComputeClient(cfg: ComputeConfig, deps: ComputeDeps): ComputeClient {
  const log = componentLogger(deps.log, 'openstack');
  const creds = cfg.auth
    ? inlineCredentials(cfg)
    : loadCredentials({
        cloud: cfg.cloud,
        file: cfg.cloudsFile,
        env: deps.env ?? process.env,
        cacert: cfg.cacert,
        region: cfg.region,
        interface: cfg.interface,
      });
  const http: HttpOptions = {
    fetch: deps.fetch ?? fetchWithCa(creds.cacert),
    log,
    requestTimeoutMs: cfg.requestTimeoutMs,
    retries: cfg.retries,
    minBackoffMs: cfg.minBackoffMs,
    maxBackoffMs: cfg.maxBackoffMs,
  };
  const session = new KeystoneSession({ credentials: creds, http, log, renewBeforeMs: cfg.tokenRenewBeforeMs, now: deps.now });
  return new ComputeClient({ session, http, log });
}

/** Node's global fetch cannot take a CA bundle; undici's Agent can (hence the undici dependency). */
function fetchWithCa(cacert: string | undefined): FetchFn {
  if (!cacert) return fetch;
  const { Agent, fetch: undiciFetch } = undici();
  const agent = new Agent({ connect: { ca: readTextFileOrThrow(cacert, MAX_PEM_FILE_BYTES) } });
  return ((url: string | URL, init?: RequestInit) =>
    undiciFetch(url as string, { ...(init as object), dispatcher: agent } as never)) as unknown as FetchFn;
}

function inlineCredentials(cfg: ComputeConfig): CloudCredentials {
  const a = cfg.auth!;
  return {
    authUrl: a.authUrl,
    method: a.applicationCredentialId ? 'application_credential' : 'password',
    username: a.username,
    userId: a.userId,
    password: a.password,
    userDomainName: a.userDomainName,
    projectName: a.projectName,
    projectId: a.projectId,
    projectDomainName: a.projectDomainName,
    applicationCredentialId: a.applicationCredentialId,
    applicationCredentialSecret: a.applicationCredentialSecret,
    regionName: cfg.region,
    interface: normalizeInterface(cfg.interface ?? 'public'),
    cacert: cfg.cacert,
  };
}
