import { loadConfig } from '../../config/load.js';
import { readMonitorConfig } from '../../daemon/monitor-config.js';
import { ControlServer } from '../../control/server.js';
import { MonitorDaemon } from '../../daemon/monitor.js';
import { createLogger, levelOrInfo, componentLogger } from '../../log.js';
import { UsageError, parse } from '../args.js';
import { startFencing } from '../../fence/index.js';
import { notificationAlarms, startNotifications } from '../notify-wiring.js';
import { createNovaRecoverer } from '../../recovery/index.js';
import { createUnfencer } from '../auto-unfence-wiring.js';
import { createComputeClient } from '../../openstack/factory.js';
import { createComputeServiceControl } from '../../recovery/compute-service-control.js';
import { createGuestRestarter } from '../../recovery/guest-restart.js';
import { createMonitorOps } from '../../ops/monitor-ops.js';
import { systemClock } from '../../daemon/clock.js';
import { EventBus } from '../../daemon/event-bus.js';
import { FileStateStore } from '../../daemon/state-store.js';
import { UdpTransport } from '../../wire/udp-transport.js';
import { runUntilSignal } from '../../ops/lifecycle.js';
import { SystemdNotifier } from '../../systemd/notify.js';
import { undici } from '../../lazy-undici.js';
import { NovaServicePoller } from '../../openstack/service-poller.js';
import { historyAlarms } from '../../status-api/event-journal.js';
import { checkJournalDir } from '../../recovery/journal.js';

/**
 * The monitor's composition root, the one place it is assembled: the configuration is read once, the
 * event bus is created first and every sink subscribes to it before anything can publish, then the
 * edges, then the driver. Runs until SIGTERM/SIGINT; resolves with the exit code.
 */
