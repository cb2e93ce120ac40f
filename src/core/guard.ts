/**
 * Mass-failure guard: many hosts going silent together is more likely the network (a top-of-rack
 * switch) than the hosts, and fencing a whole rack for it would be the worst possible response.
 * A single failing host is never "mass": the fraction only counts from two hosts up.
 */
export interface MassGuardSettings {
  maxFailedFraction: number;
  maxFailedHosts: number;
  windowMs: number;
}

export const DEFAULT_MASS_GUARD: MassGuardSettings = { maxFailedFraction: 0.3, maxFailedHosts: 5, windowMs: 60_000 };

export type MassVerdict = { hold: false } | { hold: true; limit: string };

/**
 * @param failing hosts declared failed within the window plus hosts a quorum sees suspect or dead now
 * @param totalHosts hosts under watch (not in maintenance)
 */
export function massVerdict(failing: number, totalHosts: number, s: MassGuardSettings): MassVerdict {
  if (failing > s.maxFailedHosts) return { hold: true, limit: `max_failed_hosts=${s.maxFailedHosts} (${failing} failing)` };
  if (failing > 1 && totalHosts > 0 && failing / totalHosts > s.maxFailedFraction) {
    return { hold: true, limit: `max_failed_fraction=${s.maxFailedFraction} (${failing}/${totalHosts} failing)` };
  }
  return { hold: false };
}
