import type { FenceRecord } from '../core/events.js';
import type { ClearRequest, ForgetRequest, HostDecision, HostVerdict, LeftMark, MaintenanceMark } from '../core/messages.js';
import { DECISION_STATE_SET } from '../core/vocabulary.js';

/**
 * The monitor-to-monitor protocol, version 2.1 (2.1 added the view entries 6 left, 7 decision version
 * and 8 named decision): bodies of two sealed datagram kinds (codec.ts seals them, like beacons, with
 * the 5-byte "IHA" header and a 32-byte HMAC).
 *
 * Kind 3, the header: liveness and vote, fixed size but for the monitor ids, sent every beat.
 *   major u8 | minor u8 | bootId [16] | seq u32 | sentAtMs f64 | epoch f64 | flags u8 (1 acting, 2 paused)
 *   | from str8 | vote str8 (empty: none) | hears u8 (how many) | listed u8 | that many str8 (as many as fit)
 *   | view version u32 | view pages u16 | verdicts u32 | decisions u32 | maintenance u32 | clears u32
 * Kind 4, a page of the per-host view (verdicts, decisions, maintenance marks, clears) of one version:
 *   major u8 | minor u8 | bootId [16] | version u32 | index u16 | count u16 | from str8 | entries…
 *   entry: kind u8 | length u16 | body (kinds below); an unknown kind is skipped by its length.
 *   Kind 6 (added in 2.1 with the beacon's leaving; older monitors skip it): a host that left cleanly,
 *   bootId id8 | seq u32 | sentAtMs f64 | host str8.
 *   Kind 8 (2.1): a decision whose state has no number in kind 2 (recovery_failed), named instead.
 *
 * str8 is a length byte and that many UTF-8 bytes (≤ 255). Decoders read the fields they know and
 * ignore what follows, so a minor version may append fields; a different major is dropped.
 */
export const PROTOCOL_MAJOR = 2;
export const PROTOCOL_MINOR = 1;

/** No monitor datagram is larger: one unfragmented UDP datagram on a 1,500-byte path MTU. */
export const MONITOR_DATAGRAM_BYTES = 1400;
/** "IHA", version, kind before the body and the HMAC after it (codec.ts). */
export const SEAL_OVERHEAD_BYTES = 5 + 32;
/** Monitor ids are ≤ 63 bytes (monitor-config.ts); a page header with the longest is this large. */
const PAGE_HEADER_MAX = 2 + 16 + 4 + 2 + 2 + 1 + 63;
/** Room for entries in one page, whatever the sender's id. */
export const PAGE_CAPACITY_BYTES = MONITOR_DATAGRAM_BYTES - SEAL_OVERHEAD_BYTES - PAGE_HEADER_MAX;
/** A view of more pages is cut (and the sender alarms); 8,192 pages hold 200,000 verdicts of 25-byte names. */
export const MAX_VIEW_PAGES = 8192;
/** A decision's fence record is trimmed to this much JSON, so the largest entry fits a page. */
export const FENCE_JSON_MAX = 700;

const ENTRY_VERDICT = 1;
const ENTRY_DECISION = 2;
const ENTRY_MAINTENANCE = 3;
const ENTRY_CLEAR = 4;
const ENTRY_FORGET = 5;
const ENTRY_LEFT = 6;
/** Protocol 2.1: the decisions' version within the epoch (f64); a 2.0 decoder skips it by its length. */
const ENTRY_DECISION_SEQ = 7;
/**
 * Protocol 2.1: a decision whose state has no number in DECISION_STATES (today `recovery_failed`),
 * with the state by name: state str8 | the decision entry's body after its state byte. A new number
 * in the kind-2 entry would make an older decoder refuse the whole page (it rejects an unknown state
 * byte); a kind of its own is skipped by it instead, and a decoder that does not know the name skips
 * the entry, never the page.
 */
