import { basename } from 'node:path';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ClusterEvent, FenceRecord } from '../core/events.js';
import type { EventSink } from '../core/ports.js';
import type { StatusSnapshot } from '../core/status-snapshot.js';
import { VERSION } from '../version.js';

/** What a notifier may expose (the notifications edge plugs in here when it exists). */
export interface NotifierStatus {
  published: number;
  confirmed: number;
  outboxDepth: number;
  outboxCapacity?: number;
  connected: boolean;
}

/** The sender whose clock is furthest from this monitor's: its name and our clock minus its send time. */
export interface ClockOffsetReading {
  sender: string;
  offsetMs: number;
}

export interface MetricsOptions {
  snapshot: () => StatusSnapshot;
  notifier?: () => NotifierStatus | null;
  /** The sender whose clock is furthest from this monitor's (daemon/clock-offsets.ts), or null. */
  clockOffset?: () => ClockOffsetReading | null;
  /** Node process metrics (CPU, memory, event-loop lag, GC); off in unit tests for speed. */
  processMetrics?: boolean;
}

/** Alarm kinds the status can raise (src/daemon/status.ts, daemon/monitor.ts, cli/notify-wiring.ts, the edges): shown at 0 when clear. */
const ALARM_KINDS = [
  'no_quorum',
  'local_pause',
  'mass_failure',
  'fence_failed',
  'recovery_failed',
  'compute_api_unreachable',
  'keystone_unreachable',
  'nova_notifications_lost',
  'server_groups_unreadable',
  'state_write_failed',
  'action_held',
  'history_write_failed',
  'journal_write_failed',
  'journal_corrupt',
  'outbox_write_failed',
  'outbox_corrupt',
  'loop_error',
  'event_sink_failed',
  'view_truncated',
  'peer_incompatible',
  'broker_unreachable',
  'outbox_backlog',
  'outbox_full',
  'guest_restart_failed',
  'guest_crash_loop',
  'guest_events_dropped',
  'guest_watch_down',
  'power_check_failed',
  'listener_not_started',
  'udp_receive_buffer_small',
] as const;

/** Event types the alert rules and the dashboard count: present (at 0) before the first one. */
const PRESET_EVENT_TYPES = [
  'host.failed',
  'host.fenced',
  'host.fence_failed',
  'cluster.coordinator_changed',
  'cluster.quorum_lost',
] as const;

const EVACUATION_OUTCOMES = ['success', 'error', 'retrying', 'not_selected'] as const;

const HOST_STATES = [
  'up',
  'suspect',
  'failed',
  'fencing',
  'fenced',
  'fence_failed',
  'recovering',
  'evacuated',
  'recovery_failed',
  'maintenance',
  'left',
] as const;

/**
 * The monitor's Prometheus metrics: an EventSink for what happens (detection latency, fencing,
 * evacuations) and collectors reading snapshot() at scrape time for what is (hosts by state,
 * quorum, coordinator). Labels carry only host-free enums, agent names, monitor ids and event
 * types — never a tenant's server, project or a secret. Its own Registry: no global state.
 */
export class MonitorMetrics implements EventSink {
  readonly registry = new Registry();
  private readonly detection: Histogram;
  private readonly fenceDuration: Histogram;
  private readonly fences: Counter;
  private readonly evacuations: Counter;
  private readonly evacuationDuration: Histogram;
  private readonly events: Counter;

