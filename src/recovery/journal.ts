import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, truncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { EvacuationEntry } from '../core/evacuation-step.js';
import type { ServerRef } from '../core/events.js';
import type { RecoverySummary } from '../core/events.js';
import { IllegalStateError } from '../errors.js';

/** A server chosen for evacuation, frozen at selection time (it leaves the host's listing once moved). */
export interface PlannedServer {
  ref: ServerRef;
  priority: number;
  /** vm_state before the failure: a stopped server comes back stopped. */
  vmState: string | null;
  /** Evacuation migrations that existed before this recovery: never taken for ours. */
  baselineMigrationIds: number[];
}

/** A step of one server's evacuation (intent, accepted, reset, done, failed): the core's entry, with the server's id. */
export type ServerRecord = EvacuationEntry & { id: string };

/** One durable step of a host's recovery. `at` is epoch ms of this monitor. */
export type JournalRecord =
  | { t: 'begin'; at: number; host: string; incident: string }
  | { t: 'forced_down'; at: number }
  | { t: 'disabled'; at: number }
  | { t: 'selected'; at: number; planned: PlannedServer[]; notify: Array<{ ref: ServerRef; reason: string }> }
  | { t: 'notified'; at: number }
  | ServerRecord
  | { t: 'finished'; at: number; summary: RecoverySummary };

/**
 * Append-only JSON lines, one file per host, each append fsync'd before the step it records is
 * acted on. A torn last line (crash mid-write) is cut off on open. A finished journal is archived
 * so the host's next failure starts a new one.
 */
export class Journal {
  private readonly fd: number;
  private closed = false;
  readonly records: JournalRecord[];

  private constructor(
    readonly file: string,
    records: JournalRecord[],
    private readonly onAppend?: (r: JournalRecord, index: number) => void,
  ) {
    this.records = records;
    this.fd = openSync(file, 'a');
  }

  static open(dir: string, host: string, opts: { now: number; onAppend?: (r: JournalRecord, index: number) => void }): Journal {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = join(dir, `${safeName(host)}.jsonl`);
    let records = existsSync(file) ? readRecords(file) : [];
    if (records.length > 0 && records[records.length - 1]!.t === 'finished') {
      renameSync(file, join(dir, `${safeName(host)}.${opts.now}.done.jsonl`));
      records = [];
    }
    fsyncDir(dir);
    return new Journal(file, records, opts.onAppend);
  }

  append(r: JournalRecord): void {
    if (this.closed) throw new IllegalStateError(`journal ${this.file} appended after close`);
    writeSync(this.fd, JSON.stringify(r) + '\n');
    fsyncSync(this.fd);
    this.records.push(r);
    this.onAppend?.(r, this.records.length);
  }

  has(t: JournalRecord['t']): boolean {
    return this.records.some((r) => r.t === t);
  }

  find<T extends JournalRecord['t']>(t: T): Extract<JournalRecord, { t: T }> | undefined {
    return this.records.find((r) => r.t === t) as Extract<JournalRecord, { t: T }> | undefined;
  }

  forServer(id: string): ServerRecord[] {
    return this.records.filter((r): r is ServerRecord => 'id' in r && r.id === id);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}

/**
 * Ends a host's incident (the host was returned to service): its journal, finished or not, is
 * archived so a later failure of the host starts afresh instead of resuming a stale selection.
 */
export function archiveJournal(dir: string, host: string, now: number): boolean {
  const file = join(dir, `${safeName(host)}.jsonl`);
  if (!existsSync(file)) return false;
  renameSync(file, join(dir, `${safeName(host)}.${now}.done.jsonl`));
  fsyncDir(dir);
  return true;
}

/** Reads every complete record; truncates the file after the last good one (torn tail). */
export function readRecords(file: string): JournalRecord[] {
  const text = readFileSync(file, 'utf8');
  const out: JournalRecord[] = [];
  let good = 0;
  let pos = 0;
  while (pos < text.length) {
    const nl = text.indexOf('\n', pos);
    if (nl < 0) break;
    try {
      out.push(JSON.parse(text.slice(pos, nl)) as JournalRecord);
    } catch {
      break;
    }
    pos = nl + 1;
    good = Buffer.byteLength(text.slice(0, pos));
  }
  if (good < Buffer.byteLength(text)) truncateSync(file, good);
  return out;
}

function safeName(host: string): string {
  return host.replace(/[^A-Za-z0-9._-]/g, '_');
}

function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    fsyncSync(fd);
    closeSync(fd);
  } catch {
    // Some filesystems refuse fsync on a directory; the file's own fsync still holds.
  }
}
