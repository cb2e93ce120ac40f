import { describe, expect, it } from 'vitest';
import { ClockOffsets, MAX_SENDERS, OFFSET_WINDOW_MS } from '../../src/daemon/clock-offsets.js';

describe('clock offsets of the senders', () => {
  it('names the sender furthest from our clock, either side', () => {
    const c = new ClockOffsets();
    c.observe('cmp-1', 40, 1_000);
    c.observe('cmp-2', -12_500, 1_000);
    c.observe('ctl2', 3_000, 1_000);
    expect(c.worst(1_000)).toEqual({ sender: 'cmp-2', offsetMs: -12_500 });
  });

  it('keeps only the newest offset of each sender', () => {
    const c = new ClockOffsets();
    c.observe('cmp-1', 30_000, 1_000);
    c.observe('cmp-1', 20, 2_000); // its clock was fixed
    c.observe('cmp-2', 500, 2_000);
    expect(c.worst(2_000)).toEqual({ sender: 'cmp-2', offsetMs: 500 });
  });

  it('forgets senders not heard within the window', () => {
    const c = new ClockOffsets();
    c.observe('gone', 50_000, 0);
    c.observe('here', 10, OFFSET_WINDOW_MS);
    expect(c.worst(OFFSET_WINDOW_MS)).toEqual({ sender: 'gone', offsetMs: 50_000 });
    expect(c.worst(OFFSET_WINDOW_MS + 1)).toEqual({ sender: 'here', offsetMs: 10 });
    expect(new ClockOffsets().worst(0)).toBeNull();
  });

  it('holds at most MAX_SENDERS senders, evicting the first recorded', () => {
    const c = new ClockOffsets();
    c.observe('first', 99_000, 0);
    for (let i = 0; i < MAX_SENDERS; i++) c.observe(`h${i}`, 1, 0);
    expect(c.worst(0)).toEqual({ sender: 'h0', offsetMs: 1 });
  });
});
