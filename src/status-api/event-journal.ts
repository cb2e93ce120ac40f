import { appendFileSync, existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
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
  private writeFailedLogged = false;

  constructor(private readonly o: JournalOptions) {
    this.keep = o.keep ?? 1000;
    this.maxBytes = o.maxBytes ?? 64 * 1024 * 1024;
    this.wallNow = o.wallNow ?? Date.now;
    this.file = o.stateDir ? join(o.stateDir, HISTORY_FILE) : null;
    if (o.stateDir) {
      mkdirSync(o.stateDir, { recursive: true, mode: 0o750 });
      // Created empty at start, so "no file" means "no monitor ever ran here", not "nothing happened".
      if (!existsSync(this.file!)) appendFileSync(this.file!, '', { mode: 0o640 });
      this.size = statSync(this.file!).size;
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

  private append(entry: JournalEntry): void {
    if (!this.file) return;
    const line = JSON.stringify(entry) + '\n';
    try {
      if (this.size + line.length > this.maxBytes && this.size > 0) {
        renameSync(this.file, `${this.file}.1`);
        this.size = 0;
      }
      // Synchronous on purpose: events are rare (a few per failure), and a decision must be on disk
      // before anything else happens in this turn of the event loop.
      appendFileSync(this.file, line, { mode: 0o640 });
      this.size += Buffer.byteLength(line);
      this.writeFailedLogged = false;
    } catch (err) {
      if (!this.writeFailedLogged) this.o.log.error({ err, file: this.file }, 'could not append to the event history');
      this.writeFailedLogged = true;
    }
  }
}
