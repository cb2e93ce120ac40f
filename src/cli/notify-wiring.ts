import type { MonitorConfig } from '../daemon/monitor-config.js';
import { Notifier, type NotifierStatus } from '../notify/index.js';
import { componentLogger, type Logger } from '../log.js';

/** Starts the notifier when notifications are enabled; its alarms go to status. */
export async function startNotifications(cfg: MonitorConfig, log: Logger): Promise<Notifier | null> {
  if (!cfg.notifications?.enabled) return null;
  const notifier = new Notifier({ config: cfg.notifications, monitorHost: cfg.id, log: componentLogger(log, 'notify') });
  await notifier.start();
  return notifier;
}

export function notificationAlarms(s: NotifierStatus): Array<{ kind: string; message: string; since?: string }> {
  const alarms: Array<{ kind: string; message: string; since?: string }> = [];
  if (s.writeFailure)
    alarms.push({
      kind: 'outbox_write_failed',
      message:
        `cannot write the notification outbox (${s.writeFailure.tries} tries): ${s.writeFailure.error}; ` +
        `${s.backlog} notification(s) kept in memory and retried (new ones refused once the outbox limits are reached: outbox_full)`,
      since: new Date(s.writeFailure.since).toISOString(),
    });
  if (s.full)
    alarms.push({
      kind: 'outbox_full',
      message: `notification outbox full: ${s.refused} notification(s) refused; see the log, fix the broker`,
    });
  if (s.corruptSkipped > 0)
    alarms.push({
      kind: 'outbox_corrupt',
      message: `${s.corruptSkipped} corrupt record(s) skipped when the notification outbox was opened (bytes kept in outbox.corrupt beside it)`,
    });
  if (!s.broker.connected)
    alarms.push({
      kind: 'broker_unreachable',
      message: `notification broker ${s.broker.url} unreachable${s.lastError ? `: ${s.lastError}` : ''}; ${s.backlog} waiting in the outbox`,
    });
  else if (s.backlog > 1000) alarms.push({ kind: 'outbox_backlog', message: `${s.backlog} notifications waiting to be confirmed` });
  return alarms;
}
