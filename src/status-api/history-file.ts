import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { HISTORY_FILE, type JournalEntry } from './event-journal.js';
import { currentEvent } from '../core/vocabulary.js';

export interface HistoryQuery {
  host?: string;
  /** Wall-clock ms: entries at or after this only. */
  sinceMs?: number;
  /** At most this many, the newest kept. */
  limit?: number;
}

/** Whether an event concerns a host (host events, instance events) — cluster events concern all. */
export function eventHost(e: JournalEntry['event']): string | undefined {
  return 'host' in e && typeof e.host === 'string' ? e.host : undefined;
}

export function matches(entry: JournalEntry, q: HistoryQuery): boolean {
  if (q.sinceMs !== undefined && Date.parse(entry.time) < q.sinceMs) return false;
  if (q.host !== undefined) {
    const h = eventHost(entry.event);
    if (h !== q.host && !(entry.event.type === 'cluster.mass_failure' && entry.event.hosts.includes(q.host))) return false;
  }
  return true;
}

/**
 * One history line, with the event named as this version names it: a previous version's history
 * (`host.recovered`, `host.recovery_finished`, state `recovered`…) reads as today's vocabulary
 * (core/vocabulary.ts). Null for a line that is not an entry (a torn write).
 */
export function parseHistoryLine(line: string): JournalEntry | null {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const entry = v as JournalEntry;
  if (typeof entry.event !== 'object' || entry.event === null || typeof entry.event.type !== 'string') return null;
  const event = currentEvent(entry.event);
  return event === entry.event ? entry : { ...entry, event };
}

/**
 * Reads the monitor's history (the rotated file first, then the current one), oldest first.
 * A torn last line (the monitor killed mid-write) is skipped, not an error.
 */
export function readHistory(stateDir: string, q: HistoryQuery = {}): JournalEntry[] {
  const file = join(stateDir, HISTORY_FILE);
  const out: JournalEntry[] = [];
  for (const f of [`${file}.1`, file]) {
    if (!existsSync(f)) continue;
    for (const line of readFileSync(f, 'utf8').split('\n')) {
      if (!line) continue;
      const entry = parseHistoryLine(line);
      if (!entry) continue;
      if (matches(entry, q)) out.push(entry);
    }
  }
  return q.limit !== undefined && out.length > q.limit ? out.slice(out.length - q.limit) : out;
}

/**
 * The same, streamed: what the monitor's status API uses, so that reading a large history yields to
 * the event loop between chunks instead of stalling the monitor (a stall suspends convictions).
 */
export async function readHistoryAsync(stateDir: string, q: HistoryQuery = {}): Promise<JournalEntry[]> {
  const file = join(stateDir, HISTORY_FILE);
  const limit = q.limit ?? Infinity;
  let out: JournalEntry[] = [];
  for (const f of [`${file}.1`, file]) {
    if (!existsSync(f)) continue;
    const lines = createInterface({ input: createReadStream(f, { encoding: 'utf8' }), crlfDelay: Infinity });
    for await (const line of lines) {
      // Cheap pre-filter: a line about another host does not name this one at all.
      if (!line || (q.host !== undefined && !line.includes(JSON.stringify(q.host)))) continue;
      const entry = parseHistoryLine(line);
      if (!entry) continue;
      if (!matches(entry, q)) continue;
      out.push(entry);
      if (out.length >= 2 * limit) out = out.slice(out.length - limit);
    }
  }
  return out.length > limit ? out.slice(out.length - limit) : out;
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** `--since` as a duration back from now (`90s`, `2h`, `3d`) or an ISO date; ms since epoch. */
export function parseSince(s: string, nowMs: number): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(s.trim());
  if (m) {
    const f = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
    return nowMs - Number(m[1]) * f;
  }
  // An ISO date or date-time only: Date.parse alone takes '-1' (the year 1 BC) and meant "everything".
  if (!ISO_TIME.test(s.trim())) return undefined;
  const t = Date.parse(s.trim());
  return Number.isNaN(t) ? undefined : t;
}
