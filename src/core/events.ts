/**
 * Typed events the decision core emits. Fencing, recovery and notifications consume them; nothing
 * downstream decides on its own (see ports.ts for the edges that carry them out).
 */
import type { GuestFailure, GuestRestartOutcome } from './guest-failures.js';

export type HostId = string;
export type MonitorId = string;

export type ClusterEvent =
  | { type: 'host.suspect'; at: number; host: HostId; silentMs: number }
  /**
   * `votes`: the monitors that found it dead, or, with `powerReadOffAt`, silent (an early power check
   * read every first-level fence device OFF at that time: declared before the dead threshold).
   */
  | {
      type: 'host.failed';
      at: number;
      host: HostId;
      bootId: string;
      votes: MonitorId[];
      lastHeardAt: number | null;
      powerReadOffAt?: number;
    }
  /** Back in service: `bootId` is the boot it runs now (new after a fence), `failedBootId` the one declared failed. */
  | { type: 'host.rejoined'; at: number; host: HostId; bootId: string; failedBootId?: string; previous: HostClusterState }
  | { type: 'host.fencing'; at: number; host: HostId; attempt: number }
  | { type: 'host.fenced'; at: number; host: HostId; record: FenceRecord }
  | { type: 'host.fence_failed'; at: number; host: HostId; record: FenceRecord; retryInMs: number }
  | { type: 'host.recovery_start'; at: number; host: HostId }
  /** Recovery's first step: Nova told the compute service is down (and disabled, with this reason when it took). */
  | { type: 'host.forced_down'; at: number; host: HostId; disabledReason: string | null }
  | { type: 'host.recovery_end'; at: number; host: HostId; summary: RecoverySummary }
  | { type: 'instance.evacuate_start'; at: number; host: HostId; server: ServerRef; attempt: number }
  | {
      type: 'instance.evacuate_end';
      at: number;
      host: HostId;
      server: ServerRef;
      targetHost: string;
      durationMs: number;
      /** The incident (see recovery's incidentId): a repeat by a successor carries the same message id. */
      incident?: string;
    }
  | { type: 'instance.evacuate_error'; at: number; host: HostId; server: ServerRef; reason: string; attempt: number; final: boolean }
  | {
      type: 'instance.not_selected';
      at: number;
      host: HostId;
      server: ServerRef;
      reason: string;
      fence: FenceRecord | null;
      /** The incident: a repeat by a successor or a retried recovery carries the same message id. */
      incident?: string;
    }
  | { type: 'host.maintenance'; at: number; host: HostId; on: boolean; by: string }
  /**
   * The host's beacon stopped cleanly and said so (SIGTERM: `systemctl stop`, an upgrade, an orderly
   * reboot): its silence is not fenced. `via`: 'beacon' when this monitor received the leaving itself,
   * else the peer monitor it learned it from. `leftAt`: the beacon's wall-clock send time.
   */
  | { type: 'host.left'; at: number; host: HostId; bootId: string; leftAt: number; via: string }
  /** An operator removed a decommissioned host from the monitors' state (`instance-ha forget`). */
  | { type: 'host.forgotten'; at: number; host: HostId; by: string; previous: HostClusterState | null }
  /** A live host's nova-compute has been down past the grace: its compute service is being disabled (never fenced). */
  | { type: 'host.compute_down'; at: number; host: HostId; sinceMs: number; downForMs: number }
  /** nova-compute was back for the quiet period; `serviceEnabled`: instance-ha enabled the service again. */
  | { type: 'host.compute_up'; at: number; host: HostId; downForMs: number; serviceEnabled: boolean; note: string }
  /** A guest OS failure a host reported about one of its own guests (guest-failures.ts); `eventAtMs`: libvirt's time. */
  | ({ type: 'instance.guest_failed'; restartsInWindow: number } & GuestFailure)
  /** How the restart of a crashed guest's server ended (hard reboot through Nova, or why not). */
  | {
      type: 'instance.guest_restarted';
      at: number;
      host: HostId;
      instance: string;
      outcome: GuestRestartOutcome;
      reason: string;
    }
  | { type: 'cluster.quorum_lost'; at: number; votes: number; needed: number; members: MonitorId[] }
  | { type: 'cluster.quorum_regained'; at: number; votes: number; needed: number; members: MonitorId[] }
  | { type: 'cluster.coordinator_changed'; at: number; coordinator: MonitorId | null; previous: MonitorId | null }
  | { type: 'cluster.mass_failure'; at: number; hosts: HostId[]; limit: string }
  /**
   * A mass-failure hold ended, or part of it: `acknowledged` (an operator, `by`, released `hosts`),
   * `hosts_returned` (every held host was heard again; `hosts` those that came back) or `maintenance`
   * (the last held hosts were put in maintenance or forgotten). Never by time alone.
   */
  | {
      type: 'cluster.mass_failure_cleared';
      at: number;
      how: 'acknowledged' | 'hosts_returned' | 'maintenance';
      hosts: HostId[];
      by?: string;
    };

