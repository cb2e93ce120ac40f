import type { HostId } from '../core/events.js';

/** Retry delay after a failed journal write: doubled each time, up to this (documented in recovery.md). */
export const JOURNAL_RETRY_MIN_MS = 1000;
export const JOURNAL_RETRY_MAX_MS = 30_000;

/**
 * What the recoveries know about their journals' disk, for status: a write that failed (and is being
 * retried, per host), and journals found corrupt (refused until an operator looks).
 */
export class JournalHealth {
  private readonly failing = new Map<HostId, { file: string; since: number; tries: number; error: string }>();
  private readonly corrupt = new Map<HostId, string>();

  constructor(private readonly now: () => number) {}

  writeFailed(host: HostId, file: string, error: string): number {
    const f = this.failing.get(host) ?? { file, since: this.now(), tries: 0, error };
    f.tries++;
    f.error = error;
    this.failing.set(host, f);
    return f.tries;
  }

  wrote(host: HostId): void {
    this.failing.delete(host);
    this.corrupt.delete(host);
  }

  corruptFound(host: HostId, message: string): void {
    this.corrupt.set(host, message);
  }

  /** A recovery ended (or was handed on): its write trouble is no longer being retried here. */
  ended(host: HostId): void {
    this.failing.delete(host);
  }

  alarms(): Array<{ kind: string; message: string; since?: string }> {
    const out: Array<{ kind: string; message: string; since?: string }> = [];
    for (const [host, f] of this.failing) {
      out.push({
        kind: 'journal_write_failed',
        message:
          `recovery of ${host} waits: cannot write its journal ${f.file} (${f.tries} tries): ${f.error}; ` +
          'nothing is evacuated before its step is journaled, retrying',
        since: new Date(f.since).toISOString(),
      });
    }
    for (const [host, msg] of this.corrupt) out.push({ kind: 'journal_corrupt', message: `recovery of ${host} refused: ${msg}` });
    return out;
  }
}
