import type { ObjectReader } from '../config/reader.js';

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
    cloudsFile: r.string('clouds_file'),
    region: r.string('region'),
    interface: r.string('interface', { oneOf: ['public', 'internal', 'admin'] }),
    cacert: r.string('cacert'),
    requestTimeoutMs: r.durationMs('request_timeout', { default: COMPUTE_DEFAULTS.requestTimeoutMs, min: 100 }),
    retries: r.number('retries', { default: COMPUTE_DEFAULTS.retries, min: 0, max: 20, integer: true }),
    minBackoffMs: r.durationMs('min_backoff', { default: COMPUTE_DEFAULTS.minBackoffMs, min: 1 }),
    maxBackoffMs: r.durationMs('max_backoff', { default: COMPUTE_DEFAULTS.maxBackoffMs, min: 1 }),
    tokenRenewBeforeMs: r.durationMs('token_renew_before', { default: COMPUTE_DEFAULTS.tokenRenewBeforeMs, min: 0 }),
  };
  r.finish();
  return cfg;
}
