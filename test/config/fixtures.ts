import { parse, stringify } from 'yaml';
import { readBeaconConfig } from '../../src/config/beacon-config.js';
import { parseConfig } from '../../src/config/load.js';
import { readMonitorConfig } from '../../src/daemon/monitor-config.js';
import { ConfigError, type ConfigProblem } from '../../src/errors.js';

/** An inline key long enough to pass (config tests never need the key to be secret). */
export const KEY = '0123456789abcdef0123456789abcdef';

/** The smallest valid monitor document: three monitors, this one m1. */
export function monitorDoc(): Record<string, unknown> {
  return {
    id: 'm1',
    monitors: [
      { id: 'm1', address: '127.0.0.1:7400' },
      { id: 'm2', address: '127.0.0.1:7401' },
      { id: 'm3', address: '127.0.0.1:7402' },
    ],
    cluster_key: KEY,
  };
}

export function beaconDoc(): Record<string, unknown> {
  return { host: 'cmp1', monitors: ['127.0.0.1:7400'], cluster_key: KEY };
}

/** A fencing section with one native-ipmi device and one host (no agent lookups needed). */
export function fencingSection(): Record<string, unknown> {
  return {
    devices: { d1: { agent: 'native-ipmi', options: { ip: '127.0.0.1', username: 'admin' }, password: 'secret' } },
    hosts: { cmp1: { levels: [['d1']] } },
  };
}

/** `base` with `patch` merged in, mapping by mapping (lists and scalars replace). */
export function merge(base: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    const b = Object.hasOwn(out, k) ? out[k] : undefined;
    const value =
      v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b)
        ? merge(b as Record<string, unknown>, v as Record<string, unknown>)
        : v;
    // defineProperty: a key such as __proto__ stays a key, as the YAML parser keeps it.
    Object.defineProperty(out, k, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Every problem the reader reports for this document ([] when it is valid). */
export function problemsOf(kind: 'monitor' | 'beacon', doc: unknown): ConfigProblem[] {
  const text = typeof doc === 'string' ? doc : stringify(doc);
  try {
    parseConfig(text, `${kind}.yaml`, kind === 'monitor' ? readMonitorConfig : readBeaconConfig);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
}

export function roundTrip(doc: unknown): unknown {
  return parse(stringify(doc));
}

/** A mapping with one own key `__proto__` (an object literal would set the prototype instead). */
export function protoKey(value: unknown): Record<string, unknown> {
  return JSON.parse(`{"__proto__": ${JSON.stringify(value)}}`) as Record<string, unknown>;
}
