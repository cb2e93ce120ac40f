import type { HostId } from './events.js';

/**
 * Early power checks (docs/fencing.md "Early power checks"): the coordinator asks a
 * cluster-suspect host's fence devices for their power status once per silence. A host a quorum of
 * awake monitors finds silent, that no monitor hears, and whose every first-level device reads OFF
 * is as dead as silence could ever prove — it is the very reading a fence is verified by — so it may
 * be declared without waiting for the dead threshold. Anything else (on, no answer, a device that is
 * not trusted to verify) leaves the host to the silence rule alone: a check can only speed a
 * conviction, never cause one the silence rule would not.
 *
 * Bounded: at most `maxInFlight` checks outstanding (a mass silence does not flood the BMCs; the
 * rest wait for the silence rule), one per host per silence.
 */
export class PowerChecks {
  /** Checks asked of the driver and not answered yet: the in-flight bound counts these. */
  private readonly inFlight = new Set<HostId>();
  /** This silence's state per host: asked, read off (since when), or read something else. */
  private readonly state = new Map<HostId, { phase: 'asked' } | { phase: 'off'; at: number } | { phase: 'not_off' }>();

  constructor(private readonly maxInFlight: number) {}

  /** Whether to ask about `host` now (and, if so, it is counted as asked). */
  shouldAsk(host: HostId): boolean {
    if (this.state.has(host) || this.inFlight.has(host) || this.inFlight.size >= this.maxInFlight) return false;
    this.state.set(host, { phase: 'asked' });
    this.inFlight.add(host);
    return true;
  }

  /** The driver's answer. Returns whether it is news to act on: an OFF for a silence still under way. */
  answered(host: HostId, off: boolean, now: number): boolean {
    this.inFlight.delete(host);
    if (this.state.get(host)?.phase !== 'asked') return false;
    this.state.set(host, off ? { phase: 'off', at: now } : { phase: 'not_off' });
    return off;
  }

  /** When this silence's check read OFF, or null. */
  offSince(host: HostId): number | null {
    const s = this.state.get(host);
    return s?.phase === 'off' ? s.at : null;
  }

  /** The silence ended (heard again, declared, maintenance): a later one asks afresh. */
  forget(host: HostId): void {
    this.state.delete(host);
  }

  /** Stepping down: the evidence is this coordinator's; answers still due are only counted out. */
  reset(): void {
    this.state.clear();
  }
}
