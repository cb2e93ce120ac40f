import type { ClusterEvent, HostClusterState } from '../core/events.js';
import type { StatusSnapshot } from '../core/status-snapshot.js';
import type { MonitorCore } from '../core/monitor-core.js';
import { deadAfterMs, lossEstimate } from '../core/detector.js';
import { monitorDetector } from '../core/settings.js';

export interface SnapshotInput {
  core: MonitorCore;
  now: number;
  wallNow: number;
  startedAt: number;
  version: string;
  addresses: ReadonlyMap<string, string>;
  counters: StatusSnapshot['counters'];
  recentEvents: readonly ClusterEvent[];
  extraAlarms?: StatusSnapshot['alarms'];
  /** Which key each sender seals with (admission.ts). */
  hostKeys?: ReadonlyMap<string, string>;
}

export function buildSnapshot(x: SnapshotInput): StatusSnapshot {
  const { core, now } = x;
  const m = core.membership;
  const acting = core.acting(now);
  const live = new Set(m.livePeers(now).map((p) => p.id));
  const members = core.settings.monitors.map((id) => {
    const self = id === core.settings.self;
    const p = m.peers.get(id);
    return {
      id,
      address: x.addresses.get(id) ?? '',
      self,
      live: self || live.has(id),
      lastSeenAgoMs: self ? 0 : p ? Math.round(now - p.lastHeardAt) : null,
      acting: self ? acting : (p?.beat.acting ?? false) && live.has(id),
      vote: self ? m.vote(now, acting) : (p?.beat.vote ?? null),
    };
  });
  const detector = monitorDetector(core.settings);
  const maintenance = new Set([...core.maintenance.values()].filter((mk) => mk.on).map((mk) => mk.host));
  const hosts = [...core.tracks.values()]
    // Code-point order, not localeCompare: collation cost ~70 ms of a 10,000-host snapshot (bench:mass).
    .sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0))
    .map((t) => {
      const d = core.coordinator.decision(t.host);
      const quorumSuspect = t.verdict !== 'up';
      const state: HostClusterState = d
        ? d.state
        : maintenance.has(t.host)
          ? 'maintenance'
          : t.left
            ? 'left'
            : quorumSuspect
              ? 'suspect'
              : 'up';
      return {
        host: t.host,
        state,
        localLevel: t.verdict,
        maintenance: maintenance.has(t.host),
        lastHeartbeatAgeMs: t.heard ? Math.round(now - t.lastHeardAt) : null,
        bootId: t.bootId,
        novaCompute: t.novaCompute,
        lossPct: Math.round(lossEstimate(t) * 1000) / 10,
        deadAfterMs: Math.round(deadAfterMs(t, detector)),
        decisionSinceMs: d ? Math.round(x.wallNow - (now - d.sinceMs)) : null,
        fence: d?.fence ?? null,
        sealedWith: x.hostKeys?.get(t.host) ?? null,
        ...computeDownField(core, t.host, x),
        // A clean stop: when (the beacon's clock) and which boot; its instances are not protected meanwhile.
        ...(t.left ? { left: { at: new Date(t.left.sentAtMs).toISOString(), bootId: t.left.bootId } } : {}),
      };
    });
  const alarms: StatusSnapshot['alarms'] = [...(x.extraAlarms ?? [])];
  if (!m.quorate(now))
    alarms.push({
      kind: 'no_quorum',
      message: `no quorum: hears ${m.hears(now).length} of ${m.needed} needed monitors; declaring nothing`,
    });
  if (core.paused(now))
    alarms.push({ kind: 'local_pause', message: 'this monitor stalled recently; convictions suspended for a grace period' });
  const hold = core.coordinator.massHold;
  if (hold)
    alarms.push({
      kind: 'mass_failure',
      message: `mass failure held (${hold.limit}): ${listSome(hold.hosts)}; run 'instance-ha ack-mass-failure' to proceed`,
    });
  for (const h of hosts)
    if (h.state === 'fence_failed')
      alarms.push({ kind: 'fence_failed', message: `${h.host} could not be fenced; its instances are NOT recovered until it is` });
  for (const h of hosts) if (h.state === 'recovery_failed') alarms.push(recoveryFailedAlarm(h.host, x.recentEvents));
  if (core.computeDown.held.length > 0)
    alarms.push({
      kind: 'compute_down_limited',
      message: `nova-compute down on more hosts than compute_down.max_fraction allows; not disabled: ${core.computeDown.held.slice(0, 10).join(', ')}`,
    });
  for (const f of core.computeDown.failures())
    alarms.push({
      kind: f.action === 'disable' ? 'compute_disable_failed' : 'compute_enable_failed',
      message: `could not ${f.action} the compute service of ${f.host} (${f.count} tries): ${f.error}; retrying with backoff`,
    });
  const g = core.guests;
  if (g.lastRestartFailure && now - g.lastRestartFailure.at < GUEST_ALARM_MS)
    alarms.push({
      kind: 'guest_restart_failed',
      message: `could not restart the crashed guest ${g.lastRestartFailure.instance} on ${g.lastRestartFailure.host}: ${g.lastRestartFailure.reason ?? ''}`,
      since: wall(x, g.lastRestartFailure.at),
    });
  if (g.lastBudgetExhausted && now - g.lastBudgetExhausted.at < GUEST_ALARM_MS)
    alarms.push({
      kind: 'guest_crash_loop',
      message:
        `guest ${g.lastBudgetExhausted.instance} on ${g.lastBudgetExhausted.host} crashed past its restart budget ` +
        `(guest_restart.max_restarts ${core.settings.guestRestart.maxRestarts}): notified only, not restarted`,
      since: wall(x, g.lastBudgetExhausted.at),
    });
  // A host repeats it every 10 s while its watch is down: older than a minute, it is not current.
  for (const [host, w] of g.watchDown)
    if (now - w.at < 60_000)
      alarms.push({
        kind: 'guest_watch_down',
        message: `${host} cannot watch its guests (libvirt event watch stopped: ${w.why}); guest failures there are not seen`,
      });
  if (
    g.counts.droppedByBeacons + g.counts.droppedHere > 0 &&
    g.recent.length > 0 &&
    now - g.recent[g.recent.length - 1]!.at < GUEST_ALARM_MS
  )
    alarms.push({
      kind: 'guest_events_dropped',
      message: `${g.counts.droppedByBeacons + g.counts.droppedHere} guest event(s) left out by rate limits (a guest storm): some failures were not notified`,
    });
  return {
    monitor: { id: core.settings.self, bootId: core.bootId, startedAt: new Date(x.startedAt).toISOString(), version: x.version },
    cluster: {
      quorate: m.quorate(now),
      votes: m.hears(now).length,
      needed: m.needed,
      expectedVotes: core.settings.expectedVotes,
      coordinator: m.coordinator(now, acting),
      acting,
      paused: core.paused(now),
      epoch: core.coordinator.epoch,
      members,
    },
    hosts,
    alarms,
    counters: x.counters,
    recentEvents: [...x.recentEvents],
    ...(g.counts.failures > 0
      ? {
          guests: {
            failures: g.counts.failures,
            restarted: g.counts.restarted,
            restartFailed: g.counts.restartFailed,
            budgetExhausted: g.counts.budgetExhausted,
            dropped: g.counts.droppedByBeacons + g.counts.droppedHere,
            recent: g.recent.slice(-20).map((r) => ({
              at: wall(x, r.at),
              host: r.host,
              instance: r.instance,
              domain: r.domain,
              event: r.event,
              detail: r.detail,
              action: r.action,
              recovery: r.recovery,
              ...(r.outcome ? { outcome: r.outcome } : {}),
              ...(r.reason ? { reason: r.reason } : {}),
            })),
          },
        }
      : {}),
  };
}

