import type { ClusterEvent, HostClusterState } from './events.js';

/** Why the wire layer refused a datagram; counted per reason in status and metrics. */
/** `incompatible`: an authenticated monitor datagram of another protocol major (a peer of a newer release). */
export type DropReason = 'oversized' | 'malformed' | 'bad_mac' | 'replay' | 'clock_skew' | 'unknown_sender' | 'forged' | 'incompatible';

/** Something status must not show green over: its kind, what to do, and since when (wall-clock ISO) if known. */
export interface Alarm {
  kind: string;
  message: string;
  since?: string;
}

/** What `instance-ha status` shows; no secrets, ever (no keys, no passwords, no tokens). */
export interface StatusSnapshot {
  monitor: { id: string; bootId: string; startedAt: string; version: string };
  cluster: {
    quorate: boolean;
    votes: number;
    needed: number;
    expectedVotes: number;
    coordinator: string | null;
    acting: boolean;
    paused: boolean;
    epoch: number;
    members: Array<{
      id: string;
      address: string;
      self: boolean;
      live: boolean;
      lastSeenAgoMs: number | null;
      acting: boolean;
      vote: string | null;
    }>;
  };
  hosts: Array<{
    host: string;
    state: HostClusterState;
    localLevel: 'up' | 'suspect' | 'dead';
    maintenance: boolean;
    lastHeartbeatAgeMs: number | null;
    bootId: string;
    novaCompute: string;
    lossPct: number;
    deadAfterMs: number;
    decisionSinceMs: number | null;
    fence: unknown;
    /** Which key seals this host's heartbeats (`current`, `next`, `legacy`), null before the first one. */
    sealedWith?: string | null;
    /** nova-compute down on this live host past the grace (wall-clock ISO since; the service as instance-ha left it). */
    computeDown?: { since: string; service: 'pending' | 'disabled' | 'already_disabled' };
    /** Its beacon stopped cleanly and said so (state `left`): when (wall-clock ISO, the beacon's) and the boot it left. */
    left?: { at: string; bootId: string };
  }>;
  alarms: Alarm[];
  counters: {
    received: number;
    accepted: number;
    dropped: Record<DropReason, number>;
    sent: number;
    sendErrors: number;
    /** The largest monitor-to-monitor datagram sent (bounded at 1,400 bytes). */
    largestMonitorDatagramBytes?: number;
    /** Early power checks of silent hosts by outcome: all devices OFF, read but not all OFF, not read. */
    powerChecks?: { off: number; on: number; unread: number };
  };
  recentEvents: ClusterEvent[];
  /** Which keys this monitor accepts and seals with, and which key senders use (docs/operations.md, key rotation). */
  keys?: {
    sealsWith: string;
    accepts: string[];
    hostsSealing: Record<string, number>;
    monitorsSealing: Record<string, string>;
    legacyAccepted: boolean;
  };
  /** Guest OS failures inside live hosts (core/guest-failures.ts): counts and the most recent (bounded). */
  guests?: {
    failures: number;
    restarted: number;
    restartFailed: number;
    budgetExhausted: number;
    /** Left out by the beacons' rate limit, and by this monitor's per-host rate. */
    dropped: number;
    recent: Array<{
      at: string;
      host: string;
      instance: string;
      domain: string;
      event: string;
      detail: string;
      action: string;
      recovery: string;
      outcome?: string;
      reason?: string;
    }>;
  };
}
