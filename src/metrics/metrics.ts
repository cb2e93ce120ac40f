import { basename } from 'node:path';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ClusterEvent, FenceRecord } from '../core/events.js';
import type { EventSink } from '../core/ports.js';
import type { StatusSnapshot } from '../core/status-snapshot.js';

/** What a notifier may expose (the notifications edge plugs in here when it exists). */
export interface NotifierStatus {
  published: number;
  confirmed: number;
  outboxDepth: number;
  outboxCapacity?: number;
  connected: boolean;
}

export interface MetricsOptions {
  snapshot: () => StatusSnapshot;
  notifier?: () => NotifierStatus | null;
  /** Node process metrics (CPU, memory, event-loop lag, GC); off in unit tests for speed. */
  processMetrics?: boolean;
}

const HOST_STATES = ['up', 'suspect', 'failed', 'fencing', 'fenced', 'fence_failed', 'recovering', 'recovered', 'maintenance'] as const;

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
      help: 'Instance evacuations by outcome (success, error, retrying, not_recovered)',
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
      for (const a of s.alarms) g.inc({ kind: a.kind });
    });
    gauge('instance_ha_datagrams', 'Datagrams since start: received, accepted, and dropped by reason', ['kind'], (g, s) => {
      g.set({ kind: 'received' }, s.counters.received);
      g.set({ kind: 'accepted' }, s.counters.accepted);
      for (const [reason, n] of Object.entries(s.counters.dropped)) g.set({ kind: `dropped_${reason}` }, n);
    });
    if (o.notifier) {
      const notifier = o.notifier;
      gauge(
        'instance_ha_notifications',
        'Notifier: published, confirmed (counts since start), outbox depth and capacity, connected (0/1)',
        ['kind'],
        (g) => {
          const n = notifier();
          if (!n) return;
          g.set({ kind: 'published' }, n.published);
          g.set({ kind: 'confirmed' }, n.confirmed);
          g.set({ kind: 'outbox_depth' }, n.outboxDepth);
          if (n.outboxCapacity !== undefined) g.set({ kind: 'outbox_capacity' }, n.outboxCapacity);
          g.set({ kind: 'connected' }, n.connected ? 1 : 0);
        },
      );
    }
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
      case 'instance.not_recovered':
        this.evacuations.inc({ outcome: 'not_recovered' });
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
