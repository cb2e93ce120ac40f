import { crc32 } from 'node:zlib';
import { PRIORITIES, type Priority } from './envelope.js';

/**
 * On-disk record framing of the outbox (pure). Each record:
 *
 *   magic "IHOB" (4 bytes) | length u32 BE | crc32(payload) u32 BE | payload (UTF-8 JSON, `length` bytes)
 *
 * The length and CRC let a reader detect a torn or corrupted record; the magic lets it find the next
 * record boundary again, so one bad record never costs the records written after it.
 */
export const MAGIC = Buffer.from('IHOB', 'latin1');
export const HEADER_BYTES = 12;
/** Far above any notification; a larger length field means the header itself is garbage. */
export const MAX_PAYLOAD_BYTES = 16 * 1024 * 1024;

/** A notification waiting for its broker confirm. */
export interface PutRecord {
  kind: 'put';
  seq: number;
  /** The notification's message_id (stable across re-sends). */
  id: string;
  priority: Priority;
  /** The exact AMQP body. */
  body: string;
}

/** Everything up to and including `seq` was confirmed by the broker. */
export interface AckRecord {
  kind: 'ack';
  seq: number;
}

export type OutboxEntry = PutRecord | AckRecord;

export interface CorruptRegion {
  offset: number;
  lengthBytes: number;
  reason: string;
}

export function encodeRecord(r: OutboxEntry): Buffer {
  const json = r.kind === 'put' ? { k: 'put', seq: r.seq, id: r.id, p: r.priority, body: r.body } : { k: 'ack', seq: r.seq };
  const payload = Buffer.from(JSON.stringify(json), 'utf8');
  const frame = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  MAGIC.copy(frame, 0);
  frame.writeUInt32BE(payload.length, 4);
  frame.writeUInt32BE(crc32(payload), 8);
  payload.copy(frame, HEADER_BYTES);
  return frame;
}

export interface DecodedRecord {
  entry: OutboxEntry;
  offset: number;
  lengthBytes: number;
}

/** Decodes every valid record of a file image, reporting (not throwing on) the regions it skipped. */
export function decodeRecords(buf: Buffer): { records: DecodedRecord[]; corrupt: CorruptRegion[] } {
  const records: DecodedRecord[] = [];
  const corrupt: CorruptRegion[] = [];
  let offset = 0;
  let badStart = -1;
  let badReason = '';
  const closeBad = (end: number): void => {
    if (badStart >= 0) corrupt.push({ offset: badStart, lengthBytes: end - badStart, reason: badReason });
    badStart = -1;
  };
  while (offset < buf.length) {
    const res = tryDecodeAt(buf, offset);
    if (res.ok) {
      closeBad(offset);
      records.push({ entry: res.entry, offset, lengthBytes: res.lengthBytes });
      offset += res.lengthBytes;
      continue;
    }
    if (badStart < 0) {
      badStart = offset;
      badReason = res.reason;
    }
    // Resynchronise on the next magic; a false match inside a payload fails its CRC and we move on.
    const next = buf.indexOf(MAGIC, offset + 1);
    offset = next < 0 ? buf.length : next;
  }
  closeBad(buf.length);
  return { records, corrupt };
}

type Attempt = { ok: true; entry: OutboxEntry; lengthBytes: number } | { ok: false; reason: string };

function tryDecodeAt(buf: Buffer, offset: number): Attempt {
  if (buf.length - offset < HEADER_BYTES) return { ok: false, reason: 'truncated header' };
  if (!buf.subarray(offset, offset + 4).equals(MAGIC)) return { ok: false, reason: 'bad magic' };
  const len = buf.readUInt32BE(offset + 4);
  if (len > MAX_PAYLOAD_BYTES) return { ok: false, reason: `implausible length ${len}` };
  if (buf.length - offset - HEADER_BYTES < len) return { ok: false, reason: 'truncated payload (torn write)' };
  const payload = buf.subarray(offset + HEADER_BYTES, offset + HEADER_BYTES + len);
  if (crc32(payload) !== buf.readUInt32BE(offset + 8)) return { ok: false, reason: 'crc mismatch' };
  const entry = parseEntry(payload.toString('utf8'));
  if (!entry) return { ok: false, reason: 'unparseable payload' };
  return { ok: true, entry, lengthBytes: HEADER_BYTES + len };
}

const KNOWN_PRIORITIES: ReadonlySet<string> = new Set<string>(PRIORITIES);

function parseEntry(text: string): OutboxEntry | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  // A record whose CRC holds but whose fields are wrong is treated as corrupt, never half-read.
  if (typeof o.seq !== 'number' || !Number.isSafeInteger(o.seq) || o.seq < 1) return null;
  if (o.k === 'ack') return { kind: 'ack', seq: o.seq };
  if (o.k === 'put' && typeof o.id === 'string' && KNOWN_PRIORITIES.has(o.p as string) && typeof o.body === 'string') {
    return { kind: 'put', seq: o.seq, id: o.id, priority: o.p as Priority, body: o.body };
  }
  return null;
}