/** A guest alarm stays this long after its last occurrence (a crash loop an hour ago is history, not an alarm). */
const GUEST_ALARM_MS = 3_600_000;

function wall(x: SnapshotInput, at: number): string {
  return new Date(x.wallNow - (x.now - at)).toISOString();
}

/** At most 10 names, then a count: 2,000 held hosts are not a status line (`--state` lists them). */
function listSome(names: readonly string[], max = 10): string {
  return names.length <= max
    ? names.join(', ')
    : `${names.slice(0, max).join(', ')} and ${(names.length - max).toLocaleString('en-US')} more`;
}

/** Names the servers left behind and why, from the recovery's own summary when this monitor saw it. */
function recoveryFailedAlarm(host: string, recent: readonly ClusterEvent[]): StatusSnapshot['alarms'][number] {
  const end = [...recent].reverse().find((e) => e.type === 'host.recovery_end' && e.host === host);
  const s = end?.type === 'host.recovery_end' ? end.summary : undefined;
  const named = (s?.failedServers ?? []).map((f) => `${f.name} (${f.id}): ${f.reason}`);
  const more = s && s.failed > named.length ? `, and ${s.failed - named.length} more` : '';
  const list = named.length ? `: ${named.join('; ')}${more}` : '';
  const error = s?.error ? `; recovery error: ${s.error}` : '';
  const what = s
    ? `${s.failed} of ${s.selected} server(s) NOT running elsewhere${list}${error}`
    : 'servers NOT running elsewhere (see instance-ha history)';
  return {
    kind: 'recovery_failed',
    message: `${host} recovery failed: ${what}; fix the cause (capacity?), then run 'instance-ha recover ${host}'`,
  };
}

function computeDownField(core: MonitorCore, host: string, x: SnapshotInput): Pick<StatusSnapshot['hosts'][number], 'computeDown'> {
  const mark = core.computeDown.mark(host);
  if (!mark) return {};
  return { computeDown: { since: new Date(x.wallNow - (x.now - mark.sinceMs)).toISOString(), service: mark.service } };
}
