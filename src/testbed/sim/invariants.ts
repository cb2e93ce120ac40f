import { massVerdict } from '../../core/guard.js';
import { detectionBoundMs } from '../../core/settings.js';
import { LEAVING_GAP_MS, LEAVING_REPEATS } from '../../daemon/beacon.js';
import { DATAGRAM_BUDGET_BYTES } from '../net/memory-network.js';
import type { World } from './world.js';

/**
 * The safety and liveness properties every seeded run must keep (the World itself records
 * "declared without quorum", "recovered without fence" and "no decision repeated" — a host a fence
 * powered off declared failed again, across monitor crashes and restarts — as they happen).
 */
export function checkInvariants(w: World): string[] {
  return [
    ...w.violations,
    // The strict, cluster-wide form: no monitor at all declares again a host a fence powered off.
    ...w.repeatedDecisions,
    ...noFalseFailure(w),
    ...detectedInBound(w),
    ...singleCoordinator(w),
    ...nothingContained(w),
    ...datagramsWithinBudget(w),
    ...massGuardHeld(w),
    ...leftNotDeclared(w),
    ...powerReadingsTrue(w),
  ];
}

/**
 * 9. A host declared on an early power check (host.failed with powerReadOffAt) had its power off by
 * then: a reading that stood in for the dead verdicts was never one of a live host's BMC.
 */
function powerReadingsTrue(w: World): string[] {
  const out: string[] = [];
  for (const { by, event: e } of w.events) {
    if (e.type !== 'host.failed' || e.powerReadOffAt === undefined) continue;
    const cut = w.powerCutAt(e.host);
    if (cut === null || cut > e.powerReadOffAt)
      out.push(
        `t=${e.at} ${by} declared ${e.host} on a power reading at t=${e.powerReadOffAt}, its power ${cut === null ? 'never cut' : `cut only at t=${cut}`}`,
      );
  }
  return out;
}

/**
 * 8. A host whose beacon stopped cleanly (its leaving sent) is not declared failed until it runs again,
 * when the leaving could reach every monitor: none crashed or stalled and no host link cut while it was
 * sent (3 copies each; losing all of them to every monitor is what a clean stop cannot survive).
 */
function leftNotDeclared(w: World): string[] {
  const out: string[] = [];
  for (const [host, at, again] of w.sc.hostStops ?? []) {
    const to = at + LEAVING_REPEATS * LEAVING_GAP_MS + w.sc.net.maxDelayMs + 1;
    const reachable = w.monitorIds.every(
      (m) =>
        !crashedDuring(w, m, at, to) &&
        !w.sc.monitorStalls.some(([id, s, e]) => id === m && s < to && e > at) &&
        !linkCutDuring(w, host, m, at, to),
    );
    if (!reachable) continue;
    for (const d of w.declarations)
      if (d.host === host && d.at > at && d.at < (again ?? Infinity))
        out.push(`t=${d.at} ${d.by} declared ${host} failed after its beacon stopped cleanly at t=${at}`);
  }
  return out;
}

/** 6. Every datagram fits one unfragmented UDP datagram, however many hosts are silent or decided. */
function datagramsWithinBudget(w: World): string[] {
  return [...w.net.stats.overBudget].map(([node, n]) => `${node} sent ${n} datagram(s) over ${DATAGRAM_BUDGET_BYTES} bytes`);
}

/**
 * 7. A rack row lost at once (a mass-silence scenario) is held: no host is declared failed or fenced
 * before the operator's first acknowledgement, and none at all without one.
 */
function massGuardHeld(w: World): string[] {
  const m = w.sc.massSilence;
  // Only a silence the guard must hold: more hosts at once than it allows.
  if (!m || !massVerdict(m.silent, w.sc.hosts, w.settings.massGuard).hold) return [];
  const ackAt = Math.min(...(w.sc.massFailureAcks ?? [Infinity]));
  const out: string[] = [];
  for (const d of w.declarations)
    if (d.at < ackAt) out.push(`t=${d.at} ${d.by} declared ${d.host} failed during a mass silence, unacknowledged`);
  for (const e of w.events)
    if (e.event.type === 'host.fenced' && e.event.at < ackAt)
      out.push(`t=${e.event.at} ${e.by} fenced ${e.event.host} during a mass silence, unacknowledged`);
  return out;
}

/** 5. No daemon had to contain a failure in its loop (each is a bug the simulation found). */
function nothingContained(w: World): string[] {
  return [...w.collectContained()].flatMap(([m, msgs]) => msgs.map((msg) => `${m} contained: ${msg}`));
}

const STEP_MS = 50;

function needed(w: World): number {
  return Math.floor(w.settings.expectedVotes / 2) + 1;
}

/** Window of silence a monitor may need before convicting: the detector's worst case. */
function convictionWindowMs(w: World): number {
  return detectionBoundMs(w.settings, w.sc.beaconIntervalMs);
}

