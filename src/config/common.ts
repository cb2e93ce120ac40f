import type { ObjectReader } from './reader.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** `log_level`, overridden by INSTANCE_HA_LOG_LEVEL when that is set. */
export function readLogLevel(r: ObjectReader): string {
  const fromFile = r.string('log_level', { default: 'info', oneOf: LOG_LEVELS })!;
  const env = process.env.INSTANCE_HA_LOG_LEVEL;
  return env && (LOG_LEVELS as readonly string[]).includes(env) ? env : fromFile;
}

/** The cluster key must be long enough to be a key, not a password someone might guess. */
export function checkClusterKey(r: ObjectReader, key: string | undefined): void {
  if (key !== undefined && Buffer.byteLength(key) < 16)
    r.problem('cluster_key', 'must be at least 16 bytes (use: head -c 32 /dev/urandom | base64)');
}