const ENTRY_DECISION_NAMED = 8;
/** The numbered states of the kind-2 entry; fixed since 2.0 (a rename keeps its number). */
const DECISION_STATES: readonly HostDecision['state'][] = ['failed', 'fencing', 'fenced', 'fence_failed', 'recovering', 'evacuated'];
/** A boot id of 32 hex characters travels as its 16 bytes, flagged by this length byte. */
const HEX16 = 0xff;

/** The per-host part of a monitor beat: what travels in pages. */
export interface PeerView {
  verdicts: HostVerdict[];
  decisions: HostDecision[];
  maintenance: MaintenanceMark[];
  clears: ClearRequest[];
  /** At most FORGETS_PER_BEAT (8) forget requests travelling to the other monitors. */
  forgets: ForgetRequest[];
  /** Hosts that left cleanly, as the sender holds them (see LeftMark). */
  left: LeftMark[];
  /** The decisions' version within the epoch; absent from a 2.0 monitor's view. */
  decisionSeq?: number;
}

export interface ViewSummary {
  version: number;
  pages: number;
  verdicts: number;
  decisions: number;
  maintenance: number;
  clears: number;
}

export interface MonitorHeader {
  from: string;
  bootId: string;
  seq: number;
  sentAtMs: number;
  hears: string[];
  vote: string | null;
  acting: boolean;
  epoch: number;
  paused: boolean;
  view: ViewSummary;
}

export interface ViewPage {
  from: string;
  bootId: string;
  version: number;
  index: number;
  count: number;
  view: PeerView;
}

export function emptyView(): PeerView {
  return { verdicts: [], decisions: [], maintenance: [], clears: [], forgets: [], left: [] };
}

// ---------------------------------------------------------------- writing

/** Bytes of a string cut to at most `max` bytes on a character boundary. */
function utf8Max(s: string, max = 255): Buffer {
  const b = Buffer.from(s, 'utf8');
  if (b.length <= max) return b;
  let end = max;
  while (end > 0 && (b[end]! & 0xc0) === 0x80) end--;
  return b.subarray(0, end);
}

function str8(s: string): Buffer {
  const b = utf8Max(s);
  return Buffer.concat([Buffer.from([b.length]), b]);
}

function id8(id: string): Buffer {
  if (/^[0-9a-f]{32}$/.test(id)) return Buffer.concat([Buffer.from([HEX16]), Buffer.from(id, 'hex')]);
  const b = utf8Max(id, 254);
  return Buffer.concat([Buffer.from([b.length]), b]);
}

function f64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeDoubleBE(n);
  return b;
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(Math.max(0, Math.min(65_535, Math.round(n))));
  return b;
}

function entry(kind: number, body: Buffer): Buffer {
  const head = Buffer.alloc(3);
  head.writeUInt8(kind, 0);
  head.writeUInt16BE(body.length, 1);
  return Buffer.concat([head, body]);
}

/** Host names over 255 bytes cannot come from a beacon (its format holds 255); such an entry is refused. */
function hostOk(host: string): boolean {
  const n = Buffer.byteLength(host, 'utf8');
  return n > 0 && n <= 255;
}

export function encodeVerdict(v: HostVerdict): Buffer | null {
  if (!hostOk(v.host)) return null;
  return entry(ENTRY_VERDICT, Buffer.concat([Buffer.from([v.level === 'dead' ? 2 : 1]), str8(v.host), id8(v.bootId)]));
}

export function encodeDecision(d: HostDecision): Buffer | null {
  if (!hostOk(d.host)) return null;
  const state = DECISION_STATES.indexOf(d.state);
  const fence = d.fence ? fenceJson(d.fence) : Buffer.alloc(0);
  const rest = Buffer.concat([str8(d.host), id8(d.bootId), f64(d.sinceMs), u16(d.fenceAttempts), u16(fence.length), fence]);
  if (state >= 0) return entry(ENTRY_DECISION, Buffer.concat([Buffer.from([state]), rest]));
  if (!Object.hasOwn(DECISION_STATE_SET, d.state)) return null;
  return entry(ENTRY_DECISION_NAMED, Buffer.concat([str8(d.state), rest]));
}