export async function monitorCommand(args: string[]): Promise<number> {
  const { values } = parse(args, { config: { type: 'string', short: 'c' } });
  if (!values.config) throw new UsageError('Usage: instance-ha monitor --config /etc/instance-ha/monitor.yaml');
  const cfg = loadConfig(values.config, readMonitorConfig);
  // undici is loaded lazily for the short commands; a daemon loads it now, so a broken install stops
  // the monitor at its start rather than failing its first Redfish fence.
  undici();
  // The state is read (and validated) before any edge starts: a corrupt file stops the monitor
  // here, with exit 65 and one line naming it, not after the notifier and fencer hold resources.
  const store = new FileStateStore(cfg.stateDir);
  store.load();
  if (cfg.recovery) checkJournalDir(cfg.recovery.recovery.journalDir);
  const log = createLogger({ level: levelOrInfo(cfg.logLevel), base: { monitor: cfg.id } });
  const bus = new EventBus(componentLogger(log, 'events'));
  const notifier = await startNotifications(cfg, log);
  if (notifier) bus.subscribe('notifications', notifier);
  const ops = createMonitorOps(cfg, log);
  for (const { name, sink } of ops.sinks) bus.subscribe(name, sink);
  const fencing = cfg.fencing ? await startFencing({ config: cfg.fencing, log: componentLogger(log, 'fence'), monitorId: cfg.id }) : null;
  if (!fencing) log.warn('no fencing configured: failed hosts are declared and shown, never fenced or recovered');
  const recoverer = cfg.recovery
    ? createNovaRecoverer(cfg.recovery, { log: componentLogger(log, 'recovery'), events: bus, broker: cfg.notifications })
    : null;
  // Pre-authenticated and negotiated before the first incident (issue #12); never blocks the start on Keystone.
  void recoverer?.start();
  const unfencer = createUnfencer(cfg, componentLogger(log, 'auto-unfence'));
  // Nova's own view of each nova-compute for `status` (the beacon's is the host's last word): one
  // cached os-services call per interval, read by the status surfaces only.
  const novaView = cfg.recovery
    ? new NovaServicePoller({
        list: (() => {
          const compute = createComputeClient(cfg.recovery.compute, { log: componentLogger(log, 'nova-services') });
          return (signal: AbortSignal) => compute.listComputeServices(signal);
        })(),
        log: componentLogger(log, 'nova-services'),
      })
    : null;
  // compute_down: the core decides when; this disables/enables the service (never fences).
  const computeControl =
    cfg.computeApi && cfg.core.computeDown.enabled
      ? createComputeServiceControl(createComputeClient(cfg.computeApi, { log: componentLogger(log, 'compute-down') }))
      : null;
  // A crashed guest: the core decides; this hard-reboots a tagged server on the reporting host.
  const guestRestarter =
    cfg.computeApi && cfg.core.guestRestart.enabled
      ? createGuestRestarter(
          createComputeClient(cfg.computeApi, { log: componentLogger(log, 'guest-restart') }),
          cfg.recovery?.recovery.select.tag ?? 'automatic-recovery',
          // Counted again on Nova's action history: the core's count is this coordinator's alone.
          { maxRestarts: cfg.core.guestRestart.maxRestarts, windowMs: cfg.core.guestRestart.windowMs },
        )
      : null;
  const monitor = new MonitorDaemon({
    settings: cfg,
    clock: systemClock,
    transport: new UdpTransport(componentLogger(log, 'udp'), systemClock.now),
    store,
    bus,
    log,
    ...(fencing ? { fencer: fencing.fencer } : {}),
    ...(recoverer ? { recoverer } : {}),
    ...(unfencer ? { unfencer } : {}),
    ...(computeControl ? { computeControl } : {}),
    ...(guestRestarter ? { guestRestarter } : {}),
    edgeStatus: () => {
      const n = notifier?.status();
      // Every durable file's write trouble is an alarm: history, recovery journals, outbox.
      const alarms = [
        ...(n ? notificationAlarms(n) : []),
        ...historyAlarms(ops.journal),
        ...ops.alarms(),
        ...(recoverer?.alarms() ?? []),
        ...(novaView?.alarms() ?? []),
      ];
      return { alarms, sections: { ...(n ? { notifications: n } : {}), ...(novaView ? { nova: novaView.status() } : {}) } };
    },
  });
  await monitor.start();
  novaView?.start();
  const control = new ControlServer(cfg.controlSocket, monitor, componentLogger(log, 'control'));
  await control.start();
  // HTTP endpoints, then READY=1 only now that every socket is bound.
  const endpoints = await ops.start(
    () => monitor.snapshot(),
    () => {
      // The notifier's status in the shape the metrics take (published = confirmed + still queued).
      const n = notifier?.status();
      return n
        ? { published: n.confirmed + n.backlog, confirmed: n.confirmed, outboxDepth: n.backlog, connected: n.broker.connected }
        : null;
    },
    () => monitor.clockOffset(),
  );
  const sd = new SystemdNotifier(componentLogger(log, 'systemd'));
  log.info({ controlSocket: cfg.controlSocket, ...endpoints }, 'monitor ready');
  // Signal handlers first: a SIGTERM right after READY=1 must find them in place.
  const stopped = runUntilSignal({
    log,
    notifier: sd,
    busy: () => monitor.inflightCount(),
    stop: async () => {
      ops.stop();
      novaView?.stop();
      await recoverer?.stop();
      control.stop();
      monitor.stop();
      await fencing?.close();
      // Flush what the broker has not confirmed yet; the rest stays in the outbox for the next start.
      const flushed = await notifier?.close();
      if (flushed && !flushed.flushed) log.warn({ backlog: flushed.backlog }, 'notifications left in the outbox for the next start');
    },
  });
  await sd.ready(`monitoring; status API ${endpoints.statusApi ?? 'off'}`);
  sd.startWatchdog();
  return stopped;
}

/** `instance-ha monitor --help`. */
export const MONITOR_HELP = `Usage: instance-ha monitor --config FILE

Runs a monitor: receives beacons, heartbeats the other monitors, holds quorum, and (as coordinator)
declares, fences and recovers failed hosts. Serves the control socket, the status API + dashboard
(status_api.listen, default 127.0.0.1:7411) and Prometheus metrics (metrics.listen, default
127.0.0.1:9411). Under systemd (Type=notify) it sends READY=1 once every socket is bound and
WATCHDOG=1 pings. SIGTERM/SIGINT: stops after in-flight fencing finishes (10 s at most), exit 0.
SIGHUP: logged only; configuration changes need a restart (docs/operations.md).

Exit codes: 0 stopped on SIGTERM/SIGINT; 78 configuration error; 65 the state file or a recovery
journal cannot be read (corrupt, wrong types, or written by a newer format: one line names the file
and what to do, docs/operations.md "Corrupt state file"); 64 bad usage.

Examples
  instance-ha monitor --config /etc/instance-ha/monitor.yaml
  systemctl start instance-ha-monitor
`;
