import { mkdir, open, readFile, rename, appendFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import { StateFileError } from '../errors.js';
import type { Priority } from './envelope.js';
import { decodeRecords, encodeRecord, type PutRecord } from './outbox-codec.js';
import { lockOutbox } from './outbox-lock.js';

/**
 * The durable outbox: every notification is appended and fdatasync'd here before it is sent, and
 * leaves only once the broker confirmed it. One writer loop owns the file; appends that arrive
 * while an fdatasync is running are written together by the next one (group commit), which is
 * what makes thousands of durable notifications per second possible on one disk.
 *
 * Layout: `<dir>/outbox.log`, a sequence of framed records (outbox-codec.ts): `put` (a notification)
 * and `ack` (everything up to seq N confirmed). Acks are not fsync'd: losing one only means a
 * re-send, which at-least-once delivery with a stable message_id allows. When most of the file is
 * confirmed, the live records are rewritten to a new file (tmp + fsync + rename + dir fsync).
 *
 * Full policy: when `maxRecords` or `maxBytes` would be exceeded, the NEW notification is refused
 * (logged at error level with its type and id, counted in `refused`, `full` raised in status).
 * The queued ones, oldest first, are never dropped: they describe the start of the recoveries the
 * later ones continue, and a consumer can't make sense of an `evacuate.end` whose `host.failed` is gone.
 */
export interface OutboxLimits {
  maxRecords: number;
  maxBytes: number;
}

export interface OutboxOptions {
  dir: string;
  limits: OutboxLimits;
  log: Logger;
  /** Compact once the file is at least this big and mostly confirmed records. */
  compactMinBytes?: number;
}

export interface OutboxStats {
  /** Notifications not yet confirmed (durable or still being written). */
  records: number;
  bytes: number;
  full: boolean;
  /** Notifications refused because the outbox was full, since start. */
  refused: number;
  /** Corrupt regions skipped when the file was opened. */
  corruptSkipped: number;
  /** Highest seq known to be on disk. */
  lastDurableSeq: number;
  fileBytes: number;
  /** The disk refuses writes: notifications wait in memory (within the limits above) and are retried every 200 ms. */
  writeFailure: { since: number; error: string; tries: number } | null;
}

export type EnqueueResult = { ok: true; seq: number } | { ok: false; reason: 'full' | 'closed' };

interface Live extends PutRecord {
  frame: Buffer;
}

const FILE = 'outbox.log';
/** The alarm clears only below this fraction of the limits, so it doesn't flap on every confirm. */
const CLEAR_FRACTION = 0.9;

export class Outbox {
  private readonly durable: Live[] = [];
  private readonly writing: Live[] = [];
  /** Taken from `writing` by the writer loop, being written and synced right now. */
  private syncing = 0;
  private pendingAck = 0;
  private liveBytes = 0;
  private nextSeq = 1;
  private lastDurableSeq = 0;
  private fileBytes = 0;
  private full = false;
  private refused = 0;
  private closed = false;
  /** close() called: a write that fails now is not retried forever. */
  private closing = false;
  private drainRun: Promise<void> | null = null;
  private waiters: Array<() => void> = [];
  private writeError: unknown = null;
  private writeFailure: { since: number; error: string; tries: number } | null = null;

  private constructor(
    private fh: FileHandle,
    private readonly opts: OutboxOptions,
    private readonly corruptSkipped: number,
    private readonly unlock: () => Promise<void>,
  ) {}

  /**
   * Opens (or creates) the outbox and loads the unconfirmed notifications, oldest first.
   * Throws OutboxLockedError when another live process has it open.
   */
  static async open(opts: OutboxOptions): Promise<Outbox> {
    await mkdir(opts.dir, { recursive: true, mode: 0o700 });
    const unlock = await lockOutbox(opts.dir);
    try {
      return await Outbox.load(opts, unlock);
    } catch (err) {
      await unlock();
      throw err;
    }
  }

  private static async load(opts: OutboxOptions, unlock: () => Promise<void>): Promise<Outbox> {
    const path = join(opts.dir, FILE);
    let image: Buffer;
    try {
      image = await readFile(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        throw new StateFileError(
          path,
          `cannot be read (${(err as Error).message})`,
          'check its owner and mode (the service user must read it)',
        );
      image = Buffer.alloc(0);
    }
    const { records, corrupt } = decodeRecords(image);
    for (const c of corrupt) {
      opts.log.error({ file: path, offset: c.offset, lengthBytes: c.lengthBytes, reason: c.reason }, 'outbox: corrupt record skipped');
      // Keep the bytes for a post-mortem (best effort); the records after them are loaded normally.
      await appendFile(join(opts.dir, 'outbox.corrupt'), image.subarray(c.offset, c.offset + c.lengthBytes), { mode: 0o600 }).catch(
        (err: unknown) => opts.log.warn({ err }, 'outbox: could not keep the corrupt bytes'),
      );
    }
    let acked = 0;
    let maxSeq = 0;
    for (const r of records) {
      maxSeq = Math.max(maxSeq, r.entry.seq);
      if (r.entry.kind === 'ack') acked = Math.max(acked, r.entry.seq);
    }
    const fh = await open(path, 'a', 0o600);
    const box = new Outbox(fh, opts, corrupt.length, unlock);
    box.nextSeq = maxSeq + 1;
    box.lastDurableSeq = maxSeq;
    box.fileBytes = image.length;
    for (const r of records) {
      if (r.entry.kind !== 'put' || r.entry.seq <= acked) continue;
      const frame = image.subarray(r.offset, r.offset + r.lengthBytes);
      box.durable.push({ ...r.entry, frame });
      box.liveBytes += frame.length;
    }
    // Replay set is loaded; rewrite the file so it no longer carries confirmed or corrupt bytes.
    if (corrupt.length > 0 || box.liveBytes < image.length) {
      try {
        await box.compact();
      } catch (err) {
        // A full disk must not keep the monitor from starting: the old file still holds every record;
        // the writer compacts later. Shown as outbox_write_failed until a write succeeds.
        opts.log.error({ err }, 'outbox: could not compact at open; continuing with the file as it is');
        box.writeFailure = { since: Date.now(), error: err instanceof Error ? err.message : String(err), tries: 1 };
      }
    }
    if (box.durable.length > 0) opts.log.info({ records: box.durable.length }, 'outbox: replaying unconfirmed notifications');
    return box;
  }

  /** Queues a notification for the disk; it becomes sendable once fdatasync'd. Never throws. */
  enqueue(n: { id: string; priority: Priority; body: string }): EnqueueResult {
    if (this.closed) return { ok: false, reason: 'closed' };
    const seq = this.nextSeq;
    const frame = encodeRecord({ kind: 'put', seq, ...n });
    const { maxRecords, maxBytes } = this.opts.limits;
    const count = this.pendingCount();
    if (count + 1 > maxRecords || this.liveBytes + frame.length > maxBytes) {
      this.refused++;
      if (!this.full) {
        this.full = true;
        this.opts.log.error(
          { records: count, bytes: this.liveBytes, maxRecords, maxBytes },
          'outbox full: refusing new notifications until the broker confirms some',
        );
      }
      return { ok: false, reason: 'full' };
    }
    this.nextSeq++;
    this.writing.push({ kind: 'put', seq, ...n, frame });
    this.liveBytes += frame.length;
    this.kick();
    return { ok: true, seq };
  }

  /** Up to `max` durable, unconfirmed notifications after `afterSeq` (0: from the oldest), in order. */
  peek(max: number, afterSeq = 0): readonly PutRecord[] {
    let i = 0;
    // Confirmed records are gone from the front, so this skips at most what is in flight.
    while (i < this.durable.length && this.durable[i]!.seq <= afterSeq) i++;
    return this.durable.slice(i, i + max);
  }

  /** The broker confirmed every notification up to and including `seq`. */
  ack(seq: number): void {
    let n = 0;
    while (n < this.durable.length && this.durable[n]!.seq <= seq) {
      this.liveBytes -= this.durable[n]!.frame.length;
      n++;
    }
    if (n === 0) return;
    this.durable.splice(0, n);
    this.pendingAck = Math.max(this.pendingAck, seq);
    const { maxRecords, maxBytes } = this.opts.limits;
    const count = this.pendingCount();
    if (this.full && count < maxRecords * CLEAR_FRACTION && this.liveBytes < maxBytes * CLEAR_FRACTION) {
      this.full = false;
      this.opts.log.warn({ records: count, refused: this.refused }, 'outbox has room again');
    }
    this.kick();
  }

  /** Resolves when a durable notification after `afterSeq` is available (or on close or abort). */
  waitForRecords(afterSeq: number, signal?: AbortSignal): Promise<void> {
    const ready = (): boolean => this.durable.length > 0 && this.durable[this.durable.length - 1]!.seq > afterSeq;
    if (ready() || this.closed || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        signal?.removeEventListener('abort', done);
        resolve();
      };
      this.waiters.push(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** Resolves once everything enqueued so far is on disk (tests, close). */
  async flushed(): Promise<void> {
    while (this.drainRun) await this.drainRun;
  }

  stats(): OutboxStats {
    return {
      records: this.pendingCount(),
      bytes: this.liveBytes,
      full: this.full,
      refused: this.refused,
      corruptSkipped: this.corruptSkipped,
      lastDurableSeq: this.lastDurableSeq,
      fileBytes: this.fileBytes,
      writeFailure: this.writeFailure && { ...this.writeFailure },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closing = true;
    await this.flushed();
    this.closed = true;
    this.wake();
    await this.fh.close();
    await this.unlock();
  }

  private pendingCount(): number {
    return this.durable.length + this.syncing + this.writing.length;
  }

  private kick(): void {
    if (this.drainRun) return;
    this.drainRun = this.drain().finally(() => {
      this.drainRun = null;
      // Work queued during the last write round that the loop did not see.
      if (!this.closed && (this.writing.length > 0 || this.pendingAck > 0)) this.kick();
    });
  }

  /** The single writer: appends, syncs, compacts. Runs until nothing is pending. */
  private async drain(): Promise<void> {
    while (this.writing.length > 0 || this.pendingAck > 0) {
      const batch = this.writing.splice(0);
      this.syncing = batch.length;
      const ackSeq = this.pendingAck;
      this.pendingAck = 0;
      const frames = batch.map((r) => r.frame);
      if (ackSeq > 0) frames.push(encodeRecord({ kind: 'ack', seq: ackSeq }));
      const buf = Buffer.concat(frames);
      try {
        await writeAll(this.fh, buf);
        // Only puts need to reach the disk before we go on; see the class comment for acks.
        if (batch.length > 0) await this.fh.datasync();
        this.fileBytes += buf.length;
        if (this.writeError) this.opts.log.info('outbox: disk writes work again');
        this.writeError = null;
        this.writeFailure = null;
      } catch (err) {
        // Keep them in memory and retry on the next kick: they are not durable, so not sendable.
        if (!this.writeError) this.opts.log.error({ err }, 'outbox: write failed; notifications kept in memory');
        this.writeError = err;
        const f = (this.writeFailure ??= { since: Date.now(), error: '', tries: 0 });
        f.tries++;
        f.error = err instanceof Error ? err.message : String(err);
        this.writing.unshift(...batch);
        this.syncing = 0;
        this.pendingAck = Math.max(this.pendingAck, ackSeq);
        if (this.closing) {
          this.opts.log.error({ records: this.writing.length }, 'outbox: closing with notifications that could not be written');
          return;
        }
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      this.syncing = 0;
      if (batch.length > 0) {
        this.durable.push(...batch);
        this.lastDurableSeq = batch[batch.length - 1]!.seq;
        this.wake();
      }
      if (this.shouldCompact()) await this.compact();
    }
  }

  private shouldCompact(): boolean {
    const min = this.opts.compactMinBytes ?? 4 * 1024 * 1024;
    return this.fileBytes >= min && this.liveBytes * 2 < this.fileBytes;
  }

  /** Rewrites the file with only the durable, unconfirmed records. Caller is the writer loop (or open). */
  private async compact(): Promise<void> {
    const path = join(this.opts.dir, FILE);
    const tmp = `${path}.tmp`;
    const image = Buffer.concat(this.durable.map((r) => r.frame));
    const out = await open(tmp, 'w', 0o600);
    try {
      await writeAll(out, image);
      await out.datasync();
    } finally {
      await out.close();
    }
    await rename(tmp, path);
    await syncDir(this.opts.dir);
    await this.fh.close();
    this.fh = await open(path, 'a', 0o600);
    this.fileBytes = image.length;
  }

  private wake(): void {
    const w = this.waiters.splice(0);
    for (const fn of w) fn();
  }
}

/** write(2) may write less than asked (disk full, signals): loop until all of it is in the file. */
async function writeAll(fh: FileHandle, buf: Buffer): Promise<void> {
  let offset = 0;
  while (offset < buf.length) {
    const { bytesWritten } = await fh.write(buf, offset, buf.length - offset);
    offset += bytesWritten;
  }
}

/** Makes a rename durable: without it a crash can bring the old directory entry back. */
async function syncDir(dir: string): Promise<void> {
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}
