/**
 * The contract between the decision core and its driver: the inputs the driver feeds in, the
 * effects the core returns for the driver to carry out, and the state that must survive a restart.
 * Type-only, so that the core's files and every edge can share it without importing each other.
 */
import type { ClusterEvent, FenceRecord, HostId, RecoverySummary } from './events.js';
import type { GuestEventBeat, GuestRestartOutcome } from './guest-failures.js';
import type { BeaconBeat, HostDecision, LeftMark, MaintenanceMark, MonitorBeat } from './messages.js';

/** What the core tells its driver to do. The driver only carries these out. */
export type Effect =
  | { type: 'emit'; event: ClusterEvent }
  | { type: 'broadcast'; beat: MonitorBeat }
  | { type: 'fence'; host: HostId; bootId: string }
  /** Read the power status of a silent host's first-level fence devices (power-checks.ts); answer: power_checked, always. */
  | { type: 'check_power'; host: HostId }
  | { type: 'recover'; host: HostId; record: FenceRecord }
  /** Stop work in flight for a host (this monitor no longer acts); a successor resumes it. */
  | { type: 'abandon'; host: HostId }
  /** Return a fenced, recovered host to service in Nova (opt-in automatic unfence); answer: unfence_done. */
  | { type: 'unfence'; host: HostId }
  /**
   * The state in `persisted()` changed and must reach the disk. With mustSync (a decision, an epoch or
   * a maintenance mark changed) before anything else is acted on; without (only newly learned hosts,
   * which 10,000 beacons arriving at once would otherwise turn into 10,000 writes) when convenient.
   */
  | { type: 'persist'; mustSync: boolean }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; msg: string; fields: Record<string, unknown> }
  /**
   * Disable a live host's compute service in Nova, nova-compute having been down there since `sinceMs`
   * (core time; the driver writes it as wall-clock ISO into the reason); answer: compute_disabled.
   */
  | { type: 'disable_compute'; host: HostId; sinceMs: number }
  /** Enable the compute service again, only if its disabled_reason is still ours; answer: compute_enable_done. */
  | { type: 'enable_compute'; host: HostId }
  /** Hard-reboot the server of a crashed guest, if tagged and on `host`; answer: guest_restart_done. */
  | { type: 'restart_guest'; host: HostId; instance: string };

export type Input =
  | { type: 'tick'; at: number }
  | { type: 'beacon'; at: number; beat: BeaconBeat }
  /** The host's beacon is stopping cleanly (codec kind 5, sealed with the host's own key): its last words. */
  | { type: 'leaving'; at: number; beat: BeaconBeat }
  | { type: 'peer'; at: number; beat: MonitorBeat }
  /** `force`: the operator means a host no monitor knows yet (pre-registering it); without, an unknown host is refused. */
  | { type: 'maintenance'; at: number; host: HostId; on: boolean; by: string; force?: boolean }
  /** Remove a decommissioned host from every monitor's state; refused while it is being fenced or recovered. */
  | { type: 'forget'; at: number; host: HostId; by: string }
  /** An operator attests that a host whose fence failed is powered off; recovery proceeds as after a verified fence. */
  | { type: 'confirm_fenced'; at: number; host: HostId; by: string }
  /**
   * Release a mass-failure hold: the held hosts the operator saw (`hosts`; all held when absent). With
   * nothing held it is refused and changes nothing.
   */
  | { type: 'ack_mass_failure'; at: number; by: string; hosts?: HostId[] }
  | { type: 'fence_done'; at: number; host: HostId; record: FenceRecord }
  /** `off`: every first-level device read OFF (and is trusted to verify); `detail` says what was read, for the log. */
  | { type: 'power_checked'; at: number; host: HostId; off: boolean; detail: string }
  | { type: 'recovery_done'; at: number; host: HostId; summary: RecoverySummary }
  /** Operator returned a fenced host to service: forget the decision, watch it again. */
  | { type: 'clear'; at: number; host: HostId; by: string }
  /** Operator asked to recover again a host in recovery_failed (`instance-ha recover HOST`). */
  | { type: 'retry_recovery'; at: number; host: HostId; by: string }
  | { type: 'unfence_done'; at: number; host: HostId; ok: boolean; reason?: string }
  /** `already`: the service was found disabled by someone else and left as it was. */
  | { type: 'compute_disabled'; at: number; host: HostId; ok: boolean; already?: boolean; reason?: string }
  /** `enabled` false: left disabled (the reason is no longer ours) or found enabled; `note` says which. */
  | { type: 'compute_enable_done'; at: number; host: HostId; ok: boolean; enabled?: boolean; note?: string; reason?: string }
  /** A guest failure a host reported about one of its guests (wire kind 7). */
  | { type: 'guest_event'; at: number; beat: GuestEventBeat }
  | { type: 'guest_restart_done'; at: number; host: HostId; instance: string; outcome: GuestRestartOutcome; reason: string };

/** State a monitor keeps on disk across restarts. */
export interface PersistedState {
  knownHosts: HostId[];
  maintenance: MaintenanceMark[];
  decisions: HostDecision[];
  epoch: number;
  /**
   * The decisions' version within the epoch (Coordinator.decisionSeq). Absent in older files (read as
   * 0): an optional addition that a build without it ignores safely, so the state format stays 1.
   */
  decisionSeq?: number;
  /** Hosts whose compute service instance-ha disabled (or may have) for a dead nova-compute; absent in older files. */
  computeDown?: ComputeDownMark[];
  /** Hosts that left cleanly (their beacon said so); absent in older files and when none has. */
  left?: LeftMark[];
}

/**
 * What survives a restart (PersistedState.computeDown): a host whose grace ran out, and whether the
 * service is known to be disabled by us (`disabled`), found already disabled by someone else
 * (`already_disabled`, never enabled by us), or not confirmed yet (`pending`: a disable may have
 * reached Nova before a crash; the enable edge checks the reason, so enabling it later is safe).
 */
export interface ComputeDownMark {
  host: HostId;
  sinceMs: number;
  service: 'pending' | 'disabled' | 'already_disabled';
}
