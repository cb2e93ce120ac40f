import type { Effect } from './effects.js';
import type { HostId } from './events.js';
import type { HostDecision } from './messages.js';

export interface AutoUnfenceSettings {
  enabled: boolean;
  /** How long a returned host must stay healthy, without a break, before it is returned to service. */
  quietPeriodMs: number;
}

/** What the core knows of a host's beacon now. */
export interface BeaconHealth {
  heard: boolean;
  verdict: 'up' | 'suspect' | 'dead';
  bootId: string;
  novaCompute: 'up' | 'down' | 'unknown';
}

interface Watch {
  healthySince: number | null;
  running: boolean;
}

/**
 * The opt-in automatic unfence, as a rule of the acting coordinator: a host that was fenced and
 * recovered is returned to service once it beats again in a new life (not the boot that failed),
 * with nova-compute up, without interruption for the quiet period. A host that turns unhealthy
 * restarts the period and stops an unfence under way; a failed unfence waits a full period again.
 */
export class AutoUnfence {
  private readonly watches = new Map<HostId, Watch>();

  constructor(private readonly s: AutoUnfenceSettings) {}

  review(now: number, recovered: readonly HostDecision[], health: (host: HostId) => BeaconHealth | undefined, out: Effect[]): void {
    if (!this.s.enabled) return;
    const seen = new Set<HostId>();
    for (const d of recovered) {
      seen.add(d.host);
      let w = this.watches.get(d.host);
      if (!w) this.watches.set(d.host, (w = { healthySince: null, running: false }));
      if (!healthyAgain(health(d.host), d.bootId)) {
        if (w.running) out.push({ type: 'abandon', host: d.host });
        w.running = false;
        w.healthySince = null;
        continue;
      }
      w.healthySince ??= now;
      if (!w.running && now - w.healthySince >= this.s.quietPeriodMs) {
        w.running = true;
        out.push({
          type: 'log',
          level: 'info',
          msg: 'host healthy again for the quiet period: returning it to service',
          fields: { host: d.host, quietPeriodMs: this.s.quietPeriodMs },
        });
        out.push({ type: 'unfence', host: d.host });
      }
    }
    // A decision cleared another way (the operator's unfence) needs no more watching.
    for (const [host, w] of this.watches) {
      if (seen.has(host)) continue;
      if (w.running) out.push({ type: 'abandon', host });
      this.watches.delete(host);
    }
  }

  /** The unfence finished; true when the decision may now be cleared. */
  done(host: HostId, ok: boolean, now: number): boolean {
    const w = this.watches.get(host);
    if (!w?.running) return false;
    w.running = false;
    if (ok) {
      this.watches.delete(host);
      return true;
    }
    w.healthySince = now;
    return false;
  }

  /** This monitor stopped acting: stop what it started; a successor watches afresh. */
  reset(out: Effect[]): void {
    for (const [host, w] of this.watches) if (w.running) out.push({ type: 'abandon', host });
    this.watches.clear();
  }
}

function healthyAgain(h: BeaconHealth | undefined, failedBootId: string): boolean {
  return !!h && h.heard && h.verdict === 'up' && h.novaCompute === 'up' && h.bootId !== failedBootId;
}
