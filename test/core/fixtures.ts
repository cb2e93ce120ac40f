/** Small builders shared by the core's table tests. */
import type { ClusterEvent } from '../../src/core/events.js';
import type { Effect } from '../../src/core/effects.js';
import { Membership } from '../../src/core/membership.js';
import type { HostDecision, MonitorBeat } from '../../src/core/messages.js';
import { defaultCoreSettings, type CoreSettings } from '../../src/core/settings.js';
import type { VoterView } from '../../src/core/tally.js';

export const MONITORS = ['m1', 'm2', 'm3'] as const;

export function coreSettings(
  edit: (s: CoreSettings) => void = () => {},
  self = 'm1',
  monitors: readonly string[] = MONITORS,
): CoreSettings {
  const s = defaultCoreSettings(self, monitors);
  edit(s);
  return s;
}

export function membershipOf(s: CoreSettings): Membership {
  return new Membership({ self: s.self, monitors: s.monitors, expectedVotes: s.expectedVotes, peerTimeoutMs: s.peerTimeoutMs });
}

export type Seen = 'dead' | 'suspect' | 'up' | 'unknown';

/**
 * A voter's view: `dead`/`suspect` verdicts, `up` (tracks it, no verdict) or `unknown` (never heard
 * of it). Hosts not listed are tracked and up.
 */
export function voter(id: string, seen: Record<string, Seen>, paused = false): VoterView {
  const verdicts = new Map<string, { host: string; level: 'suspect' | 'dead'; bootId: string }>();
  for (const [host, level] of Object.entries(seen)) {
    if (level === 'dead' || level === 'suspect') verdicts.set(host, { host, level, bootId: `${host}-boot-${id}` });
  }
  return { id, paused, verdicts, knows: (h) => seen[h] !== 'unknown' };
}

export function peerBeat(from: string, o: Partial<MonitorBeat> = {}): MonitorBeat {
  return {
    from,
    bootId: `${from}-1`,
    seq: 1,
    sentAtMs: 0,
    hears: [...MONITORS],
    vote: 'm1',
    acting: false,
    epoch: 0,
    paused: false,
    verdicts: [],
    decisions: [],
    maintenance: [],
    ...o,
  };
}

export function decision(host: string, state: HostDecision['state'], o: Partial<HostDecision> = {}): HostDecision {
  return { host, state, bootId: `${host}-b1`, sinceMs: 0, fenceAttempts: 0, ...o };
}

export function events(out: readonly Effect[]): ClusterEvent[] {
  return out.flatMap((e) => (e.type === 'emit' ? [e.event] : []));
}

export function eventTypes(out: readonly Effect[]): string[] {
  return events(out).map((e) => e.type);
}

/** Effects on the world (fence, recover, abandon, unfence), as `type host`: not events, logs, broadcasts or persistence. */
export function actions(out: readonly Effect[]): string[] {
  return out.flatMap((e) =>
    e.type === 'emit' || e.type === 'log' || e.type === 'broadcast' || e.type === 'persist'
      ? []
      : [`${e.type} ${'host' in e ? e.host : ''}`.trim()],
  );
}

/** What the core asked to persist: 'sync' (before acting), 'lazy' (learned hosts only), or nothing. */
export function persistence(out: readonly Effect[]): Array<'sync' | 'lazy'> {
  return out.flatMap((e) => (e.type === 'persist' ? [e.mustSync ? ('sync' as const) : ('lazy' as const)] : []));
}

export function logs(out: readonly Effect[]): string[] {
  return out.flatMap((e) => (e.type === 'log' ? [`${e.level}: ${e.msg}`] : []));
}

/** A peer's heartbeat holding the coordinator's decisions at its epoch: then a quorum (of 3) holds them. */
export function echo(m: Membership, decisions: HostDecision[], epoch: number, now: number, from = 'm2'): void {
  m.receive(peerBeat(from, { seq: now + 1, sentAtMs: now, epoch, decisions }), now);
}
