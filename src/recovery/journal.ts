import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  truncateSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { EvacuationEntry } from '../core/evacuation-step.js';
import type { ServerRef } from '../core/events.js';
import type { RecoverySummary } from '../core/events.js';
import { HaError, IllegalStateError, StateFileError } from '../errors.js';

/** A server chosen for evacuation, frozen at selection time (it leaves the host's listing once moved). */
export interface PlannedServer {
  ref: ServerRef;
  priority: number;
  /** vm_state before the failure: a stopped server comes back stopped. */
  vmState: string | null;
  /** Evacuation migrations that existed before this recovery: never taken for ours. */
  baselineMigrationIds: number[];
  /** Its (soft-)anti-affinity server group: members are evacuated one at a time (docs/recovery.md "Server groups"). */
  antiAffinityGroup?: string;
}

/** A step of one server's evacuation (intent, accepted, reset, done, failed): the core's entry, with the server's id. */
export type ServerRecord = EvacuationEntry & { id: string };

/** One durable step of a host's recovery. `at` is epoch ms of this monitor. */
export type JournalRecord =
  | { t: 'begin'; at: number; host: string; incident: string }
  | { t: 'forced_down'; at: number }
  | { t: 'disabled'; at: number }
  | { t: 'selected'; at: number; planned: PlannedServer[]; notify: Array<{ ref: ServerRef; reason: string; held?: true }> }
  | { t: 'notified'; at: number }
  | ServerRecord
  | { t: 'finished'; at: number; summary: RecoverySummary };

/**
 * A journal write (or the journal's open) did not reach the disk: the step it records was NOT acted
 * on. The recovery waits and resumes from the journal as it is on disk (workflow.ts).
 */
