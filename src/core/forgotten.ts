import type { HostId } from './events.js';
import type { ForgetRequest } from './messages.js';

/** How long a forget travels in this monitor's heartbeats (renewed while a peer still mentions the host). */
export const FORGET_CARRY_MS = 60_000;
/** How long a monitor ignores what peers still say about a host it forgot (a peer that has not heard yet). */
export const FORGET_KEEP_MS = 10 * 60_000;
/** At most this many forgotten hosts are remembered, and at most FORGETS_PER_BEAT travel in one heartbeat. */
export const MAX_FORGOTTEN = 256;
export const FORGETS_PER_BEAT = 8;

interface Tombstone {
  req: ForgetRequest;
  carryUntil: number;
  keepUntil: number;
  /** The host beat again (or was registered again): watched anew, but this forget is not applied twice. */
  back: boolean;
}

/**
 * Hosts an operator told the monitors to forget (`instance-ha forget`). Like a deleted key in a
 * gossiped store, the forget is kept for a while as a tombstone: it travels in the heartbeats so every
 * monitor forgets, and meanwhile what a peer that has not heard yet still says about the host (its
 * verdicts, an older maintenance mark) is ignored instead of bringing the host back. The host's own
 * heartbeat does bring it back, as a new host: it was not decommissioned after all.
 */
export class Forgotten {
  private readonly byHost = new Map<HostId, Tombstone>();

  add(req: ForgetRequest, now: number): void {
    this.byHost.delete(req.host);
    this.byHost.set(req.host, { req, carryUntil: now + FORGET_CARRY_MS, keepUntil: now + FORGET_KEEP_MS, back: false });
    // Oldest first in a Map: drop the oldest beyond the bound.
    while (this.byHost.size > MAX_FORGOTTEN) this.byHost.delete(this.byHost.keys().next().value!);
  }

  /** No host is forgotten: the per-tick checks over every peer's verdicts are skipped. */
  get empty(): boolean {
    return this.byHost.size === 0;
  }

  /** The host is forgotten here (and has not come back since). */
  has(host: HostId): boolean {
    const t = this.byHost.get(host);
    return t !== undefined && !t.back;
  }

  /** A forget at least as new as `atMs` is already known here. */
  knows(req: ForgetRequest): boolean {
    const t = this.byHost.get(req.host);
    return t !== undefined && t.req.atMs >= req.atMs;
  }

  /** Something dated `atMs` about `host` predates its forget, so it is ignored. */
  supersedes(host: HostId, atMs: number): boolean {
    const t = this.byHost.get(host);
    return t !== undefined && !t.back && atMs <= t.req.atMs;
  }

  /** The host beat again: it is watched as a new host from now on. */
  returned(host: HostId): void {
    const t = this.byHost.get(host);
    if (t) t.back = true;
  }

  /** A peer still mentions the host: it has not forgotten it, so the forget travels again. */
  stillMentioned(host: HostId, now: number): void {
    const t = this.byHost.get(host);
    if (t && !t.back && t.carryUntil < now) t.carryUntil = now + FORGET_CARRY_MS;
  }

  /** The forgets to carry in the next heartbeat (newest first, bounded); drops expired tombstones. */
  toCarry(now: number): ForgetRequest[] {
    const out: ForgetRequest[] = [];
    for (const [host, t] of this.byHost) if (now > t.keepUntil) this.byHost.delete(host);
    for (const t of [...this.byHost.values()].reverse()) {
      if (out.length >= FORGETS_PER_BEAT) break;
      if (!t.back && now <= t.carryUntil) out.push(t.req);
    }
    return out;
  }
}