  constructor(o: MetricsOptions) {
    const r = [this.registry];
    if (o.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'instance_ha_' });
    this.detection = new Histogram({
      name: 'instance_ha_detection_latency_seconds',
      help: 'From the last heartbeat heard to host.failed',
      buckets: [0.5, 1, 1.5, 2, 2.5, 3, 4, 5, 7.5, 10, 20, 30],
      registers: r,
    });
    this.fenceDuration = new Histogram({
      name: 'instance_ha_fence_duration_seconds',
      help: 'Fencing one host (all levels tried), by agent and outcome',
      labelNames: ['agent', 'outcome'],
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120],
      registers: r,
    });
    this.fences = new Counter({
      name: 'instance_ha_fence_total',
      help: 'Fence operations by agent and outcome (success, failure)',
      labelNames: ['agent', 'outcome'],
      registers: r,
    });
    this.evacuations = new Counter({
      name: 'instance_ha_evacuations_total',
      help: 'Instance evacuations by outcome (success, error, retrying, not_selected)',
      labelNames: ['outcome'],
      registers: r,
    });
    this.evacuationDuration = new Histogram({
      name: 'instance_ha_evacuation_duration_seconds',
      help: 'Successful evacuations, from request to ACTIVE',
      buckets: [1, 2, 5, 10, 20, 30, 60, 120, 300, 600],
      registers: r,
    });
    this.events = new Counter({
      name: 'instance_ha_events_total',
      help: 'Cluster events emitted, by type',
      labelNames: ['type'],
      registers: r,
    });

    // Scrape-time gauges from the snapshot: one snapshot per scrape, shared by all of them.
    let cached: { at: number; snap: StatusSnapshot } | null = null;
    const snap = (): StatusSnapshot => {
      const now = Date.now();
      if (!cached || now - cached.at > 100) cached = { at: now, snap: o.snapshot() };
      return cached.snap;
    };
    const gauge = (name: string, help: string, labelNames: string[], fill: (g: Gauge, s: StatusSnapshot) => void): void => {
      new Gauge({
        name,
        help,
        labelNames,
        registers: r,
        collect() {
          this.reset();
          fill(this, snap());
        },
      });
    };
    gauge('instance_ha_hosts', 'Watched hosts by cluster state', ['state'], (g, s) => {
      for (const st of HOST_STATES) g.set({ state: st }, 0);
      for (const h of s.hosts) g.inc({ state: h.state });
    });
    gauge(
      'instance_ha_compute_down_hosts',
      'Live hosts whose nova-compute is down past the grace, by service state',
      ['service'],
      (g, s) => {
        for (const st of ['pending', 'disabled', 'already_disabled']) g.set({ service: st }, 0);
        for (const h of s.hosts) if (h.computeDown) g.inc({ service: h.computeDown.service });
      },
    );
    gauge('instance_ha_quorate', '1 when this monitor is in a quorate partition', [], (g, s) => g.set(s.cluster.quorate ? 1 : 0));
    gauge('instance_ha_quorum_votes', 'Monitors this one hears (itself included)', [], (g, s) => g.set(s.cluster.votes));
    gauge('instance_ha_quorum_needed', 'Votes needed for quorum', [], (g, s) => g.set(s.cluster.needed));
    gauge('instance_ha_coordinator', '1 for the monitor this one sees as coordinator', ['monitor'], (g, s) => {
      if (s.cluster.coordinator) g.set({ monitor: s.cluster.coordinator }, 1);
    });
    gauge('instance_ha_acting', '1 when this monitor is the acting coordinator', [], (g, s) => g.set(s.cluster.acting ? 1 : 0));
    gauge('instance_ha_monitor_live', '1 per monitor this one hears', ['monitor'], (g, s) => {
      for (const m of s.cluster.members) g.set({ monitor: m.id }, m.live ? 1 : 0);
    });
    gauge('instance_ha_alarms', 'Active alarms by kind', ['kind'], (g, s) => {
      for (const kind of ALARM_KINDS) g.set({ kind }, 0);
      for (const a of s.alarms) g.inc({ kind: a.kind });
    });
    // Counts since start are counters (`_total`), set from the snapshot at scrape time: rate() and
    // increase() then work, and a restart shows as a counter reset, as Prometheus expects.
    const counter = (name: string, help: string, labelNames: string[], fill: (c: Counter, s: StatusSnapshot) => void): void => {
      new Counter({
        name,
        help,
        labelNames,
        registers: r,
        collect() {
          this.reset();
          fill(this, snap());
        },
      });
    };
    counter('instance_ha_datagrams_received_total', 'Datagrams received since start', [], (c, s) => c.inc(s.counters.received));
    counter('instance_ha_datagrams_accepted_total', 'Datagrams accepted (authenticated, fresh) since start', [], (c, s) =>
      c.inc(s.counters.accepted),
    );
    counter('instance_ha_datagrams_dropped_total', 'Datagrams refused since start, by reason', ['reason'], (c, s) => {
      for (const [reason, n] of Object.entries(s.counters.dropped)) c.inc({ reason }, n);
    });
    counter('instance_ha_datagrams_sent_total', 'Datagrams sent since start', [], (c, s) => c.inc(s.counters.sent));
    counter(
      'instance_ha_guest_failures_total',
      'Guest OS failures reported by the hosts about their own guests (crash, failed stop, watchdog, I/O error), since start',
      [],
      (c, s) => c.inc(s.guests?.failures ?? 0),
    );
    counter('instance_ha_guest_restarts_total', 'Restarts of crashed guests through Nova since start, by outcome', ['outcome'], (c, s) => {
      const g = s.guests;
      c.inc({ outcome: 'restarted' }, g?.restarted ?? 0);
      c.inc({ outcome: 'failed' }, g?.restartFailed ?? 0);
      c.inc({ outcome: 'budget_exhausted' }, g?.budgetExhausted ?? 0);
    });
    counter('instance_ha_guest_events_dropped_total', 'Guest events left out by rate limits (beacon or monitor) since start', [], (c, s) =>
      c.inc(s.guests?.dropped ?? 0),
    );
    counter(
      'instance_ha_power_checks_total',
      'Early power checks of silent hosts since start, by result ' +
        '(off: every first-level device reads OFF; on: read, not all OFF; unread: a device failed, timed out or is not trusted)',
      ['result'],
      (c, s) => {
        const p = s.counters.powerChecks;
        for (const result of ['off', 'on', 'unread'] as const) c.inc({ result }, p?.[result] ?? 0);
      },
    );
    counter('instance_ha_datagram_send_errors_total', 'Datagram sends that failed since start', [], (c, s) => c.inc(s.counters.sendErrors));
    new Gauge({
      name: 'instance_ha_build_info',
      help: 'Always 1; the labels say which instance-ha and Node.js this monitor runs',
      labelNames: ['version', 'nodejs'],
      registers: r,
    }).set({ version: VERSION, nodejs: process.versions.node }, 1);
    gauge('instance_ha_largest_monitor_datagram_bytes', 'Largest monitor-to-monitor datagram sent since start (bound: 1400)', [], (g, s) =>
      g.set(s.counters.largestMonitorDatagramBytes ?? 0),
    );
    if (o.notifier) {
      const notifier = o.notifier;
      // One notifier status per scrape, shared by its five series; none while there is no notifier.
      const fromNotifier = (fill: (m: Counter | Gauge, n: NotifierStatus) => void) =>
        function (this: Counter | Gauge) {
          this.reset();
          const n = notifier();
          if (n) fill(this, n);
        };
      new Counter({
        name: 'instance_ha_notifications_published_total',
        help: 'Notifications handed to the outbox since start',
        registers: r,
        collect: fromNotifier((m, n) => (m as Counter).inc(n.published)),
      });
      new Counter({
        name: 'instance_ha_notifications_confirmed_total',
        help: 'Notifications the broker confirmed since start',
        registers: r,
        collect: fromNotifier((m, n) => (m as Counter).inc(n.confirmed)),
      });
      new Gauge({
        name: 'instance_ha_notification_outbox_depth',
        help: 'Notifications waiting in the outbox for a broker confirm',
        registers: r,
        collect: fromNotifier((m, n) => (m as Gauge).set(n.outboxDepth)),
      });
      new Gauge({
        name: 'instance_ha_notification_outbox_capacity',
        help: 'How many notifications the outbox holds at most',
        registers: r,
        collect: fromNotifier((m, n) => {
          if (n.outboxCapacity !== undefined) (m as Gauge).set(n.outboxCapacity);
        }),
      });
      new Gauge({
        name: 'instance_ha_notification_broker_connected',
        help: '1 while the notification broker connection is up',
        registers: r,
        collect: fromNotifier((m, n) => (m as Gauge).set(n.connected ? 1 : 0)),
      });
    }
    if (o.clockOffset) {
      const clockOffset = o.clockOffset;
      new Gauge({
        name: 'instance_ha_clock_offset_max_seconds',
        help: "This monitor's clock minus the send time of the sender furthest off, among those heard in the last minute",
        labelNames: ['sender'],
        registers: r,
        collect() {
          this.reset();
          const w = clockOffset();
          if (w) this.set({ sender: w.sender }, w.offsetMs / 1000);
        },
      });
    }
    // Series the alert rules and the dashboard query exist from the first scrape, at 0.
    for (const type of PRESET_EVENT_TYPES) this.events.inc({ type }, 0);
    for (const outcome of EVACUATION_OUTCOMES) this.evacuations.inc({ outcome }, 0);
  }

  publish(e: ClusterEvent): void {
    this.events.inc({ type: e.type });
    switch (e.type) {
      case 'host.failed':
        if (e.lastHeardAt !== null && e.at >= e.lastHeardAt) this.detection.observe((e.at - e.lastHeardAt) / 1000);
        return;
      case 'host.fenced':
      case 'host.fence_failed': {
        const labels = { agent: agentName(e.record), outcome: e.type === 'host.fenced' ? 'success' : 'failure' };
        this.fences.inc(labels);
        this.fenceDuration.observe(labels, e.record.durationMs / 1000);
        return;
      }
      case 'instance.evacuate_end':
        this.evacuations.inc({ outcome: 'success' });
        this.evacuationDuration.observe(e.durationMs / 1000);
        return;
      case 'instance.evacuate_error':
        this.evacuations.inc({ outcome: e.final ? 'error' : 'retrying' });
        return;
      case 'instance.not_selected':
        this.evacuations.inc({ outcome: 'not_selected' });
        return;
      default:
        return;
    }
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}

/** The agent's name without its path (a label must not vary with the install prefix). */
export function agentName(r: FenceRecord): string {
  const a = r.agent ?? r.attempts[r.attempts.length - 1]?.agent;
  return a ? basename(a) : 'none';
}
