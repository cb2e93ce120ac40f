import type { Alarm } from './forgery-watch.js';

/**
 * The measured clock offset of every sender whose clock is more than max_clock_skew from ours (its
 * authenticated send time minus our wall clock at receipt; network delay is noise at that scale).
 * Such a sender's current boot is still heard (replay-guard.ts), but a new boot of it would be
 * refused until its clock is fixed: the alarm says so, naming the host and its offset. Bounded: at
 * most MAX_SKEWED senders, forgotten after SKEW_FORGET_MS without a datagram.
 */
const MAX_SKEWED = 1000;
export const SKEW_FORGET_MS = 5 * 60_000;
const MAX_ALARMS = 20;

interface Skewed {
  offsetMs: number;
  kind: 'host' | 'monitor';
  sinceWall: number;
  lastAt: number;
}

export class ClockSkewWatch {
  private readonly skewed = new Map<string, Skewed>();

  constructor(private readonly maxClockSkewMs: number) {}

  /** Called for every authenticated datagram: cheap when the sender's clock is fine (one map lookup at most). */
  observe(sender: string, kind: 'host' | 'monitor', offsetMs: number, at: number, wallAt: number): void {
    if (Math.abs(offsetMs) <= this.maxClockSkewMs) {
      if (this.skewed.size > 0) this.skewed.delete(sender);
      return;
    }
    const s = this.skewed.get(sender);
    if (s) {
      s.offsetMs = offsetMs;
      s.lastAt = at;
    } else if (this.skewed.size < MAX_SKEWED) this.skewed.set(sender, { offsetMs, kind, sinceWall: wallAt, lastAt: at });
  }

  offsetOf(sender: string): number | null {
    return this.skewed.get(sender)?.offsetMs ?? null;
  }

  alarms(now: number): Alarm[] {
    const list: Array<[string, Skewed]> = [];
    for (const [name, s] of this.skewed) {
      if (now - s.lastAt > SKEW_FORGET_MS) this.skewed.delete(name);
      else list.push([name, s]);
    }
    list.sort((a, b) => Math.abs(b[1].offsetMs) - Math.abs(a[1].offsetMs));
    const out: Alarm[] = list.slice(0, MAX_ALARMS).map(([name, s]) => ({
      kind: 'clock_skew',
      message:
        `${s.kind} ${name}: clock ${formatOffset(s.offsetMs)} from this monitor's (max_clock_skew ${this.maxClockSkewMs / 1000}s); ` +
        `its current boot is still heard, but a restart of it would be refused until its clock is fixed (check NTP)`,
      since: new Date(s.sinceWall).toISOString(),
    }));
    if (list.length > MAX_ALARMS)
      out.push({ kind: 'clock_skew', message: `and ${list.length - MAX_ALARMS} more sender(s) with a skewed clock` });
    return out;
  }
}

function formatOffset(ms: number): string {
  return `${ms >= 0 ? '+' : '-'}${(Math.abs(ms) / 1000).toFixed(1)}s`;
}
