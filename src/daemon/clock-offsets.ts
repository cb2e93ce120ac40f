/**
 * How far each sender's clock is from this monitor's, from the send time in its datagrams: the
 * early warning for the replay defence, which refuses everything past `max_clock_skew` (60 s) and
 * so gets a host with a drifting clock declared failed and fenced. An offset includes the one-way
 * network delay (milliseconds), which is noise at the seconds this is read in.
 *
 * Bounded: at most MAX_SENDERS entries (a sender past that evicts the one recorded first);
 * worst() considers only senders heard within OFFSET_WINDOW_MS, so a host gone quiet stops counting.
 */
export const MAX_SENDERS = 20_000;
export const OFFSET_WINDOW_MS = 60_000;

export interface ClockOffset {
  sender: string;
  /** Our wall clock minus the sender's send time: positive when the sender is behind. */
  offsetMs: number;
}

export class ClockOffsets {
  private readonly last = new Map<string, { offsetMs: number; at: number }>();

  observe(sender: string, offsetMs: number, wallNow: number): void {
    const known = this.last.get(sender);
    if (known) {
      known.offsetMs = offsetMs;
      known.at = wallNow;
      return;
    }
    if (this.last.size >= MAX_SENDERS) this.last.delete(this.last.keys().next().value!);
    this.last.set(sender, { offsetMs, at: wallNow });
  }

  /** The sender furthest from our clock among those heard within the window, or null. */
  worst(wallNow: number): ClockOffset | null {
    let worst: ClockOffset | null = null;
    for (const [sender, o] of this.last) {
      if (wallNow - o.at > OFFSET_WINDOW_MS) continue;
      if (!worst || Math.abs(o.offsetMs) > Math.abs(worst.offsetMs)) worst = { sender, offsetMs: o.offsetMs };
    }
    return worst;
  }
}
