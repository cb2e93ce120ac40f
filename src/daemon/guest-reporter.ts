import type { GuestReport } from '../guest/guest-watch.js';
import { encodeGuestBody, GUEST_KIND } from '../wire/guest-format.js';
import type { Logger } from '../log.js';
import type { Clock } from './clock.js';

export interface GuestReporterDeps {
  host: string;
  bootId: string;
  clock: Clock;
  /** Seals a body with the host's key in use and sends it to every monitor (Beacon.sendSealed). */
  send: (kind: number, body: Buffer) => void;
  maxEventsPerMinute: number;
  repeats: number;
  log: Logger;
  /** Gap between the repeats of one event. */
  repeatGapMs?: number;
}

/** The Nova instance field of a watch-state message (it is about the host's watch, not a guest). */
export const NO_INSTANCE = '00000000-0000-0000-0000-000000000000';
/** While the libvirt watch is down, the monitors are told again this often (their alarm expires without it). */
const WATCH_DOWN_EVERY_MS = 10_000;

/** Events waiting for their repeats at most (beyond: the oldest repeats are given up, each event was sent once). */
const MAX_PENDING = 64;

/**
 * Forwards the guest failures the libvirt watch reports to the monitors, as sealed kind-7 datagrams
 * (wire/guest-format.ts). Rate-limited per host (a token bucket of `maxEventsPerMinute`): a guest
 * storm cannot crowd out the heartbeats, and what the limit leaves out is counted and carried in the
 * next event sent (`dropped`), so the monitors know some were lost. Each event goes out `repeats`
 * times, `repeatGapMs` apart, with the same sequence number: the monitors keep one.
 */
export class GuestReporter {
  private seq = 0;
  private tokens: number;
  private refilledAt: number;
  private droppedSinceSent = 0;
  private readonly pending: Array<{ body: Buffer; left: number }> = [];
  private cancel: (() => void) | null = null;
  private watchDown: { why: string; sentAt: number } | null = null;
  readonly counters = { reported: 0, sent: 0, dropped: 0, encodeErrors: 0 };

  constructor(private readonly d: GuestReporterDeps) {
    this.tokens = d.maxEventsPerMinute;
    this.refilledAt = d.clock.now();
  }

  start(): void {
    this.cancel = this.d.clock.every(this.d.repeatGapMs ?? 200, () => this.repeat());
  }

  stop(): void {
    this.cancel?.();
    this.cancel = null;
  }

  report(r: GuestReport): void {
    this.counters.reported++;
    if (!this.take()) {
      this.counters.dropped++;
      this.droppedSinceSent++;
      if ((this.counters.dropped & (this.counters.dropped - 1)) === 0)
        this.d.log.warn(
          { dropped: this.counters.dropped, perMinute: this.d.maxEventsPerMinute },
          'guest events over the rate limit: dropped',
        );
      return;
    }
    let body: Buffer;
    try {
      body = encodeGuestBody({
        host: this.d.host,
        bootId: this.d.bootId,
        seq: (this.seq = (this.seq + 1) >>> 0),
        sentAtMs: this.d.clock.wallNow(),
        atMs: r.atMs,
        instance: r.instance,
        down: r.down,
        dropped: this.droppedSinceSent,
        event: r.event,
        action: r.action,
        detail: r.detail,
        domain: r.domain,
      });
    } catch (err) {
      this.counters.encodeErrors++;
      this.d.log.error({ err, domain: r.domain }, 'could not encode a guest event');
      return;
    }
    this.droppedSinceSent = 0;
    this.d.log.warn(
      { instance: r.instance, domain: r.domain, event: r.event, detail: r.detail, action: r.action },
      'guest failure reported',
    );
    this.sendOnce(body);
    if (this.d.repeats > 1) {
      this.pending.push({ body, left: this.d.repeats - 1 });
      if (this.pending.length > MAX_PENDING) this.pending.shift();
    }
  }

  /**
   * The libvirt watch stopped (virsh exited: libvirtd down, virsh missing) or runs again: the monitors
   * raise `guest_watch_down` for this host, because guest failures there are not seen meanwhile.
   * Sent as a guest datagram of event `watch` (not a guest failure), outside the events' rate.
   */
  watchState(running: boolean, why: string): void {
    if (!running) {
      const first = this.watchDown === null;
      this.watchDown = { why, sentAt: this.d.clock.now() };
      if (first) this.sendState(false, why);
      return;
    }
    if (this.watchDown === null) return;
    this.watchDown = null;
    this.sendState(true, why);
  }

  private sendState(running: boolean, why: string): void {
    try {
      const body = encodeGuestBody({
        host: this.d.host,
        bootId: this.d.bootId,
        seq: (this.seq = (this.seq + 1) >>> 0),
        sentAtMs: this.d.clock.wallNow(),
        atMs: this.d.clock.wallNow(),
        instance: NO_INSTANCE,
        down: !running,
        dropped: 0,
        event: 'watch',
        action: running ? 'running' : 'stopped',
        detail: why.slice(0, 200),
        domain: '',
      });
      this.sendOnce(body);
      if (this.d.repeats > 1) this.pending.push({ body, left: this.d.repeats - 1 });
      if (this.pending.length > MAX_PENDING) this.pending.shift();
    } catch (err) {
      this.counters.encodeErrors++;
      this.d.log.error({ err }, 'could not encode the guest watch state');
    }
  }

  private repeat(): void {
    const w = this.watchDown;
    if (w && this.d.clock.now() - w.sentAt >= WATCH_DOWN_EVERY_MS) {
      w.sentAt = this.d.clock.now();
      this.sendState(false, w.why);
    }
    for (const p of this.pending) {
      this.sendOnce(p.body);
      p.left--;
    }
    while (this.pending.length > 0 && this.pending[0]!.left <= 0) this.pending.shift();
  }

  private sendOnce(body: Buffer): void {
    try {
      this.d.send(GUEST_KIND, body);
      this.counters.sent++;
    } catch (err) {
      this.d.log.error({ err }, 'could not send a guest event');
    }
  }

  /** Token bucket: refills `maxEventsPerMinute` per minute, holds at most that many. */
  private take(): boolean {
    const now = this.d.clock.now();
    const per = this.d.maxEventsPerMinute;
    this.tokens = Math.min(per, this.tokens + ((now - this.refilledAt) * per) / 60_000);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
