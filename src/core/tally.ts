import type { MonitorId } from './events.js';
import type { HostVerdict } from './messages.js';

/** How many monitors see a host dead, suspect-or-dead, or up, out of those whose view counts. */
export interface HostTally {
  dead: MonitorId[];
  suspectOrDead: number;
  /** Voters that find it silent (suspect or dead) and are not stalled themselves: what a power check needs. */
  silentAwake: MonitorId[];
  up: number;
  /**
   * Of `up`, the voters that have actually heard the host: a monitor just restarted counts a host it
   * has not heard yet as up (silent only since its start) until it has judged it, which must never
   * count as the host being heard again (returning a decided host to up).
   */
  heardUp: number;
  /** The boot the dead verdicts name (the suspect ones' when none is dead). */
  bootId: string;
}

export interface VoterView {
  id: MonitorId;
  /** A monitor that just stalled does not get to convict anyone. */
  paused: boolean;
  verdicts: ReadonlyMap<string, HostVerdict>;
  /** Whether the voter tracks this host at all (a voter that never heard of it says nothing). */
  knows(host: string): boolean;
  /** Whether it has heard the host since it started; known for this monitor only (peers: as `knows`). */
  heardSinceStart?(host: string): boolean;
}

const indexes = new WeakMap<readonly HostVerdict[], ReadonlyMap<string, HostVerdict>>();

/**
 * A peer's verdicts by host, built once per received list (the same list comes with every beat
 * until the peer's view changes): with 10,000 hosts silent, a tick must not rebuild or scan it per host.
 */
export function verdictsByHost(verdicts: readonly HostVerdict[]): ReadonlyMap<string, HostVerdict> {
  let m = indexes.get(verdicts);
  if (!m) indexes.set(verdicts, (m = new Map(verdicts.map((v) => [v.host, v]))));
  return m;
}

export function tallyHost(host: string, voters: readonly VoterView[]): HostTally {
  const t: HostTally = { dead: [], suspectOrDead: 0, silentAwake: [], up: 0, heardUp: 0, bootId: '' };
  let suspectBootId = '';
  for (const v of voters) {
    const verdict = v.verdicts.get(host);
    if (!verdict) {
      if (v.knows(host)) {
        t.up++;
        if (v.heardSinceStart?.(host) ?? true) t.heardUp++;
      }
      continue;
    }
    t.suspectOrDead++;
    if (v.paused) continue;
    t.silentAwake.push(v.id);
    if (verdict.level === 'dead') {
      t.dead.push(v.id);
      if (!t.bootId && verdict.bootId) t.bootId = verdict.bootId;
    } else if (!suspectBootId && verdict.bootId) suspectBootId = verdict.bootId;
  }
  if (!t.bootId) t.bootId = suspectBootId;
  return t;
}
