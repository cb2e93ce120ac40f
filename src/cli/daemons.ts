import { loadConfig } from '../config/load.js';
import { readBeaconConfig } from '../config/beacon-config.js';
import { readMonitorConfig } from '../config/monitor-config.js';
import { ControlServer } from '../control/server.js';
import { Beacon } from '../daemon/beacon.js';
import { MonitorDaemon } from '../daemon/monitor.js';
import { createLogger, isLevel } from '../log.js';
import { UsageError, parse } from './args.js';
import { startFencing } from '../fence/index.js';
import { notificationAlarms, startNotifications } from './notify-wiring.js';
import { createNovaRecoverer } from '../recovery/index.js';
import { createUnfencer } from './auto-unfence-wiring.js';
import { createMonitorOps } from '../ops/monitor-ops.js';
import { systemClock } from '../daemon/clock.js';
import { EventBus } from '../daemon/event-bus.js';
import { HealthCheck } from '../daemon/health-check.js';
import { FileStateStore } from '../daemon/state-store.js';
import { UdpTransport } from '../wire/udp-transport.js';
import { runUntilSignal } from '../ops/lifecycle.js';
import { SystemdNotifier } from '../systemd/notify.js';

function level(s: string): 'info' | 'fatal' | 'error' | 'warn' | 'debug' | 'trace' | 'silent' {
  return isLevel(s) ? s : 'info';
}

/**
 * The monitor's composition root, the one place it is assembled: the configuration is read once, the
 * event bus is created first and every sink subscribes to it before anything can publish, then the
 * edges, then the driver. Runs until SIGTERM/SIGINT; resolves with the exit code.
 */
export async function monitorCommand(args: string[]): Promise<number> {
  const { values } = parse(args, { config: { type: 'string', short: 'c' } });
  if (!values.config) throw new UsageError('usage: instance-ha monitor --config /etc/instance-ha/monitor.yaml');
  const cfg = loadConfig(values.config, readMonitorConfig);
  const log = createLogger({ level: level(cfg.logLevel), base: { monitor: cfg.id } });
  const bus = new EventBus(log.child({ component: 'events' }));
  const notifier = await startNotifications(cfg, log);
  if (notifier) bus.subscribe('notifications', notifier);
  const ops = createMonitorOps(cfg, log);
  for (const { name, sink } of ops.sinks) bus.subscribe(name, sink);
  const fencing = cfg.fencing ? await startFencing({ config: cfg.fencing, log: log.child({ component: 'fence' }), monitorId: cfg.id }) : null;
  if (!fencing) log.warn('no fencing configured: failed hosts are declared and shown, never fenced or recovered');
  const recoverer = cfg.recovery ? createNovaRecoverer(cfg.recovery, { log: log.child({ component: 'recovery' }), events: bus }) : null;
  const unfencer = createUnfencer(cfg, log.child({ component: 'auto-unfence' }));
  const monitor = new MonitorDaemon({
    settings: cfg,
    clock: systemClock,
    transport: new UdpTransport(log.child({ component: 'udp' }), systemClock.now),
    store: new FileStateStore(cfg.stateDir),
    bus,
    log,
    ...(fencing ? { fencer: fencing.fencer } : {}),
    ...(recoverer ? { recoverer } : {}),
    ...(unfencer ? { unfencer } : {}),
    edgeStatus: () => {
      const n = notifier?.status();
      return { alarms: n ? notificationAlarms(n) : [], sections: n ? { notifications: n } : {} };
    },
  });
  await monitor.start();
  const control = new ControlServer(cfg.controlSocket, monitor, log.child({ component: 'control' }));
  await control.start();
  // HTTP endpoints, then READY=1 only now that every socket is bound.
  const endpoints = await ops.start(
    () => monitor.snapshot(),
    () => {
      // The notifier's status in the shape the metrics take (published = confirmed + still queued).
      const n = notifier?.status();
      return n ? { published: n.confirmed + n.backlog, confirmed: n.confirmed, outboxDepth: n.backlog, connected: n.broker.connected } : null;
    },
  );
  const sd = new SystemdNotifier(log.child({ component: 'systemd' }));
  log.info({ controlSocket: cfg.controlSocket, ...endpoints }, 'monitor ready');
  // Signal handlers first: a SIGTERM right after READY=1 must find them in place.
  const stopped = runUntilSignal({
    log,
    notifier: sd,
    busy: () => monitor.inflightCount(),
    stop: async () => {
      ops.stop();
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

export async function beaconCommand(args: string[]): Promise<number> {
  const { values } = parse(args, { config: { type: 'string', short: 'c' } });
  if (!values.config) throw new UsageError('usage: instance-ha beacon --config /etc/instance-ha/beacon.yaml');
  const cfg = loadConfig(values.config, readBeaconConfig);
  const log = createLogger({ level: level(cfg.logLevel), base: { host: cfg.host } });
  const beaconLog = log.child({ component: 'beacon' });
  const beacon = new Beacon({
    settings: cfg,
    clock: systemClock,
    transport: new UdpTransport(beaconLog.child({ component: 'udp' }), systemClock.now),
    health: new HealthCheck(cfg.health, beaconLog.child({ component: 'health' })),
    log: beaconLog,
  });
  beacon.start();
  // The beacon serves once its first heartbeats are sent (start() sends one at once).
  const sd = new SystemdNotifier(log.child({ component: 'systemd' }));
  const stopped = runUntilSignal({ log, notifier: sd, stop: () => beacon.stop() });
  await sd.ready(`sending heartbeats to ${cfg.monitors.length} monitors`);
  sd.startWatchdog();
  return stopped;
}
