import { MicroversionError } from './errors.js';

/** A compute microversion `2.N`, compared by N. */
export type Microversion = `2.${number}`;

export function mvMinor(v: string): number {
  const m = /^2\.(\d+)$/.exec(v);
  if (!m) throw new MicroversionError(`not a compute microversion: '${v}'`);
  return Number(m[1]);
}

const mv = (n: number): Microversion => `2.${n}`;

/** The microversion each kind of call uses on this cloud, chosen once from the version document. */
export interface ComputeVersions {
  min: Microversion;
  max: Microversion;
  /** os-services: ≥2.53 update by service uuid; 2.11–2.52 the host/binary `force-down` form. */
  services: Microversion;
  servicesById: boolean;
  /** Server listing/show: tags (≥2.26), embedded flavor extra specs (≥2.47) when offered. */
  servers: Microversion;
  /** Evacuate pinned to 2.68–2.94 (running servers come back running; ≥2.95 they come back stopped). */
  evacuate: Microversion;
  /** os-migrations with `migration_type` (≥2.23), sorted newest first and with uuid from 2.59. */
  migrations: Microversion;
}

/**
 * Picks the versions from the range the compute root advertises. Fails with a message naming the
 * missing feature when the cloud is too old to run a safe recovery (no force-down, no tags).
 */
export function negotiate(minVersion: string, maxVersion: string): ComputeVersions {
  const lo = mvMinor(minVersion);
  const hi = mvMinor(maxVersion);
  const within = (want: number): number => Math.max(lo, Math.min(hi, want));
  if (hi < 11)
    throw new MicroversionError(
      `compute API maximum microversion ${maxVersion} is older than 2.11: no service force-down, refusing to evacuate`,
    );
  if (hi < 26)
    throw new MicroversionError(`compute API maximum microversion ${maxVersion} is older than 2.26: no server tags to select instances by`);
  if (lo > 94)
    throw new MicroversionError(`compute API minimum microversion ${minVersion} is above 2.94: evacuated servers would come back stopped`);
  const servicesById = hi >= 53;
  // Below 2.68 the 2.29 body (force defaults to false) is still safe; below 2.14 onSharedStorage would be required.
  const evacuate = hi >= 68 ? within(94) : hi;
  return {
    min: mv(lo),
    max: mv(hi),
    services: servicesById ? mv(within(53)) : mv(within(11)),
    servicesById,
    servers: mv(within(evacuate)),
    evacuate: mv(evacuate),
    migrations: mv(within(80)),
  };
}

/** Headers for a microversion: the 2.27+ form and the legacy one (nova/api/openstack/wsgi.py). */
export function mvHeaders(v: Microversion): Record<string, string> {
  return { 'OpenStack-API-Version': `compute ${v}`, 'X-OpenStack-Nova-API-Version': v };
}
