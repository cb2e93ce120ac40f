import type { HostId } from './events.js';

/**
 * The per-zone cap on concurrent host recoveries (docs/recovery.md "Zones"): alongside the
 * cluster-wide mass-failure guard, so that one failing rack (an availability zone, an aggregate)
 * does not take every evacuation slot and the scheduler's capacity while another rack's host waits.
 */
export interface ZoneCapSettings {
  /** Host → its zone, as the operator declared it (recovery.zones). A host in no zone is never capped. */
  zoneOf: Readonly<Record<HostId, string>>;
  /** Host recoveries running at once per zone. */
  maxPerZone: number;
}

export interface ZoneView {
  host: HostId;
  state: string;
  /** When the host entered its state: the oldest waiting host starts first. */
  sinceMs: number;
}

/**
 * Pure: which of the hosts waiting to be recovered (state `fenced`) may start now. Hosts outside
 * any zone start at once; in a zone, only as many as leave its `recovering` count within the cap,
 * oldest first (then by name, so every coordinator picks the same ones).
 */
export function recoveriesToStart(decisions: readonly ZoneView[], cap: ZoneCapSettings | undefined): HostId[] {
  const waiting = decisions.filter((d) => d.state === 'fenced').sort((a, b) => a.sinceMs - b.sinceMs || a.host.localeCompare(b.host));
  if (!cap) return waiting.map((d) => d.host);
  const running = new Map<string, number>();
  for (const d of decisions) {
    const z = cap.zoneOf[d.host];
    if (z !== undefined && d.state === 'recovering') running.set(z, (running.get(z) ?? 0) + 1);
  }
  const out: HostId[] = [];
  for (const d of waiting) {
    const z = cap.zoneOf[d.host];
    if (z === undefined) {
      out.push(d.host);
      continue;
    }
    const n = running.get(z) ?? 0;
    if (n >= cap.maxPerZone) continue;
    running.set(z, n + 1);
    out.push(d.host);
  }
  return out;
}