export function encodeMaintenance(m: MaintenanceMark): Buffer | null {
  if (!hostOk(m.host)) return null;
  return entry(ENTRY_MAINTENANCE, Buffer.concat([Buffer.from([m.on ? 1 : 0]), f64(m.atMs), str8(m.host), str8(m.by)]));
}

export function encodeClear(c: ClearRequest): Buffer | null {
  if (!hostOk(c.host)) return null;
  return entry(ENTRY_CLEAR, Buffer.concat([f64(c.atMs), str8(c.host), str8(c.by)]));
}

/** Same layout as a clear, its own kind (added in 2.0 with `instance-ha forget`). */
export function encodeForget(f: ForgetRequest): Buffer | null {
  if (!hostOk(f.host)) return null;
  return entry(ENTRY_FORGET, Buffer.concat([f64(f.atMs), str8(f.host), str8(f.by)]));
}

/** A host that left cleanly: its boot id and the leaving's sequence number bind it to that boot. */
export function encodeLeft(l: LeftMark): Buffer | null {
  if (!hostOk(l.host)) return null;
  const seq = Buffer.alloc(4);
  seq.writeUInt32BE(l.seq >>> 0);
  return entry(ENTRY_LEFT, Buffer.concat([id8(l.bootId), seq, f64(l.sentAtMs), str8(l.host)]));
}

/** Protocol 2.1: the decisions' version within the epoch, one entry per view. */
export function encodeDecisionSeq(n: number): Buffer {
  return entry(ENTRY_DECISION_SEQ, f64(n));
}

/**
 * The fence record as JSON of at most FENCE_JSON_MAX bytes: the oldest attempts go first, then the
 * details; what always stays is whether it worked, at which level, how long it took and who ran it.
 */
export function fenceJson(f: FenceRecord): Buffer {
  const record: FenceRecord = { ...f, ...(f.error !== undefined ? { error: f.error.slice(0, 200) } : {}), attempts: [...f.attempts] };
  let out = Buffer.from(JSON.stringify(record), 'utf8');
  while (out.length > FENCE_JSON_MAX && record.attempts.length > 0) {
    record.attempts.shift();
    out = Buffer.from(JSON.stringify(record), 'utf8');
  }
  if (out.length <= FENCE_JSON_MAX) return out;
  const minimal: FenceRecord = {
    ok: f.ok,
    ...(f.level !== undefined ? { level: f.level } : {}),
    durationMs: f.durationMs,
    attempts: [],
    by: f.by.slice(0, 63),
  };
  return Buffer.from(JSON.stringify(minimal), 'utf8');
}

export function encodeHeaderBody(h: MonitorHeader, bootIdBytes: Buffer): Buffer {
  const fixed = Buffer.alloc(2 + 16 + 4 + 8 + 8 + 1);
  fixed.writeUInt8(PROTOCOL_MAJOR, 0);
  fixed.writeUInt8(PROTOCOL_MINOR, 1);
  bootIdBytes.copy(fixed, 2);
  fixed.writeUInt32BE(h.seq >>> 0, 18);
  fixed.writeDoubleBE(h.sentAtMs, 22);
  fixed.writeDoubleBE(h.epoch, 30);
  fixed.writeUInt8((h.acting ? 1 : 0) | (h.paused ? 2 : 0), 38);
  const tail = Buffer.alloc(4 + 2 + 16);
  tail.writeUInt32BE(h.view.version >>> 0, 0);
  tail.writeUInt16BE(Math.min(65_535, h.view.pages), 4);
  tail.writeUInt32BE(h.view.verdicts >>> 0, 6);
  tail.writeUInt32BE(h.view.decisions >>> 0, 10);
  tail.writeUInt32BE(h.view.maintenance >>> 0, 14);
  tail.writeUInt32BE(h.view.clears >>> 0, 18);
  const head = [fixed, str8(h.from), str8(h.vote ?? '')];
  // Only the count matters to quorum; ids that would not fit (more than 15 monitors of 63-byte ids) are left out.
  const room = MONITOR_DATAGRAM_BYTES - SEAL_OVERHEAD_BYTES - tail.length - 2 - head.reduce((a, b) => a + b.length, 0);
  const hears: Buffer[] = [];
  let used = 0;
  for (const m of h.hears) {
    const b = str8(m);
    if (used + b.length > room) break;
    hears.push(b);
    used += b.length;
  }
  return Buffer.concat([...head, Buffer.from([Math.min(255, h.hears.length), hears.length]), ...hears, tail]);
}

