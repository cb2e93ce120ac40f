import { parseArgs } from 'node:util';
import { loadConfig, parseConfig } from '../../config/load.js';
import { readMonitorConfig } from '../../daemon/monitor-config.js';
import { parseDurationMs } from '../../config/reader.js';
import type { Logger } from '../../log.js';
import { readNotificationsConfig, type NotificationsConfig } from '../../notify/config.js';
import { formatLine, publisherMatcher, typeMatcher } from '../../notify/events-format.js';
import { tapNotifications } from '../../notify/tap.js';
import type { Io } from '../command.js';
import { humanLogger } from '../human-log.js';

const USAGE = `Usage: instance-ha events [--follow] [--json] [--type PATTERN] [--from MONITOR] [--idle DURATION]
  --follow, -f     keep printing until interrupted
  --json           one JSON object (the oslo message) per line
  --type PATTERN   only event types matching PATTERN ('*' wildcard), e.g. 'instance.*' or instance_ha.host.failed
  --from MONITOR   only events published by this monitor ('*' wildcard, e.g. 'ctl*'); each line says from=MONITOR
  --idle DURATION  without --follow, exit after this long without a notification (default 2s)
`;

export const EVENTS_HELP = `${USAGE.trim()}

The broker and exchange come from --config FILE (a monitor configuration's notifications section),
else amqp://guest@127.0.0.1:5672/, exchange openstack.

Example:
  instance-ha events --follow --type 'instance_ha.host.*' --config /etc/instance-ha/monitor.yaml`;

const DEFAULT_IDLE_MS = 2000;

/**
 * `instance-ha events [--config monitor.yaml] [--follow] [--json] [--type PATTERN]`: the broker and
 * exchange come from the monitor config's notifications section (defaults otherwise: guest on
 * 127.0.0.1, exchange `openstack`). SIGINT/SIGTERM end a --follow run.
 */
export async function runEventsCommand(args: string[], io: Io): Promise<number> {
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
  const log = humanLogger();
  return printEvents(rest, { out: io.out, err: io.err, log, config, signal: ctl.signal });
}

export interface PrintEventsDeps extends Pick<Io, 'out' | 'err'> {
  log: Logger;
  config: NotificationsConfig;
  /** Stops a --follow run. */
  signal?: AbortSignal;
  /** Called once the queue is bound: notifications published from now on are shown. */
  onReady?: () => void;
}

/**
 * argv after `events` (the --config pair removed): prints each instance-ha notification as one line
 * (time, priority, type, host, server, outcome) or, with --json, as the inner oslo message, one JSON
 * object per line. Without --follow it ends after `--idle` (default 2s) without a new notification.
 * Exit 0 done, 1 broker problem, 64 bad usage.
 */
export async function printEvents(argv: string[], deps: PrintEventsDeps): Promise<number> {
  let opts: { follow: boolean; json: boolean; type?: string; from?: string; idleMs: number };
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        follow: { type: 'boolean', short: 'f', default: false },
        json: { type: 'boolean', default: false },
        type: { type: 'string' },
        from: { type: 'string' },
        idle: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      deps.out(USAGE.trimEnd());
      return 0;
    }
    const idleMs = values.idle === undefined ? DEFAULT_IDLE_MS : parseDurationMs(values.idle);
    if (idleMs === undefined) throw new Error(`--idle: not a duration: ${values.idle}`);
    opts = { follow: values.follow, json: values.json, type: values.type, from: values.from, idleMs };
  } catch (err) {
    deps.err(`${(err as Error).message}\n${USAGE.trimEnd()}`);
    return 64;
  }

  const matches = typeMatcher(opts.type);
  const fromMatches = publisherMatcher(opts.from);
  const end = await tapNotifications(
    deps.config,
    (n) => {
      if (matches(n.event_type) && fromMatches(n)) deps.out(opts.json ? JSON.stringify(n) : formatLine(n));
    },
    { follow: opts.follow, idleMs: opts.idleMs, log: deps.log, signal: deps.signal, onReady: deps.onReady },
  );
  if (end.ok) return 0;
  if (end.stage === 'connect') deps.err(`cannot connect to ${end.url}: ${end.message}`);
  else if (end.stage === 'lost') deps.err(`events: connection lost: ${end.message}`);
  else deps.err(`events: ${end.message}`);
  return 1;
}