function crashedDuring(w: World, id: string, from: number, to: number): boolean {
  return w.sc.monitorCrashes.some(([m, s, e]) => m === id && s < to && e > from);
}

function hostSilentDuring(w: World, host: string, from: number, to: number): boolean {
  const off = w.hosts.get(host)!.poweredOffAt;
  if (off !== null && off < to) return true;
  if (w.sc.hostDeaths.some(([h, at]) => h === host && at < to)) return true;
  if (w.sc.hostReboots.some(([h, s, e]) => h === host && s < to && e > from)) return true;
  // A beacon stopped cleanly is silent too (invariant 8 says whether it may be declared).
  if ((w.sc.hostStops ?? []).some(([h, s, e]) => h === host && s < to && (e === null || e > from))) return true;
  return false;
}

function linkCutDuring(w: World, from: string, to: string, a: number, b: number): boolean {
  return w.sc.cuts.some(([f, t, s, e]) => f === from && t === to && s < b && e > a);
}

/** 1. No host is declared failed while its heartbeats reach a quorum of monitors. */
function noFalseFailure(w: World): string[] {
  const out: string[] = [];
  const win = convictionWindowMs(w);
  for (const d of w.declarations) {
    const from = d.at - win;
    if (hostSilentDuring(w, d.host, from, d.at)) continue;
    const reached = w.monitorIds.filter((m) => !crashedDuring(w, m, from, d.at) && !linkCutDuring(w, d.host, m, from, d.at));
    if (reached.length >= needed(w)) {
      out.push(`t=${d.at} ${d.by} declared ${d.host} failed while it reached ${reached.join(',')} (quorum ${needed(w)})`);
    }
  }
  return out;
}

/** True when some quorum of monitors is running and fully connected at time t. */
function healthyQuorumAt(w: World, t: number): boolean {
  const running = w.monitorIds.filter(
    (m) =>
      !w.sc.monitorCrashes.some(([id, s, e]) => id === m && t >= s && t < e) &&
      !w.sc.monitorStalls.some(([id, s, e]) => id === m && t >= s && t < e),
  );
  // Greedy: keep the monitors connected both ways with every other kept one.
  const kept: string[] = [];
  for (const m of running) {
    if (kept.every((k) => !w.cut(k, m, t) && !w.cut(m, k, t))) kept.push(m);
  }
  return kept.length >= needed(w);
}

/** 3. A host whose beacon stops is declared failed within the bound once a quorum is connected. */
function detectedInBound(w: World): string[] {
  const out: string[] = [];
  const s = w.settings;
  const bound = convictionWindowMs(w);
  // A new quorum first has to agree on a coordinator, and a monitor back from a stall waits its grace.
  const settle = s.peerTimeoutMs + s.pauseGraceMs + 2 * s.peerIntervalMs + w.sc.net.maxDelayMs + 4 * s.tickMs;
  const needHealthyMs = bound + settle;
  for (const [host, diedAt] of w.sc.hostDeaths) {
    const firstDeath = Math.min(...w.sc.hostDeaths.filter(([h]) => h === host).map(([, at]) => at));
    if (diedAt !== firstDeath) continue;
    const already = w.declarations.some((d) => d.host === host && d.at <= diedAt);
    if (already) continue;
    // Find the first stretch after the death with a healthy quorum throughout.
    let start: number | null = null;
    let deadline: number | null = null;
    for (let t = diedAt; t <= w.sc.durationMs; t += STEP_MS) {
      if (!healthyQuorumAt(w, t)) {
        start = null;
        continue;
      }
      start ??= t;
      if (t - start >= needHealthyMs) {
        deadline = start + needHealthyMs;
        break;
      }
    }
    if (deadline === null) continue;
    const held = w.events.some((e) => e.event.type === 'cluster.mass_failure' && e.event.at <= deadline);
    if (held) continue;
    const declared = w.declarations.some((d) => d.host === host && d.at > diedAt - 1 && d.at <= deadline);
    if (!declared) out.push(`${host} died at t=${diedAt} but was not declared failed by t=${deadline}`);
  }
  return out;
}

/** 4. At most one coordinator acts, but for the documented overlap: a withdrawn vote timing out. */
function singleCoordinator(w: World): string[] {
  const s = w.settings;
  const allowedMs = s.peerTimeoutMs + s.peerIntervalMs + w.sc.net.maxDelayMs + 3 * s.tickMs;
  const out: string[] = [];
  let episodeStart: number | null = null;
  let last = -Infinity;
  for (const o of w.overlaps) {
    if (episodeStart === null || o.at - last > 2 * s.tickMs + 20) episodeStart = o.at;
    last = o.at;
    if (o.at - episodeStart > allowedMs) {
      out.push(`t=${o.at} ${o.actors.join(',')} acted as coordinators together for ${o.at - episodeStart}ms (> ${allowedMs}ms)`);
      episodeStart = o.at; // report each long episode once per window
    }
  }
  return out;
}
