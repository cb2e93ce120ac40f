import { describe, expect, it } from 'vitest';
import { Membership, quorumNeeded } from '../../src/core/membership.js';
import { peerBeat } from '../core/fixtures.js';

/** A peer's heartbeat (the core tests' fixture). */
const beat = peerBeat;

describe('membership and quorum', () => {
  it.each([
    [1, 1],
    [2, 2],
    [3, 2],
    [4, 3],
    [5, 3],
  ])('a strict majority of %i is %i', (n, q) => expect(quorumNeeded(n)).toBe(q));

  it('a single configured monitor is a quorate cluster of one that acts', () => {
    const m = new Membership({ self: 'm1', monitors: ['m1'], expectedVotes: 1, peerTimeoutMs: 1000 });
    expect(m.quorate(0)).toBe(true);
    expect(m.acting(0)).toBe(true);
  });

  it('loses quorum when peers time out, and only a quorum of votes makes a coordinator', () => {
    const m = new Membership({ self: 'm2', monitors: ['m1', 'm2', 'm3'], expectedVotes: 3, peerTimeoutMs: 1000 });
    expect(m.quorate(0)).toBe(false);
    m.receive(beat('m3', { vote: 'm1' }), 0);
    expect(m.quorate(500)).toBe(true);
    expect(m.vote(500)).toBe('m2'); // m1 not heard: lowest quorate among m2, m3
    expect(m.acting(500)).toBe(false); // m3 votes m1
    m.receive(beat('m3', { seq: 2, vote: 'm2' }), 600);
    expect(m.acting(700)).toBe(true);
    expect(m.quorate(1700)).toBe(false);
    expect(m.acting(1700)).toBe(false);
  });

  it('passes over a peer that hears no quorum itself (its inbound link is cut)', () => {
    const m = new Membership({ self: 'm2', monitors: ['m1', 'm2', 'm3'], expectedVotes: 3, peerTimeoutMs: 1000 });
    m.receive(beat('m1', { hears: ['m1'], vote: null }), 0);
    m.receive(beat('m3'), 0);
    expect(m.vote(10)).toBe('m2');
  });

  it('keeps voting for a live acting coordinator rather than a lower id that came back', () => {
    const m = new Membership({ self: 'm3', monitors: ['m1', 'm2', 'm3'], expectedVotes: 3, peerTimeoutMs: 1000 });
    m.receive(beat('m2', { acting: true, epoch: 4, vote: 'm2' }), 0);
    m.receive(beat('m1', { vote: 'm2' }), 0);
    expect(m.vote(10)).toBe('m2');
  });

  it('ignores old and foreign peer heartbeats', () => {
    const m = new Membership({ self: 'm1', monitors: ['m1', 'm2'], expectedVotes: 2, peerTimeoutMs: 1000 });
    expect(m.receive(beat('m2', { seq: 5 }), 0)).toBe(true);
    expect(m.receive(beat('m2', { seq: 4 }), 10)).toBe(false);
    expect(m.receive(beat('mX'), 10)).toBe(false);
  });
});
