import { describe, expect, it } from 'vitest';
import { Beacon, LEAVING_GAP_MS, LEAVING_REPEATS } from '../../src/daemon/beacon.js';
import type { Clock } from '../../src/daemon/clock.js';
import { createLogger } from '../../src/log.js';
import { decode } from '../../src/wire/codec.js';
import type { DatagramTransport } from '../../src/wire/transport.js';
import type { HostPort } from '../../src/config/address.js';

/** The beacon's clean stop: heartbeats end, the leaving goes out LEAVING_REPEATS times, then it resolves. */
class ManualClock implements Clock {
  t = 0;
  private timers: Array<{ at: number; every: number | null; fn: () => void; live: boolean }> = [];
  now = (): number => this.t;
  wallNow = (): number => 1_700_000_000_000 + this.t;
  every(ms: number, fn: () => void): () => void {
    const timer = { at: this.t + ms, every: ms, fn, live: true };
    this.timers.push(timer);
    return () => void (timer.live = false);
  }
  after(ms: number, fn: () => void): () => void {
    const timer = { at: this.t + ms, every: null, fn, live: true };
    this.timers.push(timer);
    return () => void (timer.live = false);
  }
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const next = this.timers.filter((x) => x.live && x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      this.t = next.at;
      if (next.every === null) next.live = false;
      else next.at += next.every;
      next.fn();
    }
    this.t = end;
  }
}

const KEY = Buffer.alloc(32, 7);
const MONITORS: HostPort[] = [
  { host: '127.0.0.1', port: 1 },
  { host: '127.0.0.1', port: 2 },
];

function rig() {
  const clock = new ManualClock();
  const sent: Array<{ at: number; buf: Buffer; to: HostPort }> = [];
  let closed = false;
  const transport: DatagramTransport = {
    counters: { received: 0, sent: 0, sendErrors: 0 },
    listen: async () => [],
    send: (buf, to) => void sent.push({ at: clock.t, buf, to }),
    close: () => void (closed = true),
  };
  const beacon = new Beacon({
    settings: { host: 'cmp1', monitors: MONITORS, intervalMs: 500, key: KEY },
    clock,
    transport,
    health: { current: 'up', start() {}, stop() {} },
    log: createLogger({ level: 'silent' }),
  });
  return { clock, sent, beacon, closed: () => closed };
}

describe('a beacon stopping cleanly', () => {
  it('sends the leaving 3 times to every monitor, 50 ms apart, with the next sequence numbers of its boot, then no heartbeat', async () => {
    const r = rig();
    r.beacon.start();
    r.clock.advance(1000);
    const beats = r.sent.length;
    const lastSeq = r.beacon.counters.seq;
    const done = r.beacon.leave();
    let resolved = false;
    void done.then(() => (resolved = true));
    r.clock.advance(LEAVING_REPEATS * LEAVING_GAP_MS);
    await done;
    expect(resolved).toBe(true);
    const leavings = r.sent.slice(beats).map((s) => ({ at: s.at, to: s.to.port, d: decode(s.buf, KEY) }));
    expect(leavings).toHaveLength(LEAVING_REPEATS * MONITORS.length);
    expect(leavings.map((l) => [l.at, l.to, l.d.ok && l.d.kind, l.d.ok && l.d.kind === 'leaving' && l.d.beat.seq])).toEqual([
      [1000, 1, 'leaving', lastSeq + 1],
      [1000, 2, 'leaving', lastSeq + 1],
      [1050, 1, 'leaving', lastSeq + 2],
      [1050, 2, 'leaving', lastSeq + 2],
      [1100, 1, 'leaving', lastSeq + 3],
      [1100, 2, 'leaving', lastSeq + 3],
    ]);
    for (const l of leavings) expect(l.d.ok && l.d.kind === 'leaving' && l.d.beat.bootId).toBe(r.beacon.bootId);
    // The heartbeats stopped with the leaving: nothing more, however long.
    r.clock.advance(5000);
    expect(r.sent.length).toBe(beats + leavings.length);
    r.beacon.stop();
    expect(r.closed()).toBe(true);
  });
});