export class JournalWriteError extends HaError {
  constructor(
    readonly file: string,
    cause: unknown,
  ) {
    super(`cannot write the recovery journal ${file}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

export const JOURNAL_REMEDY =
  'its recovery is not resumed; look at the file, then move it aside (the recovery restarts from Nova) (docs/operations.md "Corrupt state file")';

/**
 * Append-only JSON lines, one file per host, each append fsync'd before the step it records is
 * acted on. A torn last line (crash mid-write) is cut off on open. A finished journal is archived
 * so the host's next failure starts a new one.
 */
export class Journal {
  private readonly fd: number;
  private closed = false;
  /** Bytes of complete records in the file: a failed append is cut back to this. */
  private goodBytes: number;
  readonly records: JournalRecord[];

  private constructor(
    readonly file: string,
    records: JournalRecord[],
    private readonly onAppend?: (r: JournalRecord, index: number) => void,
  ) {
    this.records = records;
    for (const r of records) this.index(r);
    this.fd = openSync(file, 'a');
    // The torn tail, if any, was cut by readRecords: the file holds complete records only.
    this.goodBytes = fstatSync(this.fd).size;
  }

  /** Throws StateFileError for a corrupt journal, JournalWriteError when the disk refuses. */
  static open(dir: string, host: string, opts: { now: number; onAppend?: (r: JournalRecord, index: number) => void }): Journal {
    const file = join(dir, `${safeName(host)}.jsonl`);
    let records: JournalRecord[];
    try {
      records = existsSync(file) ? readRecords(file) : [];
    } catch (err) {
      if (err instanceof StateFileError) throw err;
      throw new JournalWriteError(file, err);
    }
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      if (records.length > 0 && records[records.length - 1]!.t === 'finished') {
        renameSync(file, join(dir, `${safeName(host)}.${opts.now}.done.jsonl`));
        records = [];
      }
      fsyncDir(dir);
      return new Journal(file, records, opts.onAppend);
    } catch (err) {
      throw new JournalWriteError(file, err);
    }
  }

  /** Durable before it returns; throws JournalWriteError (nothing recorded, the file as it was) when not. */
  append(r: JournalRecord): void {
    if (this.closed) throw new IllegalStateError(`journal ${this.file} appended after close`);
    const line = JSON.stringify(r) + '\n';
    try {
      writeSync(this.fd, line);
      fsyncSync(this.fd);
    } catch (err) {
      // A full disk may have taken part of the line: cut it, so the next append follows a good record.
      try {
        ftruncateSync(this.fd, this.goodBytes);
      } catch {
        // the torn tail is cut on the next open
      }
      throw new JournalWriteError(this.file, err);
    }
    this.goodBytes += Buffer.byteLength(line);
    this.records.push(r);
    this.index(r);
    this.onAppend?.(r, this.records.length);
  }

  has(t: JournalRecord['t']): boolean {
    return this.records.some((r) => r.t === t);
  }

  find<T extends JournalRecord['t']>(t: T): Extract<JournalRecord, { t: T }> | undefined {
    return this.records.find((r) => r.t === t) as Extract<JournalRecord, { t: T }> | undefined;
  }

  forServer(id: string): ServerRecord[] {
    return [...(this.byServer.get(id) ?? [])];
  }

  /** Per-server records, kept as they are appended: a thousand tracked servers each step on their own few, not the whole file. */
  private readonly byServer = new Map<string, ServerRecord[]>();

  private index(r: JournalRecord): void {
    if (!('id' in r)) return;
    const list = this.byServer.get((r as ServerRecord).id);
    if (list) list.push(r as ServerRecord);
    else this.byServer.set((r as ServerRecord).id, [r as ServerRecord]);
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

/**
 * Reads every complete record; truncates a torn tail (a last line without its newline: a crash
 * mid-append). A complete line that is not a valid record is corruption, not a torn write (each
 * record is written whole with its newline): StateFileError naming the file and line, and nothing
 * is truncated, since cutting records after it could lose an `intent` and evacuate twice.
 */
export function readRecords(file: string): JournalRecord[] {
  const text = parseJournal(file, readFileSync(file, 'utf8'));
  if (text.tornBytes > 0) truncateSync(file, text.goodBytes);
  return text.records;
}

/** The pure part of readRecords (fuzzed): records, and where a torn tail starts. */
export function parseJournal(file: string, text: string): { records: JournalRecord[]; goodBytes: number; tornBytes: number } {
  const records: JournalRecord[] = [];
  let pos = 0;
  let line = 0;
  for (;;) {
    const nl = text.indexOf('\n', pos);
    if (nl < 0) break;
    line++;
    const problem = recordProblem(text.slice(pos, nl));
    if (problem) throw new StateFileError(file, `line ${line}: ${problem}`, JOURNAL_REMEDY);
    records.push(JSON.parse(text.slice(pos, nl)) as JournalRecord);
    pos = nl + 1;
  }
  const goodBytes = Buffer.byteLength(text.slice(0, pos));
  return { records, goodBytes, tornBytes: Buffer.byteLength(text) - goodBytes };
}

const FIELDS: Record<JournalRecord['t'], Record<string, 'string' | 'number' | 'boolean' | 'array' | 'object' | 'string|null'>> = {
  begin: { host: 'string', incident: 'string' },
  forced_down: {},
  disabled: {},
  selected: { planned: 'array', notify: 'array' },
  notified: {},
  intent: { id: 'string', attempt: 'number', target: 'string|null' },
  accepted: { id: 'string', attempt: 'number', how: 'string' },
  reset: { id: 'string', state: 'string' },
  done: { id: 'string', target: 'string', durationMs: 'number' },
  failed: { id: 'string', attempt: 'number', reason: 'string', final: 'boolean', migrationIds: 'array' },
  finished: { summary: 'object' },
};

/** What is wrong with one journal line, or null: the fields each step reads, with their types. */
function recordProblem(line: string): string | null {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (err) {
    return `not valid JSON (${(err as Error).message})`;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'not a JSON object';
  const o = v as Record<string, unknown>;
  const t = o.t;
  if (typeof t !== 'string' || !Object.hasOwn(FIELDS, t)) return `unknown record type ${JSON.stringify(t)?.slice(0, 40)}`;
  if (typeof o.at !== 'number' || !Number.isFinite(o.at)) return `'${t}.at' must be a number`;
  for (const [key, want] of Object.entries(FIELDS[t as JournalRecord['t']])) {
    const x = o[key];
    const ok =
      want === 'array'
        ? Array.isArray(x)
        : want === 'object'
          ? typeof x === 'object' && x !== null && !Array.isArray(x)
          : want === 'string|null'
            ? x === null || typeof x === 'string'
            : want === 'number'
              ? typeof x === 'number' && Number.isFinite(x)
              : typeof x === want;
    if (!ok) return `'${t}.${key}' must be ${want === 'array' ? 'a list' : want === 'object' ? 'an object' : `a ${want}`}`;
  }
  return null;
}

/** Every live (unfinished) journal in `dir` must read: checked at monitor start, before anything acts. */
export function checkJournalDir(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new StateFileError(dir, `cannot be read (${(err as Error).message})`, 'check its owner and mode');
  }
  for (const n of names) {
    if (!n.endsWith('.jsonl') || n.endsWith('.done.jsonl')) continue;
    const file = join(dir, n);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new StateFileError(file, `cannot be read (${(err as Error).message})`, 'check its owner and mode');
    }
    parseJournal(file, text);
  }
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
