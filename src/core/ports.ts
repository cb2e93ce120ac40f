import type { ClusterEvent, FenceRecord, HostId, RecoverySummary } from './events.js';
import type { GuestRestartOutcome } from './guest-failures.js';

/**
 * The edges the monitor drives on the coordinator's decisions. Each is optional: a monitor with no
 * fencer configured declares failures and stops there (it never recovers an unfenced host).
 */
export interface Fencer {
  /** Power the host off and verify it is off. Never throws for an expected failure: returns ok:false. */
  fence(host: HostId, signal: AbortSignal): Promise<FenceRecord>;
  /**
   * The early power check (core/power-checks.ts): `off` only when every first-level device of the
   * host answered and read OFF, and each is trusted to verify a fence. Bounded in time by the fencer;
   * never throws (a failure is `off: false` with the reason). Optional: without it nothing is checked.
   */
  checkPower?(host: HostId, signal: AbortSignal): Promise<PowerReading>;
}

/** What an early power check read. */
export interface PowerReading {
  off: boolean;
  /**
   * Every first-level device answered with a power state (on or off). False when one failed, timed
   * out, is not trusted to verify, or the host has no topology: its fence may fail the same way.
   */
  read: boolean;
  detail: string;
}

export interface Recoverer {
  /** Bring the instances of a fenced host back (force-down, evacuate, track). Idempotent; resumable. */
  recover(host: HostId, fence: FenceRecord, signal: AbortSignal): Promise<RecoverySummary>;
}

/** Receives every event the core emits (notifications, metrics, the status history). Must not throw. */
export interface EventSink {
  publish(event: ClusterEvent): void;
}

/** Returns a fenced and recovered host to service in the compute API (clear forced-down, enable). */
export interface Unfencer {
  unfence(host: HostId, signal: AbortSignal): Promise<{ ok: true } | { ok: false; reason: string }>;
}

/**
 * Disables and enables a live host's compute service for a dead nova-compute (core/compute-down.ts).
 * Never throws for an expected failure: returns ok:false with the reason.
 */
export interface ComputeServiceControl {
  /** Disable with `reason`; `already` when someone else had disabled it (then it is left as it was). */
  disable(host: HostId, reason: string, signal: AbortSignal): Promise<{ ok: true; already: boolean } | { ok: false; reason: string }>;
  /**
   * Enable, only while the service's disabled_reason still starts with instance-ha's prefix; `enabled`
   * false (with a note) when it was left as it was (an operator's disable, or already enabled).
   */
  enableIfOurs(host: HostId, signal: AbortSignal): Promise<{ ok: true; enabled: boolean; note: string } | { ok: false; reason: string }>;
}

/**
 * Restarts the server of a crashed guest through the compute API (core/guest-failures.ts): only a
 * server tagged `automatic-recovery` that Nova places on `host` (a host speaks only for its own
 * guests). Never throws: `failed` with the reason.
 */
export interface GuestRestarter {
  restart(host: HostId, instance: string, signal: AbortSignal): Promise<{ outcome: GuestRestartOutcome; reason: string }>;
}
