import { DEFAULT_DETECTOR, maxDeadAfterMs, type DetectorSettings } from './detector.js';
import { DEFAULT_MASS_GUARD, type MassGuardSettings } from './guard.js';
import type { MonitorId } from './events.js';
import type { AutoUnfenceSettings } from './auto-unfence.js';
import { DEFAULT_COMPUTE_DOWN, type ComputeDownSettings } from './compute-down.js';
import { DEFAULT_GUEST_RESTART, type GuestRestartSettings } from './guest-failures.js';
import type { ZoneCapSettings } from './zone-cap.js';

export interface CoreSettings {
  self: MonitorId;
  monitors: readonly MonitorId[];
  expectedVotes: number;
  /** How often a monitor heartbeats its peers (and sooner when its view changes). */
  peerIntervalMs: number;
  peerTimeoutMs: number;
  /** The driver's tick; used to notice the monitor's own stalls. */
  tickMs: number;
  /** Per-monitor settings; its falseSuspicionProbability is derived from falseFailureProbability. */
  detector: DetectorSettings;
  /**
   * Target probability that a live host is declared failed in one heartbeat window. Each of the
   * `quorum` monitors that must agree gets ε^(1/quorum), so a single monitor is as careful alone as
   * three are together.
   */
  falseFailureProbability: number;
  /** A host must stay quorum-dead this long before it is declared (lets a mass change show itself). */
  stabilityWindowMs: number;
  massGuard: MassGuardSettings;
  /** A tick later than tickMs + this means this monitor itself stalled. */
  pauseThresholdMs: number;
  /** After a stall, no conviction for this long (queued heartbeats get processed first). */
  pauseGraceMs: number;
  fencing: {
    enabled: boolean;
    retryBaseMs: number;
    retryMaxMs: number;
    /** Early power checks of silent hosts (power-checks.ts); maxInFlight 0 or absent: none. */
    powerCheck?: { maxInFlight: number };
  };
  recovery: {
    enabled: boolean;
    /** Opt-in: return a recovered host to service once it has been healthy again for quietPeriodMs. */
    autoUnfence: AutoUnfenceSettings;
    /** Per-zone cap on concurrent host recoveries (zone-cap.ts); absent: no zones declared. */
    zoneCap?: ZoneCapSettings;
  };
  /** A dead nova-compute on a live host: disable its service, never fence (compute-down.ts). */
  computeDown: ComputeDownSettings;
  /** A crashed guest on a live host: notify, restart tagged servers within a budget (guest-failures.ts). */
  guestRestart: GuestRestartSettings;
}

export function defaultCoreSettings(self: MonitorId, monitors: readonly MonitorId[]): CoreSettings {
  return {
    self,
    monitors,
    expectedVotes: monitors.length,
    peerIntervalMs: 200,
    peerTimeoutMs: 1000,
    tickMs: 50,
    detector: { ...DEFAULT_DETECTOR },
    falseFailureProbability: 1e-9,
    stabilityWindowMs: 100,
    massGuard: { ...DEFAULT_MASS_GUARD },
    pauseThresholdMs: 400,
    pauseGraceMs: 1500,
    fencing: { enabled: false, retryBaseMs: 5000, retryMaxMs: 60_000 },
    recovery: { enabled: false, autoUnfence: { enabled: false, quietPeriodMs: 300_000 } },
    computeDown: { ...DEFAULT_COMPUTE_DOWN },
    guestRestart: { ...DEFAULT_GUEST_RESTART },
  };
}

/**
 * The documented detection bound: from a host's last heartbeat to `host.failed`, once a quorum of
 * monitors is connected and has a coordinator, and no mass-failure hold or local stall intervenes.
 * Worst-case local conviction + a peer's verdict reaching the coordinator + the stability window.
 * (With more than DECIDE_HOSTS_PER_TICK hosts not up at once, the decision pass runs one tick in k,
 * k ≤ DECIDE_MAX_TICKS: add (k − 1) ticks; monitor-core.ts decideEveryTicks.)
 */
export function detectionBoundMs(s: CoreSettings, beaconIntervalMs: number): number {
  return maxDeadAfterMs(beaconIntervalMs, s.detector) + s.peerIntervalMs + s.stabilityWindowMs + 2 * s.tickMs;
}

/** The detector settings one monitor uses, with its share of the cluster's false-failure budget. */
export function monitorDetector(s: CoreSettings): DetectorSettings {
  const quorum = Math.floor(s.expectedVotes / 2) + 1;
  return { ...s.detector, falseSuspicionProbability: Math.pow(s.falseFailureProbability, 1 / quorum) };
}

/** Re-exported so callers need one import for the knobs. */
export type { DetectorSettings, MassGuardSettings };
