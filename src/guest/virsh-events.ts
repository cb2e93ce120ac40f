/**
 * Parses the lines `LC_ALL=C virsh -r event --all --loop --timestamp` prints (libvirt
 * tools/virsh-domain-event.c), one event a line:
 *   2026-12-01 10:00:01.456+0000: event 'lifecycle' for domain 'instance-0000002a': Crashed Panicked
 *   2026-12-01 10:00:02.789+0000: event 'watchdog' for domain 'instance-0000002a': reset
 * and says which of them are guest failures. Pure and total: any line (an unknown event, a libvirt
 * message, half a line, binary noise) gives null, never an exception.
 */

/** A guest failure as the beacon reports it (the domain still by name; the watcher maps it to the instance UUID). */
export interface GuestFailure {
  /** libvirt's own time of the event (ms since the epoch), from the line's timestamp. */
  atMs: number;
  domain: string;
  /** libvirt's event name: lifecycle, watchdog, io-error, io-error-reason, agent-lifecycle. */
  event: GuestEventName;
  /** The rest of the line, e.g. `Crashed Panicked`, `Suspended Watchdog`, `state: 'disconnected' ...` (bounded). */
  detail: string;
  /** The watchdog's action (reset, poweroff, shutdown, pause, none, dump, inject-nmi), or the io-error action; '' otherwise. */
  action: string;
  /**
   * The guest stayed down after this event (crashed, failed, paused or powered off) rather than being
   * reset by its own watchdog action or carrying on: only such a guest is a candidate for a restart.
   */
  down: boolean;
}

export const GUEST_EVENT_NAMES = ['lifecycle', 'watchdog', 'io-error', 'io-error-reason', 'agent-lifecycle'] as const;
export type GuestEventName = (typeof GUEST_EVENT_NAMES)[number];

/** Bounds on what is carried (the datagram is ≤ 1,400 bytes): longer fields are cut. */
export const MAX_DOMAIN_CHARS = 128;
export const MAX_DETAIL_CHARS = 96;
export const MAX_ACTION_CHARS = 16;
/** Lines longer than this are not events (libvirt's are well under it): ignored whole. */
export const MAX_LINE_CHARS = 4096;

const LINE = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})\.(\d{3})([+-])(\d{2})(\d{2}): event '([a-z-]+)' for domain '(.*)': ?(.*)$/;

/** Watchdog actions after which the guest is not running on its own (libvirt's virDomainEventWatchdogAction). */
const WATCHDOG_DOWN = new Set(['poweroff', 'shutdown', 'pause']);

export function parseVirshEventLine(raw: string): GuestFailure | null {
  if (typeof raw !== 'string' || raw.length > MAX_LINE_CHARS) return null;
  const line = raw.replace(/\r$/, '');
  const m = LINE.exec(line);
  if (!m) return null;
  const [, y, mo, d, h, mi, s, ms, sign, oh, om, event, domain, rest] = m;
  const atMs = Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +s!, +ms!) - (sign === '-' ? -1 : 1) * (+oh! * 60 + +om!) * 60_000;
  if (!Number.isFinite(atMs) || domain!.length === 0) return null;
  const detail = rest!.trim();
  const base = { atMs, domain: domain!.slice(0, MAX_DOMAIN_CHARS), detail: detail.slice(0, MAX_DETAIL_CHARS) };
  switch (event) {
    case 'lifecycle':
      return lifecycle(base, detail);
    case 'watchdog': {
      // "watchdog" events print the action name alone.
      const action = detail.split(/\s+/)[0] ?? '';
      if (!/^[a-z-]{1,16}$/.test(action)) return null;
      return { ...base, event: 'watchdog', action, down: WATCHDOG_DOWN.has(action) };
    }
    case 'io-error':
    case 'io-error-reason': {
      // "<path> (<alias>) <action>" (+ " due to <reason>" for io-error-reason): the action is "pause", "report" or "none".
      const a = /\s(none|pause|report)(?:\s+due to\s+.*)?$/.exec(detail);
      const action = a?.[1] ?? '';
      return { ...base, event, action, down: action === 'pause' };
    }
    case 'agent-lifecycle': {
      // "state: 'disconnected' reason: 'channel event'": the guest agent stopped answering (notify only).
      const st = /state: '([a-z]+)'/.exec(detail)?.[1];
      if (st !== 'disconnected') return null;
      return { ...base, event: 'agent-lifecycle', action: '', down: false };
    }
    default:
      return null;
  }
}

function lifecycle(base: Pick<GuestFailure, 'atMs' | 'domain' | 'detail'>, detail: string): GuestFailure | null {
  const [what, why] = detail.split(/\s+/);
  const f = (down: boolean): GuestFailure => ({ ...base, event: 'lifecycle', action: '', down });
  if (what === 'Crashed') return f(true); // Panicked, Crashloaded
  if (what === 'Stopped' && why === 'Failed') return f(true);
  if (what === 'Suspended' && (why === 'Watchdog' || why === 'IOError')) return f(true);
  // "Stopped Crashed" follows a "Crashed" already reported (on_crash=destroy), Shutdown/Destroyed are
  // wanted stops, the rest are the guest's normal life: none is a failure.
  return null;
}

/** Splits a stream into lines across writes (virsh may print a prefix and its body in two writes); bounded. */
export class LineSplitter {
  private buf = '';
  /** Bytes of an over-long line being skipped. */
  private skipping = false;

  push(chunk: string): string[] {
    const out: string[] = [];
    let rest = chunk;
    for (;;) {
      const nl = rest.indexOf('\n');
      if (nl < 0) break;
      const piece = rest.slice(0, nl);
      rest = rest.slice(nl + 1);
      if (!this.skipping && this.buf.length + piece.length <= MAX_LINE_CHARS) out.push(this.buf + piece);
      this.buf = '';
      this.skipping = false;
    }
    if (this.skipping) return out;
    this.buf += rest;
    if (this.buf.length > MAX_LINE_CHARS) {
      this.buf = '';
      this.skipping = true;
    }
    return out;
  }
}
