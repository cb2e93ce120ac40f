import { randomUUID } from 'node:crypto';
import type { ClusterEvent } from '../core/events.js';
import type { EventSink } from '../core/ports.js';
import { IllegalStateError } from '../errors.js';
import { componentLogger, type Logger } from '../log.js';
import { redactUrl, type NotificationsConfig } from './config.js';
import { safeMessage, passwordOf } from './connection.js';
import { encodeEnvelope, toNotification } from './envelope.js';
import { Outbox } from './outbox.js';
import type { PutRecord } from './outbox-codec.js';
import { AmqpLink, type BrokerLink } from './publisher.js';

/**
 * The EventSink that puts cluster events on the OpenStack bus: event → notification → outbox
 * (durable) → broker (confirmed) → removed from the outbox. One pump sends the outbox in order;
 * on any failure it reconnects with exponential backoff and re-sends from the oldest unconfirmed
 * notification, so delivery is at-least-once and in order, with a stable message_id per notification.
 */
export interface NotifierDeps {
  config: NotificationsConfig;
  /** This monitor's host name (publisher_id `instance-ha.<host>`). */
  monitorHost: string;
  log: Logger;
  now?: () => number;
  newId?: () => string;
  /** [0,1) for backoff jitter; injected so tests can pin it. */
  random?: () => number;
  /** The broker; an AmqpLink from the config by default. */
  link?: BrokerLink;
}

export type NotifierState = 'new' | 'starting' | 'running' | 'closing' | 'closed';

export interface NotifierStatus {
  state: NotifierState;
  broker: { url: string; exchange: string; connected: boolean };
  /** Notifications not yet confirmed by the broker (on disk or being written). */
  backlog: number;
  backlogBytes: number;
  /** Alarm: the outbox is at its limit and new notifications are being refused. */
  full: boolean;
  refused: number;
  corruptSkipped: number;
  /** Alarm: the outbox file cannot be written (disk full or failing); notifications wait in memory. */
  writeFailure: { since: number; error: string; tries: number } | null;
  confirmed: number;
  lastConfirmedAt: number | null;
  lastError: string | null;
  lastErrorAt: number | null;
}

export class Notifier implements EventSink {
  private state: NotifierState = 'new';
  private outbox: Outbox | null = null;
  /** Events published before start() finished opening the outbox. */
  private early: ClusterEvent[] = [];
  private readonly link: BrokerLink;
  private readonly now: () => number;
  private readonly newId: () => string;
  private readonly random: () => number;
  private readonly log: Logger;
  private readonly stop = new AbortController();
  private pumpRun: Promise<void> | null = null;
  private confirmed = 0;
  private lastConfirmedAt: number | null = null;
  private lastError: string | null = null;
  private lastErrorAt: number | null = null;
  private confirmListeners: Array<(records: readonly PutRecord[]) => void> = [];
  private progressWaiters: Array<() => void> = [];

  constructor(private readonly deps: NotifierDeps) {
    const c = deps.config;
    this.log = componentLogger(deps.log, 'notify');
    this.now = deps.now ?? Date.now;
    this.newId = deps.newId ?? randomUUID;
    this.random = deps.random ?? Math.random;
    this.link = deps.link ?? new AmqpLink({ ...c, log: this.log, connectionName: `instance-ha-notify ${deps.monitorHost}` });
  }