export type ClusterEventType = ClusterEvent['type'];

/**
 * What the cluster (through its coordinator) has decided about a host. `up` and `suspect` are the
 * detector's; the rest are decisions, shared by the coordinator with the other monitors.
 */
export type HostClusterState =
  | 'up'
  | 'suspect'
  | 'failed'
  | 'fencing'
  | 'fenced'
  | 'fence_failed'
  | 'recovering'
  | 'evacuated'
  /** Fenced, but its recovery left servers not running elsewhere (or could not finish): needs an operator. */
  | 'recovery_failed'
  | 'maintenance'
  /** Its beacon stopped cleanly (a leaving message): never fenced for that silence, and NOT protected. */
  | 'left';

/** One try of one fence device, as recorded by the fencer. */
export interface FenceAttempt {
  level: number;
  device: string;
  agent: string;
  action: string;
  exitCode: number | null;
  ok: boolean;
  durationMs: number;
  /** stderr excerpt, secrets redacted. */
  detail?: string;
}

/** The outcome of fencing one host: `ok` only when the power-off was verified. */
export interface FenceRecord {
  ok: boolean;
  /** Level (1-based) that succeeded, when ok. */
  level?: number;
  devices?: string[];
  agent?: string;
  durationMs: number;
  attempts: FenceAttempt[];
  error?: string;
  /** Monitor that ran the fence, so two coordinators racing is visible in the record. */
  by: MonitorId;
  /**
   * When the coordinator took the verified fence (its clock, epoch ms): the incident's start. With the
   * host and `by` it names the incident on every monitor (deterministic notification ids) and bounds
   * the successor's look at Nova's migrations. Absent from records of older monitors.
   */
  at?: number;
  /**
   * Set when no device verified the power-off and an operator attested it instead
   * (`instance-ha confirm-fenced`): who. The record's event carries when.
   */
  confirmedBy?: string;
}

/** A server as the notifications describe it (no secrets, no addresses). */
export interface ServerRef {
  id: string;
  name: string;
  projectId: string;
  userId: string;
  tags: string[];
  /** The compute host it was on when its host failed. */
  host: string;
}

export interface RecoverySummary {
  selected: number;
  evacuated: number;
  failed: number;
  notified: number;
  error?: string;
  /** The servers left not running elsewhere and why (first MAX_FAILED_SERVERS_LISTED; `failed` has the count). */
  failedServers?: Array<{ id: string; name: string; reason: string }>;
}

/** Bound on RecoverySummary.failedServers: the alarm names these, the count says the rest. */
export const MAX_FAILED_SERVERS_LISTED = 20;

/** A recovery that left servers not running elsewhere, or that did not finish: the host needs an operator. */
export function recoveryLeftServers(s: RecoverySummary): boolean {
  return s.failed > 0 || s.error !== undefined;
}
