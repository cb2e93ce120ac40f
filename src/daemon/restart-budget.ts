/**
 * The beacon's budget for restarting a dead nova-compute (health.restart_command): at most `perHour`
 * attempts in any sliding hour, and never two closer than `minSpacingMs`, so that a service that
 * cannot start is not restarted in a tight loop (systemd's StartLimitBurst, on our side). Pure: the
 * caller passes the time.
 */
import { RESTART_BUDGET_MAX_PER_HOUR } from '../config/beacon-config.js';

export { RESTART_BUDGET_MAX_PER_HOUR };
export const RESTART_MIN_SPACING_MS = 30_000;
const HOUR_MS = 3_600_000;

export class RestartBudget {
  private readonly attempts: number[] = [];

  constructor(
    private readonly perHour: number,
    private readonly minSpacingMs = RESTART_MIN_SPACING_MS,
  ) {}

  /** True (and the attempt counted) when one more restart may run now. */
  take(now: number): boolean {
    while (this.attempts.length > 0 && now - this.attempts[0]! >= HOUR_MS) this.attempts.shift();
    const last = this.attempts[this.attempts.length - 1];
    if (last !== undefined && now - last < this.minSpacingMs) return false;
    if (this.attempts.length >= this.perHour) return false;
    this.attempts.push(now);
    return true;
  }

  /** Attempts in the last hour (as of the last take). */
  used(): number {
    return this.attempts.length;
  }
}
