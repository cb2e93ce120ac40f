import { ConfigError } from '../../src/errors.js';

/**
 * Small config files as YAML text, for tests of one setting each: the smallest valid monitor and
 * beacon file with the setting's lines appended, so a test reads as the line it is about.
 */
const KEY = 'k'.repeat(40);

export const monitor = (extra: string): string =>
  `id: m1\nlisten: ['127.0.0.1:7400']\nmonitors: [{id: m1, address: '127.0.0.1:7400'}]\ncluster_key: ${KEY}\n${extra}`;

/** A compute section: settings that are on by default only with a compute API need it. */
export const compute = `compute:\n  auth: {auth_url: 'http://127.0.0.1:5000/v3', username: a, password: b, project_name: p}\n`;

export const beacon = (extra: string): string => `host: cmp1\nmonitors: ['127.0.0.1:7400']\ncluster_key: ${KEY}\n${extra}`;

/** The message of the ConfigError `fn` throws ('' when it accepts the file); any other error is the test's. */
export function problems(fn: () => unknown): string {
  try {
    fn();
    return '';
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
}
