import type { FenceRecord, HostClusterState, HostId, MonitorId } from './events.js';

/** Health summary a beacon reports about its own host. */
export type ComputeHealth = 'up' | 'down' | 'unknown';

/** A compute host's heartbeat, after authentication and replay checks at the edge. */
export interface BeaconBeat {
  host: HostId;
  /** Changes on every boot (or beacon restart): a new boot id is a host that came back. */
  bootId: string;
  seq: number;
  sentAtMs: number;
  /** The beacon's configured send interval, so monitors need no per-host config. */
  intervalMs: number;
  novaCompute: ComputeHealth;
}

/** How one monitor sees one host that is not plainly up. */
export interface HostVerdict {
  host: HostId;
  /** The monitor's verdict; `level` is its name on the wire (the datagram format is unchanged). */
  level: 'suspect' | 'dead';
  bootId: string;
}

/** A decision the acting coordinator shares so any successor can carry it on. */
export interface HostDecision {
  host: HostId;
  state: Exclude<HostClusterState, 'up' | 'suspect' | 'maintenance' | 'left'>;
  bootId: string;
  sinceMs: number;
  /** Fence attempts made so far (for backoff after a failed fence). */
  fenceAttempts: number;
  /** The successful fence, which recovery needs and a successor coordinator must not lose. */
  fence?: FenceRecord;
}

export interface MaintenanceMark {
  host: HostId;
  on: boolean;
  /** Wall-clock time of the operator's command: last writer wins across monitors. */
  atMs: number;
  by: string;
}

/** A monitor's heartbeat to its peers: liveness, its view of the hosts, and its coordinator vote. */
export interface MonitorBeat {
  from: MonitorId;
  bootId: string;
  seq: number;
  sentAtMs: number;
  /** Monitors this one currently hears (and itself). */
  hears: MonitorId[];
  /** The monitor it names coordinator, or null when it has no quorum. */
  vote: MonitorId | null;
  /** True while it acts as coordinator; `epoch` orders successive coordinators. */
  acting: boolean;
  epoch: number;
  /** True while its own event loop recently stalled: its dead verdicts are not counted. */
  paused: boolean;
  verdicts: HostVerdict[];
  /** The non-up decisions it holds: its own when acting, else those it adopted (with `epoch`). */
  decisions: HostDecision[];
  /**
   * The decisions' version within `epoch` (Coordinator.decisionSeq): protocol 2.1. Absent from the
   * beats of 2.0 monitors, which are then compared by epoch alone, as before.
   */
  decisionSeq?: number;
  maintenance: MaintenanceMark[];
  /**
   * Operator requests to return a host to watch (`instance-ha unfence` on any monitor), carried to
   * whoever acts as coordinator. Absent from older monitors' beats.
   */
  clears?: ClearRequest[];
  /**
   * Operator requests to forget a decommissioned host (`instance-ha forget` on any monitor), carried
   * so that every monitor forgets it. Optional like `clears`; absent from older monitors' beats.
   */
  forgets?: ForgetRequest[];
  /**
   * Hosts whose beacon said it was leaving (a clean stop), as this monitor holds them: a monitor that
   * missed the host's own datagram learns it here, so no coordinator fences that silence. Absent from
   * older monitors' beats.
   */
  left?: LeftMark[];
}

/**
 * A host's beacon stopped cleanly (SIGTERM) and said so, sealed with the host's own key. Bound to the
 * boot it was sent in and its sequence number: any heartbeat of another boot, or of this boot with a
 * higher sequence number, ends it, and a mark of a boot other than the one a monitor hears is ignored.
 */
export interface LeftMark {
  host: HostId;
  bootId: string;
  /** The leaving datagram's sequence number (the last of the repeats this monitor received). */
  seq: number;
  /** The beacon's wall-clock send time (epoch ms): when it left, for status and history. */
  sentAtMs: number;
}

export interface ForgetRequest {
  host: HostId;
  atMs: number;
  by: string;
}

export interface ClearRequest {
  host: HostId;
  atMs: number;
  by: string;
}
