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
 * @param failing hosts failing now: incidents in progress declared within the window plus hosts a
 *   quorum sees suspect or dead (see mass-hold.ts)
 * @param totalHosts hosts under watch (not in maintenance)
 * @param inProgress how many of `failing` are incidents already being handled (named in the limit, so
 *   an operator sees why one new failure was held)
 */
export function massVerdict(failing: number, totalHosts: number, s: MassGuardSettings, inProgress = 0): MassVerdict {
  const handled = inProgress > 0 ? `, ${inProgress} already being handled` : '';
  if (failing > s.maxFailedHosts) return { hold: true, limit: `max_failed_hosts=${s.maxFailedHosts} (${failing} failing${handled})` };
  if (failing > 1 && totalHosts > 0 && failing / totalHosts > s.maxFailedFraction) {
    return { hold: true, limit: `max_failed_fraction=${s.maxFailedFraction} (${failing}/${totalHosts} failing${handled})` };
  }
  return { hold: false };
}