export function encodePageBody(
  p: { from: string; bootIdBytes: Buffer; version: number; index: number; count: number },
  entries: readonly Buffer[],
): Buffer {
  const fixed = Buffer.alloc(2 + 16 + 4 + 2 + 2);
  fixed.writeUInt8(PROTOCOL_MAJOR, 0);
  fixed.writeUInt8(PROTOCOL_MINOR, 1);
  p.bootIdBytes.copy(fixed, 2);
  fixed.writeUInt32BE(p.version >>> 0, 18);
  fixed.writeUInt16BE(p.index, 22);
  fixed.writeUInt16BE(p.count, 24);
  return Buffer.concat([fixed, str8(p.from), ...entries]);
}

// ---------------------------------------------------------------- reading

/** A bounds-checked reader: any read past the end throws, and the caller turns that into `malformed`. */
class Reader {
  at = 0;
  constructor(private readonly b: Buffer) {}
  private need(n: number): number {
    const at = this.at;
    if (at + n > this.b.length) throw new RangeError('truncated');
    this.at += n;
    return at;
  }
  u8(): number {
    return this.b.readUInt8(this.need(1));
  }
  u16(): number {
    return this.b.readUInt16BE(this.need(2));
  }
  u32(): number {
    return this.b.readUInt32BE(this.need(4));
  }
  f64(): number {
    const v = this.b.readDoubleBE(this.need(8));
    if (!Number.isFinite(v)) throw new RangeError('not finite');
    return v;
  }
  bytes(n: number): Buffer {
    const at = this.need(n);
    return this.b.subarray(at, at + n);
  }
  str8(): string {
    return this.bytes(this.u8()).toString('utf8');
  }
  id8(): string {
    const n = this.u8();
    return n === HEX16 ? this.bytes(16).toString('hex') : this.bytes(n).toString('utf8');
  }
  get left(): number {
    return this.b.length - this.at;
  }
}

/** Throws on a malformed body (codec.ts catches); never on a well-formed one from a newer minor. */
export function decodeHeaderBody(body: Buffer): MonitorHeader | null {
  const r = new Reader(body);
  if (r.u8() !== PROTOCOL_MAJOR) return null;
  r.u8();
  const bootId = r.bytes(16).toString('hex');
  const seq = r.u32();
  const sentAtMs = r.f64();
  const epoch = r.f64();
  const flags = r.u8();
  const from = r.str8();
  const vote = r.str8();
  const count = r.u8();
  const listed = r.u8();
  const hears: string[] = [];
  for (let i = 0; i < listed; i++) hears.push(r.str8());
  // Ids left out by the sender (too many to fit) still count: placeholders keep the number right.
  for (let i = hears.length; i < count; i++) hears.push(`(unlisted ${i})`);
  const view: ViewSummary = {
    version: r.u32(),
    pages: r.u16(),
    verdicts: r.u32(),
    decisions: r.u32(),
    maintenance: r.u32(),
    clears: r.u32(),
  };
  if (!from || view.pages > MAX_VIEW_PAGES) return null;
  return { from, bootId, seq, sentAtMs, hears, vote: vote || null, acting: (flags & 1) !== 0, epoch, paused: (flags & 2) !== 0, view };
}

