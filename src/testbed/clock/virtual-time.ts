import type { CancelTimer, Clock } from '../../daemon/clock.js';
import { EventQueue } from './event-queue.js';

/**
 * Virtual time for the simulation: one queue of timed callbacks, run in time order (ties in the order
 * they were scheduled), so a seed replays exactly. Nothing waits on a real clock.
 */
export class VirtualTime {
  private readonly q = new EventQueue();
  now = 0;

  at(at: number, run: () => void): void {
    this.q.at(Math.max(at, this.now), run);
  }

  after(ms: number, run: () => void): void {
    this.at(this.now + ms, run);
  }

  /** Runs the next callback due by `until`; false when there is none. */
  runNext(until: number): boolean {
    const next = this.q.peek();
    if (!next || next.at > until) return false;
    this.q.pop();
    this.now = next.at;
    next.run();
    return true;
  }
}

/**
 * One simulated process (a monitor or a compute host): its clock, and the gate every callback into
 * it passes. A stalled process (a frozen VM, a long GC pause) runs nothing until it resumes; then its
 * due timers fire once each, as node's do after a stall, and the datagrams that queued up follow. A
 * crashed process runs nothing ever again: whatever was scheduled for it is dropped.
 */
export class SimProcess {
  private generation = 0;
  private stalledUntil = -Infinity;
  private dueTimers: Array<() => void> = [];
  private inbox: Array<() => void> = [];
  /** Called after every callback the process ran (the world checks its invariants there). */
  afterRun: () => void = () => {};

  constructor(
    readonly name: string,
    private readonly time: VirtualTime,
    /** Extra delay added to each timer firing (timers never fire exactly on time). */
    private readonly timerJitter: () => number = () => 0,
    /** The process's wall clock minus virtual time (a skewed clock). */
    public wallOffsetMs = 0,
    private readonly maxInbox = 100_000,
  ) {}

  get alive(): boolean {
    return this.generation >= 0;
  }

  stalled(): boolean {
    return this.time.now < this.stalledUntil;
  }

  /** A fresh incarnation (a start after a crash): nothing of the old one runs any more. */
  restart(): void {
    this.generation = Math.abs(this.generation) + 1;
    this.stalledUntil = -Infinity;
    this.dueTimers = [];
    this.inbox = [];
  }

  crash(): void {
    this.generation = -(Math.abs(this.generation) + 1);
    this.dueTimers = [];
    this.inbox = [];
  }

  stall(untilMs: number): void {
    this.stalledUntil = Math.max(this.stalledUntil, untilMs);
    this.time.at(this.stalledUntil, () => this.resume());
  }

  /** Runs fn now, or when the process resumes; never for a later incarnation. */
  run(fn: () => void): void {
    const gen = this.generation;
    if (gen < 0) return;
    if (this.stalled()) {
      if (this.inbox.length < this.maxInbox) this.inbox.push(() => this.generation === gen && fn());
      return;
    }
    fn();
    this.afterRun();
  }

  clock(): Clock {
    return {
      now: () => this.time.now,
      wallNow: () => this.time.now + this.wallOffsetMs,
      every: (ms, fn) => this.timer(ms, fn, true),
      after: (ms, fn) => this.timer(ms, fn, false),
    };
  }

  private timer(ms: number, fn: () => void, repeat: boolean): CancelTimer {
    const gen = this.generation;
    let cancelled = false;
    const fire = (): void => {
      if (cancelled || this.generation !== gen) return;
      if (this.stalled()) {
        this.dueTimers.push(fire);
        return;
      }
      if (repeat) this.time.after(ms + this.timerJitter(), fire);
      fn();
      this.afterRun();
    };
    this.time.after(ms + this.timerJitter(), fire);
    return () => {
      cancelled = true;
    };
  }

  private resume(): void {
    if (this.stalled() || this.generation < 0) return;
    const timers = this.dueTimers;
    const inbox = this.inbox;
    this.dueTimers = [];
    this.inbox = [];
    for (const t of timers) t();
    for (const fn of inbox) {
      fn();
      this.afterRun();
    }
  }
}