  /**
   * Opens the outbox (replaying what a previous run left unconfirmed) and starts sending. Throws
   * when the outbox can't be opened (permissions, OutboxLockedError); start() may then be retried,
   * and events published meanwhile are kept in memory.
   */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new IllegalStateError(`Notifier already started. Current state: ${this.state}`);
    this.state = 'starting';
    const c = this.deps.config;
    try {
      this.outbox = await Outbox.open({
        dir: c.outbox.dir,
        limits: { maxRecords: c.outbox.maxRecords, maxBytes: c.outbox.maxBytes },
        log: this.log,
      });
    } catch (err) {
      this.state = 'new';
      throw err;
    }
    for (const e of this.early.splice(0)) this.publish(e);
    this.state = 'running';
    this.log.info({ url: redactUrl(c.url), exchange: c.exchange, topic: c.topic }, 'notifications started');
    this.pumpRun = this.pump();
  }

  /** EventSink: never throws, never blocks; the event is durable within one group commit. */
  publish(event: ClusterEvent): void {
    try {
      if (!this.outbox) {
        if (this.state === 'new' || this.state === 'starting') this.early.push(event);
        else this.log.error({ eventType: event.type }, 'notification after close: not sent');
        return;
      }
      const n = toNotification(event, {
        monitorHost: this.deps.monitorHost,
        now: this.now,
        newId: this.newId,
        priorities: this.deps.config.priorities,
      });
      if (!n) return;
      const res = this.outbox.enqueue({ id: n.message_id, priority: n.priority, body: encodeEnvelope(n) });
      if (!res.ok) {
        // Not silent: the refused notification is in the log in full, and counted in status.
        this.log.error({ eventType: n.event_type, messageId: n.message_id, reason: res.reason, notification: n }, 'notification refused');
      }
    } catch (err) {
      this.log.error({ err, eventType: event.type }, 'notification could not be queued');
    }
  }

  status(): NotifierStatus {
    const s = this.outbox?.stats();
    const c = this.deps.config;
    return {
      state: this.state,
      broker: { url: redactUrl(c.url), exchange: c.exchange, connected: this.link.connected },
      backlog: (s?.records ?? 0) + this.early.length,
      backlogBytes: s?.bytes ?? 0,
      full: s?.full ?? false,
      refused: s?.refused ?? 0,
      corruptSkipped: s?.corruptSkipped ?? 0,
      writeFailure: s?.writeFailure ?? null,
      confirmed: this.confirmed,
      lastConfirmedAt: this.lastConfirmedAt,
      lastError: this.lastError,
      lastErrorAt: this.lastErrorAt,
    };
  }

  /** Resolves once every notification published so far is on disk (durable), or at once if not started. */
  async flushed(): Promise<void> {
    await this.outbox?.flushed();
  }

  /** Called with each batch the broker confirmed (bench and tests measure with it). */
  onConfirmed(fn: (records: readonly PutRecord[]) => void): void {
    this.confirmListeners.push(fn);
  }

  /**
   * Stops sending after waiting up to `timeoutMs` for the backlog to be confirmed. What is left
   * stays in the outbox and is sent by the next start. A connect attempt in progress is let run
   * out (at most `connect_timeout` more) so no connection is left behind.
   */
  async close(timeoutMs = this.deps.config.closeTimeoutMs): Promise<{ flushed: boolean; backlog: number }> {
    if (this.state === 'closed' || this.state === 'closing') return { flushed: false, backlog: this.status().backlog };
    const wasRunning = this.state === 'running';
    this.state = 'closing';
    if (wasRunning) {
      const deadline = this.now() + timeoutMs;
      const timer = new Promise<void>((r) => setTimeout(r, timeoutMs).unref());
      while ((this.outbox?.stats().records ?? 0) > 0 && this.now() < deadline) {
        await Promise.race([this.nextProgress(), timer]);
      }
    }
    this.stop.abort();
    await this.link.close();
    await this.pumpRun;
    // The pump may have been half-way through a connect when we closed the link.
    await this.link.close();
    const backlog = this.outbox?.stats().records ?? 0;
    await this.outbox?.close();
    this.state = 'closed';
    if (backlog > 0) this.log.warn({ backlog }, 'notifications left in the outbox; they are sent on next start');
    return { flushed: backlog === 0, backlog };
  }

  /**
   * Sends the outbox in order with up to `maxInFlight` notifications awaiting confirms, in batches
   * of whatever is durable. Confirms are taken in order (the head batch first), so the outbox is
   * acked in order. Any failure drops everything in flight and re-sends from the oldest
   * unconfirmed notification on a new connection, after a backoff.
   */
  private async pump(): Promise<void> {
    const box = this.outbox!;
    const signal = this.stop.signal;
    const maxInFlight = this.deps.config.maxInFlight;
    let failures = 0;
    let inflight: Array<{ records: readonly PutRecord[]; confirmed: Promise<void> }> = [];
    let inflightCount = 0;
    let sentUpTo = 0; // highest seq handed to the current channel
    while (!signal.aborted) {
      try {
        const fresh = inflightCount < maxInFlight ? box.peek(maxInFlight - inflightCount, sentUpTo) : [];
        if (fresh.length > 0) {
          await this.link.ensureConnected();
          const { confirmed } = await this.link.publish(fresh);
          confirmed.catch(() => {}); // observed below, in order; this only marks it handled
          inflight.push({ records: fresh, confirmed });
          inflightCount += fresh.length;
          sentUpTo = fresh[fresh.length - 1]!.seq;
          continue;
        }
        const head = inflight[0];
        if (!head) {
          await box.waitForRecords(sentUpTo, signal);
          continue;
        }
        // No signal here: close() rejects the head's confirm, which ends this wait anyway.
        const more = inflightCount < maxInFlight ? box.waitForRecords(sentUpTo).then(() => false) : null;
        const confirmedNow = await (more ? Promise.race([head.confirmed.then(() => true), more]) : head.confirmed.then(() => true));
        if (!confirmedNow) continue;
        inflight.shift();
        inflightCount -= head.records.length;
        if (failures > 0) this.log.info({ failures }, 'notifications flowing again');
        failures = 0;
        box.ack(head.records[head.records.length - 1]!.seq);
        this.confirmed += head.records.length;
        this.lastConfirmedAt = this.now();
        for (const fn of this.confirmListeners) fn(head.records);
        for (const w of this.progressWaiters.splice(0)) w();
      } catch (err) {
        inflight = [];
        inflightCount = 0;
        sentUpTo = 0;
        if (signal.aborted) break;
        await this.link.close(); // whatever failed, start the next try on a fresh connection
        failures++;
        this.lastError = safeMessage(err, passwordOf(this.deps.config));
        this.lastErrorAt = this.now();
        const waitMs = reconnectDelayMs(failures, this.deps.config.reconnect, this.random);
        this.log.warn(
          { reason: this.lastError, failures, retryInMs: waitMs, backlog: box.stats().records },
          'notification send failed; retrying',
        );
        await sleep(waitMs, signal);
      }
    }
  }

  private nextProgress(): Promise<void> {
    return new Promise((r) => this.progressWaiters.push(r));
  }
}

/** Exponential backoff with ±20 % jitter, capped: attempt 1 → ~initial, doubling up to max. */
export function reconnectDelayMs(attempt: number, o: { initialMs: number; maxMs: number }, random: () => number): number {
  const base = Math.min(o.maxMs, o.initialMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(Math.min(o.maxMs, base * (0.8 + 0.4 * random())));
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
