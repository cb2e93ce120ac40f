import { parseArgs } from 'node:util';
import type amqp from 'amqplib';
import { parseDurationMs } from '../config/reader.js';
import type { Logger } from '../log.js';
import { redactUrl, type NotificationsConfig } from './config.js';
import { connectBroker, passwordOf, safeMessage } from './connection.js';
import { decodeEnvelope, type OsloNotification } from './envelope.js';
import { formatLine, typeMatcher } from './events-format.js';

/**
 * `instance-ha events [--follow] [--json] [--type PATTERN] [--idle DURATION]`
 *
 * A live tap on the bus: binds its own exclusive, auto-delete queue to the exchange for
 * `<topic>.*` and prints each instance-ha notification as one line (time, priority, type, host,
 * server, outcome) or, with --json, as the inner oslo message, one JSON object per line.
 * It never reads the shared `<topic>.<priority>` queues, so it takes nothing away from other
 * consumers, and shows only what is published while it runs.
 * Without --follow it exits 0 after `--idle` (default 2s) without a new notification.
 */
export const EVENTS_USAGE = `usage: instance-ha events [--follow] [--json] [--type PATTERN] [--idle DURATION]
  --follow, -f     keep printing until interrupted
  --json           one JSON object (the oslo message) per line
  --type PATTERN   only event types matching PATTERN ('*' wildcard), e.g. 'instance.*' or instance_ha.host.failed
  --idle DURATION  without --follow, exit after this long without a notification (default 2s)
`;

export const DEFAULT_IDLE_MS = 2000;

export interface EventsCommandIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  log: Logger;
  config: NotificationsConfig;
  /** Stops a --follow run (the CLI wires SIGINT/SIGTERM to it). */
  signal?: AbortSignal;
  /** Called once the queue is bound: notifications published from now on are shown. */
  onReady?: () => void;
}

/** Returns the process exit code: 0 done, 1 broker problem, 2 bad usage. */
export async function runEventsCommand(argv: string[], io: EventsCommandIo): Promise<number> {
  let opts: { follow: boolean; json: boolean; type?: string; idleMs: number };
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        follow: { type: 'boolean', short: 'f', default: false },
        json: { type: 'boolean', default: false },
        type: { type: 'string' },
        idle: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      io.stdout.write(EVENTS_USAGE);
      return 0;
    }
    const idleMs = values.idle === undefined ? DEFAULT_IDLE_MS : parseDurationMs(values.idle);
    if (idleMs === undefined) throw new Error(`--idle: not a duration: ${values.idle}`);
    opts = { follow: values.follow, json: values.json, type: values.type, idleMs };
  } catch (err) {
    io.stderr.write(`${(err as Error).message}\n${EVENTS_USAGE}`);
    return 2;
  }

  const c = io.config;
  const matches = typeMatcher(opts.type);
  let conn: amqp.ChannelModel;
  try {
    conn = await connectBroker(c, 'instance-ha events');
  } catch (err) {
    io.stderr.write(`cannot connect to ${redactUrl(c.url)}: ${safeMessage(err, passwordOf(c))}\n`);
    return 1;
  }
  let lost: Error | null = null;
  const finished = new Promise<void>((resolve) => {
    conn.on('error', (err: Error) => (lost = err));
    conn.on('close', () => resolve());
  });
  try {
    const ch = quiet(await conn.createChannel());
    await declareExchange(conn, ch, c);
    const ch2 = quiet(await conn.createChannel()); // the first may have been closed by a 406 in declareExchange
    const { queue } = await ch2.assertQueue('', { exclusive: true, autoDelete: true });
    await ch2.bindQueue(queue, c.exchange, `${c.topic}.*`);
    let idle: NodeJS.Timeout | undefined;
    const armIdle = (): void => {
      if (opts.follow) return;
      clearTimeout(idle);
      idle = setTimeout(() => void conn.close().catch(() => {}), opts.idleMs);
    };
    await ch2.consume(
      queue,
      (msg) => {
        if (!msg) return;
        armIdle();
        const n = decodeEnvelope(msg.content.toString('utf8'));
        if (!n) {
          io.log.debug({ routingKey: msg.fields.routingKey }, 'events: not an oslo notification; skipped');
          return;
        }
        if (!matches(n.event_type)) return;
        io.stdout.write(render(n, opts.json));
      },
      { noAck: true, exclusive: true },
    );
    io.signal?.addEventListener('abort', () => void conn.close().catch(() => {}), { once: true });
    if (io.signal?.aborted) await conn.close().catch(() => {});
    armIdle();
    io.onReady?.();
    await finished;
    clearTimeout(idle);
  } catch (err) {
    io.stderr.write(`events: ${safeMessage(err, passwordOf(c))}\n`);
    await conn.close().catch(() => {});
    return 1;
  }
  if (lost && !io.signal?.aborted) {
    io.stderr.write(`events: connection lost: ${safeMessage(lost, passwordOf(c))}\n`);
    return 1;
  }
  return 0;
}

function render(n: OsloNotification, json: boolean): string {
  return (json ? JSON.stringify(n) : formatLine(n)) + '\n';
}

/** Same declaration as the publisher so the tap works before the first notification; a 406 means it exists. */
async function declareExchange(conn: amqp.ChannelModel, ch: amqp.Channel, c: NotificationsConfig): Promise<void> {
  try {
    await ch.assertExchange(c.exchange, 'topic', { durable: c.durable, autoDelete: false });
  } catch (err) {
    if ((err as { code?: unknown }).code !== 406) throw err;
    const check = quiet(await conn.createChannel());
    await check.checkExchange(c.exchange);
  }
}

/** Channel errors surface as rejected calls; without a listener the 'error' event would crash the CLI. */
function quiet<T extends amqp.Channel>(ch: T): T {
  ch.on('error', () => {});
  return ch;
}