export function decodePageBody(body: Buffer): ViewPage | null {
  const r = new Reader(body);
  if (r.u8() !== PROTOCOL_MAJOR) return null;
  r.u8();
  const bootId = r.bytes(16).toString('hex');
  const version = r.u32();
  const index = r.u16();
  const count = r.u16();
  const from = r.str8();
  if (!from || count === 0 || count > MAX_VIEW_PAGES || index >= count) return null;
  const view = emptyView();
  while (r.left > 0) {
    const kind = r.u8();
    const e = new Reader(r.bytes(r.u16()));
    switch (kind) {
      case ENTRY_VERDICT: {
        const level = e.u8();
        if (level !== 1 && level !== 2) return null;
        view.verdicts.push({ level: level === 2 ? 'dead' : 'suspect', host: e.str8(), bootId: e.id8() });
        break;
      }
      case ENTRY_DECISION: {
        const state = DECISION_STATES[e.u8()];
        if (!state) return null;
        const d = decisionBody(e, state);
        if (!d) return null;
        view.decisions.push(d);
        break;
      }
      case ENTRY_DECISION_NAMED: {
        const name = e.str8();
        // A state named by a later minor: this entry is skipped, the rest of the page still counts.
        if (!Object.hasOwn(DECISION_STATE_SET, name)) break;
        const d = decisionBody(e, name as HostDecision['state']);
        if (!d) return null;
        view.decisions.push(d);
        break;
      }
      case ENTRY_MAINTENANCE: {
        const on = e.u8() === 1;
        const atMs = e.f64();
        view.maintenance.push({ on, atMs, host: e.str8(), by: e.str8() });
        break;
      }
      case ENTRY_CLEAR: {
        const atMs = e.f64();
        view.clears.push({ atMs, host: e.str8(), by: e.str8() });
        break;
      }
      case ENTRY_FORGET: {
        const atMs = e.f64();
        view.forgets.push({ atMs, host: e.str8(), by: e.str8() });
        break;
      }
      case ENTRY_LEFT: {
        const bootId = e.id8();
        const seq = e.u32();
        const sentAtMs = e.f64();
        const host = e.str8();
        if (!host) return null;
        view.left.push({ host, bootId, seq, sentAtMs });
        break;
      }
      case ENTRY_DECISION_SEQ: {
        const n = e.f64();
        if (!Number.isSafeInteger(n) || n < 0) return null;
        view.decisionSeq = n;
        break;
      }
      default:
        // A newer minor's entry kind: skipped, its length already consumed.
        break;
    }
  }
  return { from, bootId, version, index, count, view };
}

/** Structural check of a fence record: an authenticated peer is trusted, but its bug must not crash us. */
function parseFence(b: Buffer): FenceRecord | null {
  const v: unknown = JSON.parse(b.toString('utf8'));
  if (typeof v !== 'object' || v === null) return null;
  const f = v as Record<string, unknown>;
  const ok =
    typeof f.ok === 'boolean' &&
    typeof f.durationMs === 'number' &&
    typeof f.by === 'string' &&
    Array.isArray(f.attempts) &&
    f.attempts.every((a) => typeof a === 'object' && a !== null);
  return ok ? (v as FenceRecord) : null;
}

/** The decision entry's fields after its state (kinds 2 and 8); null when the fence record is bad. */
function decisionBody(e: Reader, state: HostDecision['state']): HostDecision | null {
  const host = e.str8();
  const bootId = e.id8();
  const sinceMs = e.f64();
  const fenceAttempts = e.u16();
  const fenceBytes = e.bytes(e.u16());
  const fence = fenceBytes.length > 0 ? parseFence(fenceBytes) : undefined;
  if (fence === null) return null;
  return { host, state, bootId, sinceMs, fenceAttempts, ...(fence ? { fence } : {}) };
}
