/**
 * The contract between the decision core and its driver: the inputs the driver feeds in, the
 * effects the core returns for the driver to carry out, and the state that must survive a restart.
 * Type-only, so that the core's files and every edge can share it without importing each other.
 */
import type { ClusterEvent, FenceRecord, HostId, RecoverySummary } from './events.js';
import type { BeaconBeat, HostDecision, MaintenanceMark, MonitorBeat } from './messages.js';

/** What the core tells its driver to do. The driver only carries these out. */
export type Effect =
  | { type: 'emit'; event: ClusterEvent }
  | { type: 'broadcast'; beat: MonitorBeat }
  | { type: 'fence'; host: HostId; bootId: string }
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
  | { type: 'log'; level: 'info' | 'warn' | 'error'; msg: string; fields: Record<string, unknown> };

export type Input =
  | { type: 'tick'; at: number }
  | { type: 'beacon'; at: number; beat: BeaconBeat }
  | { type: 'peer'; at: number; beat: MonitorBeat }
  | { type: 'maintenance'; at: number; host: HostId; on: boolean; by: string }
  | { type: 'ack_mass_failure'; at: number; by: string }
  | { type: 'fence_done'; at: number; host: HostId; record: FenceRecord }
  | { type: 'recovery_done'; at: number; host: HostId; summary: RecoverySummary }
  /** Operator returned a fenced host to service: forget the decision, watch it again. */
  | { type: 'clear'; at: number; host: HostId; by: string }
  /** Operator asked to recover again a host in recovery_failed (`instance-ha recover HOST`). */
  | { type: 'retry_recovery'; at: number; host: HostId; by: string }
  | { type: 'unfence_done'; at: number; host: HostId; ok: boolean; reason?: string };

/** State a monitor keeps on disk across restarts. */
export interface PersistedState {
  knownHosts: HostId[];
  maintenance: MaintenanceMark[];
  decisions: HostDecision[];
  epoch: number;
}
