/**
 * Whether a heartbeat tells the core something newer than what it holds for its sender: the one
 * rule for both kinds of sender (compute hosts and peer monitors). The wire layer has already
 * dropped exact copies and replays; a reordered, older datagram of the same boot gets here, and is
 * stale: it proves nothing about now.
 */
export type Freshness = 'first' | 'new_boot' | 'newer' | 'stale';

export function freshness(held: { bootId: string; seq: number } | undefined, bootId: string, seq: number): Freshness {
  if (!held) return 'first';
  if (held.bootId !== bootId) return 'new_boot';
  return seq > held.seq ? 'newer' : 'stale';
}
