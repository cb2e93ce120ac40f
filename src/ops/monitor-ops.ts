import { formatHostPort } from '../config/address.js';
import type { OpsConfig } from '../config/ops-config.js';
import type { EventSink } from '../core/ports.js';
import type { Alarm, StatusSnapshot } from '../core/status-snapshot.js';
import { componentLogger, type Logger } from '../log.js';
import { MonitorMetrics, type ClockOffsetReading, type NotifierStatus } from '../metrics/metrics.js';
import { MetricsServer } from '../metrics/server.js';
import { EventJournal } from '../status-api/event-journal.js';
import { StatusApiServer } from '../status-api/server.js';

/**
 * The monitor's operator surface, wired in two steps because the event bus needs the sinks before
 * the monitor exists and the servers need the monitor's snapshot after:
 *
 *   const ops = createMonitorOps(cfg, log);                     // history + metrics sinks
 *   for (const { name, sink } of ops.sinks) bus.subscribe(name, sink);
 *   const monitor = new MonitorDaemon({ ..., bus });
 *   await monitor.start();
 *   await ops.start(() => monitor.snapshot());                  // status API, dashboard, /metrics
 *
 * A port already taken (another monitor on this machine) is skipped: the dashboard must never keep
 * the monitor from watching hosts. It is not only logged: alarms() raises listener_not_started, so
 * `instance-ha status` (over the control socket) and the other endpoint say so.
 */
export interface MonitorOps {
  journal: EventJournal;
  metrics: MonitorMetrics | null;
  sinks: Array<{ name: string; sink: EventSink }>;
  start(
    snapshot: () => StatusSnapshot,
    notifier?: () => NotifierStatus | null,
    clockOffset?: () => ClockOffsetReading | null,
  ): Promise<{ statusApi: string | null; metrics: string | null }>;
  /** listener_not_started for each endpoint that could not bind at start. */
  alarms(): Alarm[];
  stop(): void;
}

/** The part of the monitor's configuration the operator surface uses. */
export interface MonitorOpsSettings {
  id: string;
  stateDir: string;
  ops: OpsConfig;
}

export function createMonitorOps(cfg: MonitorOpsSettings, log: Logger): MonitorOps {
  const journal = new EventJournal({
    monitorId: cfg.id,
    stateDir: cfg.stateDir,
    log: componentLogger(log, 'history'),
    maxBytes: cfg.ops.statusApi.historyMaxBytes,
  });
  let snapshotFn: (() => StatusSnapshot) | null = null;
  let notifierFn: (() => NotifierStatus | null) | null = null;
  let clockOffsetFn: (() => ClockOffsetReading | null) | null = null;
  const snapshot = (): StatusSnapshot => {
    if (!snapshotFn) throw new Error('monitor not started');
    return snapshotFn();
  };
  const metrics = cfg.ops.metrics.enabled
    ? new MonitorMetrics({ snapshot, notifier: () => notifierFn?.() ?? null, clockOffset: () => clockOffsetFn?.() ?? null })
    : null;
  let api: StatusApiServer | null = null;
  let metricsServer: MetricsServer | null = null;
  const unbound: Alarm[] = [];
  const bindOrAlarm = async (start: () => Promise<{ host: string; port: number }>, what: string, at: string): Promise<string | null> => {
    try {
      return formatHostPort(await start());
    } catch (err) {
      log.error({ err, listen: at }, `${what} not started: cannot bind (set its listen address in the config); monitoring continues`);
      const why = err instanceof Error ? err.message : String(err);
      unbound.push({
        kind: 'listener_not_started',
        message: `${what} not started: cannot bind ${at} (${why}); monitoring continues: set its listen address in the config and restart`,
        since: new Date().toISOString(),
      });
      return null;
    }
  };
  return {
    journal,
    metrics,
    sinks: [{ name: 'history', sink: journal }, ...(metrics ? [{ name: 'metrics', sink: metrics }] : [])],
    async start(snap, notifier, clockOffset) {
      snapshotFn = snap;
      notifierFn = notifier ?? null;
      clockOffsetFn = clockOffset ?? null;
      const bound = { statusApi: null as string | null, metrics: null as string | null };
      if (cfg.ops.statusApi.enabled) {
        api = new StatusApiServer({
          listen: cfg.ops.statusApi.listen,
          token: cfg.ops.statusApi.token,
          tls: cfg.ops.statusApi.tls,
          snapshot,
          journal,
          stateDir: cfg.stateDir,
          log: componentLogger(log, 'status-api'),
        });
        bound.statusApi = await bindOrAlarm(() => api!.start(), 'status API', formatHostPort(cfg.ops.statusApi.listen));
      }
      if (metrics) {
        metricsServer = new MetricsServer(cfg.ops.metrics.listen, metrics, componentLogger(log, 'metrics'), cfg.ops.metrics.token);
        bound.metrics = await bindOrAlarm(() => metricsServer!.start(), 'metrics', formatHostPort(cfg.ops.metrics.listen));
      }
      return bound;
    },
    alarms: () => [...unbound],
    stop() {
      journal.close();
      api?.stop();
      metricsServer?.stop();
    },
  };
}
