import { loadConfig, parseConfig } from '../config/load.js';
import { readMonitorConfig, type MonitorConfig } from '../config/monitor-config.js';
import { Notifier, readNotificationsConfig, runEventsCommand, type NotificationsConfig, type NotifierStatus } from '../notify/index.js';
import { createLogger, type Logger } from '../log.js';

/** Starts the notifier when notifications are enabled; its alarms go to status. */
export async function startNotifications(cfg: MonitorConfig, log: Logger): Promise<Notifier | null> {
  if (!cfg.notifications?.enabled) return null;
  const notifier = new Notifier({ config: cfg.notifications, monitorHost: cfg.id, log: log.child({ component: 'notify' }) });
  await notifier.start();
  return notifier;
}

export function notificationAlarms(s: NotifierStatus): Array<{ kind: string; message: string }> {
  const alarms: Array<{ kind: string; message: string }> = [];
  if (s.full) alarms.push({ kind: 'outbox_full', message: `notification outbox full: ${s.refused} notification(s) refused; see the log, fix the broker` });
  if (!s.broker.connected) alarms.push({ kind: 'broker_unreachable', message: `notification broker ${s.broker.url} unreachable${s.lastError ? `: ${s.lastError}` : ''}; ${s.backlog} waiting in the outbox` });
  else if (s.backlog > 1000) alarms.push({ kind: 'outbox_backlog', message: `${s.backlog} notifications waiting to be confirmed` });
  return alarms;
}

/**
 * `instance-ha events [--config monitor.yaml] [--follow] [--json] [--type PATTERN]`: the broker and
 * exchange come from the monitor config's notifications section (defaults otherwise: guest on
 * 127.0.0.1, exchange `openstack`).
 */
export async function eventsCommand(args: string[]): Promise<number> {
  const i = args.findIndex((a) => a === '--config' || a === '-c');
  const file = i >= 0 ? args[i + 1] : undefined;
  const rest = i >= 0 ? args.filter((_, j) => j !== i && j !== i + 1) : args;
  let config: NotificationsConfig;
  if (file) {
    config = loadConfig(file, readMonitorConfig).notifications ?? parseConfig('{}', file, (r) => readNotificationsConfig(r));
  } else {
    config = parseConfig('{}', '(defaults)', (r) => readNotificationsConfig(r));
  }
  const ctl = new AbortController();
  const stop = (): void => ctl.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return runEventsCommand(rest, { stdout: process.stdout, stderr: process.stderr, log: createLogger({ level: 'warn', destination: process.stderr }), config, signal: ctl.signal });
}
