import { appendFileSync, existsSync, mkdirSync, renameSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import type { ClusterEvent } from '../core/events.js';
import type { EventSink } from '../core/ports.js';
import type { Logger } from '../log.js';
import { scrubSecrets } from './scrub.js';

/** One journal line: an event as the monitor saw it, with a sequence number and the wall time. */
export interface JournalEntry {
  /** Increases by one per event within one monitor process (restarts begin again at 1). */
  seq: number;
  /** Wall-clock time the monitor received the event from its core (ISO 8601). */
  time: string;
  monitor: string;
  event: ClusterEvent;
}

export const HISTORY_FILE = 'history.jsonl';
/**
 * Events kept in memory while the history file cannot be written, retried every second and written
 * in order once it can. Beyond this many, newer events are counted as lost from the file (they are
 * still in memory for /api/events and sent to the other sinks); the alarm then says how many.
 */
export const HISTORY_PENDING_MAX = 10_000;
const RETRY_MS = 1000;

export interface JournalOptions {
  monitorId: string;
  /** The monitor's state_dir; the history is `<stateDir>/history.jsonl`. Null: memory only. */
  stateDir: string | null;
  log: Logger;
  /** Rotate to history.jsonl.1 beyond this size, so the state dir cannot fill the disk. */
  maxBytes?: number;
  /** How many recent events stay in memory for /api/events. */
  keep?: number;
  wallNow?: () => number;
  /** Bound of the in-memory backlog while the file cannot be written (tests shrink it). */
  pendingMax?: number;
}

/** Why the history file is behind, for the `history_write_failed` alarm. */
export interface HistoryWriteFailure {
  since: number;
  error: string;
  tries: number;
  /** Events waiting in memory to be written. */
  pending: number;
  /** Events that will never reach the file (the backlog was full). */
  lost: number;
}

/**
 * An EventSink that numbers every event, keeps the recent ones in memory for live readers (long
 * poll), and appends each to an append-only JSON-lines history in the state dir: the full journal of
 * the monitor's decisions that `instance-ha history` prints, surviving restarts.
 */
export class EventJournal implements EventSink {
  private readonly recent: JournalEntry[] = [];
  private readonly waiters = new Set<() => void>();
  private seq = 0;
  private size = 0;
  private readonly keep: number;
  private readonly maxBytes: number;
  private readonly wallNow: () => number;
  readonly file: string | null;
  /** Lines not yet in the file, oldest first; written before any newer line. */
  private readonly pending: string[] = [];
  private failure: HistoryWriteFailure | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  readonly pendingMax: number;

  constructor(private readonly o: JournalOptions) {
    this.keep = o.keep ?? 1000;
    this.maxBytes = o.maxBytes ?? 64 * 1024 * 1024;
    this.wallNow = o.wallNow ?? Date.now;
    this.pendingMax = o.pendingMax ?? HISTORY_PENDING_MAX;
    this.file = o.stateDir ? join(o.stateDir, HISTORY_FILE) : null;
    if (o.stateDir) {
      try {
        mkdirSync(o.stateDir, { recursive: true, mode: 0o750 });
        // Created empty at start, so "no file" means "no monitor ever ran here", not "nothing happened".
        if (!existsSync(this.file!)) appendFileSync(this.file!, '', { mode: 0o640 });
        this.size = statSync(this.file!).size;
      } catch (err) {
        // A full or read-only disk must not keep the monitor from watching: alarmed, and retried on each event.
        this.failure = { since: this.wallNow(), error: err instanceof Error ? err.message : String(err), tries: 1, pending: 0, lost: 0 };
        o.log.error({ err, file: this.file }, 'cannot prepare the event history file');
      }
    }
  }

  publish(event: ClusterEvent): void {
    const entry: JournalEntry = {
      seq: ++this.seq,
      time: new Date(this.wallNow()).toISOString(),
      monitor: this.o.monitorId,
      event: scrubSecrets(event),
    };
    this.recent.push(entry);
    if (this.recent.length > this.keep) this.recent.shift();
    this.append(entry);
    const ws = [...this.waiters];
    this.waiters.clear();
    for (const w of ws) w();
  }

  get lastSeq(): number {
    return this.seq;
  }

  /** Recent entries after `sinceSeq`; a `sinceSeq` from before a restart (larger than ours) means all. */
  since(sinceSeq: number): JournalEntry[] {
    const from = sinceSeq > this.seq ? 0 : sinceSeq;
    return this.recent.filter((e) => e.seq > from);
  }

  /** Resolves with new entries as soon as there are any after `sinceSeq`, or with [] after `waitMs`. */
  async wait(sinceSeq: number, waitMs: number, signal?: AbortSignal): Promise<JournalEntry[]> {
    const now = this.since(sinceSeq);
    if (now.length > 0 || waitMs <= 0) return now;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, waitMs);
      this.waiters.add(done);
      signal?.addEventListener('abort', done);
    });
    return this.since(sinceSeq);
  }

  /** The history file is behind (a write failed and is being retried), or null. */
  writeFailure(): HistoryWriteFailure | null {
    return this.failure && { ...this.failure, pending: this.pending.length };
  }

  /** Stops the retry timer (monitor stopping); what is still pending is tried once more. */
  close(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.flushPending();
  }

  private append(entry: JournalEntry): void {
    if (!this.file) return;
    if (this.pending.length >= this.pendingMax) {
      this.failure!.lost++;
      return;
    }
    this.pending.push(JSON.stringify(entry) + '\n');
    this.flushPending();
  }

  /** Writes the pending lines in order; on a failure keeps the rest and retries in a second. */
  private flushPending(): void {
    while (this.pending.length > 0) {
      const line = this.pending[0]!;
      try {
        this.writeLine(line);
      } catch (err) {
        const f = (this.failure ??= { since: this.wallNow(), error: '', tries: 0, pending: 0, lost: 0 });
        f.tries++;
        f.error = err instanceof Error ? err.message : String(err);
        if ((f.tries & (f.tries - 1)) === 0)
          this.o.log.error({ err, file: this.file, tries: f.tries }, 'could not append to the event history');
        this.retryTimer ??= setTimeout(() => {
          this.retryTimer = null;
          this.flushPending();
        }, RETRY_MS).unref();
        return;
      }
      this.pending.shift();
    }
    if (this.failure) {
      this.o.log.info({ file: this.file, tries: this.failure.tries, lost: this.failure.lost }, 'event history written again');
      this.failure = null;
    }
  }

  private writeLine(line: string): void {
    const file = this.file!;
    if (this.size + line.length > this.maxBytes && this.size > 0) {
      renameSync(file, `${file}.1`);
      this.size = 0;
    }
    // Synchronous on purpose: events are rare (a few per failure), and a decision must be on disk
    // before anything else happens in this turn of the event loop.
    try {
      appendFileSync(file, line, { mode: 0o640 });
    } catch (err) {
      // A full disk may have taken part of the line: cut it off, or the retry would follow garbage.
      try {
        truncateSync(file, this.size);
      } catch {
        // the next successful write's reader skips a torn line (history-file.ts)
      }
      throw err;
    }
    this.size += Buffer.byteLength(line);
  }
}

/** The `history_write_failed` alarm, while the history file is behind. */
export function historyAlarms(j: EventJournal): Array<{ kind: string; message: string; since?: string }> {
  const f = j.writeFailure();
  if (!f || !j.file) return [];
  const lost = f.lost > 0 ? `; ${f.lost} event(s) LOST from the file (more than ${j.pendingMax} waiting)` : '';
  return [
    {
      kind: 'history_write_failed',
      message:
        `cannot append to the event history ${j.file} (${f.tries} tries): ${f.error}; ` +
        `${f.pending} event(s) kept in memory, retrying every ${RETRY_MS / 1000}s${lost}`,
      since: new Date(f.since).toISOString(),
    },
  ];
}
