import type { Effect } from '../core/effects.js';
import type { HostId } from '../core/events.js';
import type { HostDecision } from '../core/messages.js';

/** The effects that act on a host (power, Nova): each belongs to a decision that must be on disk first. */
export type ActingEffect = Extract<Effect, { type: 'fence' | 'recover' | 'unfence' }>;

export function isActing(e: Effect): e is ActingEffect {
  return e.type === 'fence' || e.type === 'recover' || e.type === 'unfence';
}

/** The decision state an acting effect belongs to: it is still due only while the decision is in that state. */
const DUE_IN: Record<ActingEffect['type'], HostDecision['state']> = { fence: 'fencing', recover: 'recovering', unfence: 'evacuated' };

const VERB: Record<ActingEffect['type'], string> = { fence: 'fencing', recover: 'recovering', unfence: 'unfencing' };

/**
 * Acting effects held while the monitor state cannot be written (raft's rule: nothing is acted on
 * before the entry it belongs to is durable). Without it, a monitor with a full disk fences a host,
 * restarts without the decision, and fences it again under a new one. At most one per host and
 * kind (a later one replaces an earlier), so the bound is 3 × the hosts watched.
 *
 * On release each is checked against the decision as it stands then: a fence held while the decision
 * moved on (the host came back, another coordinator took over, this monitor stepped down) is dropped.
 */
export class HeldActions {
  private readonly held = new Map<string, { effect: ActingEffect; since: number }>();

  hold(e: ActingEffect, now: number): boolean {
    const key = `${e.type}:${e.host}`;
    const fresh = !this.held.has(key);
    this.held.set(key, { effect: e, since: this.held.get(key)?.since ?? now });
    return fresh;
  }

  /** Work for a host stopped (the core's `abandon`): nothing held for it is due any more. */
  drop(host: HostId): void {
    for (const [key, h] of this.held) if (h.effect.host === host) this.held.delete(key);
  }

  get size(): number {
    return this.held.size;
  }

  /** Empties the list; returns what is still due (its decision unchanged) and what was dropped. */
  release(acting: boolean, decision: (host: HostId) => HostDecision | undefined): { due: ActingEffect[]; dropped: ActingEffect[] } {
    const due: ActingEffect[] = [];
    const dropped: ActingEffect[] = [];
    for (const { effect } of this.held.values()) {
      const d = decision(effect.host);
      const still = acting && d?.state === DUE_IN[effect.type];
      if (!still) dropped.push(effect);
      // A recovery needs the fence record as the decision holds it now.
      else if (effect.type === 'recover' && d.fence) due.push({ ...effect, record: d.fence });
      else due.push(effect);
    }
    this.held.clear();
    return { due, dropped };
  }

  /** "fencing compute-3, recovering compute-5 (and 2 more)": for the status line, bounded. */
  describe(limit = 5): string {
    const all = [...this.held.values()].map((h) => `${VERB[h.effect.type]} ${h.effect.host}`);
    const shown = all.slice(0, limit).join(', ');
    return all.length > limit ? `${shown} (and ${all.length - limit} more)` : shown;
  }

  oldestSince(): number | null {
    let min: number | null = null;
    for (const h of this.held.values()) if (min === null || h.since < min) min = h.since;
    return min;
  }
}
