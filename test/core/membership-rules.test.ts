import { describe, expect, it } from 'vitest';
import { Membership } from '../../src/core/membership.js';
import type { MonitorBeat } from '../../src/core/messages.js';
import { peerBeat } from './fixtures.js';

/** Quorum and coordinator choice, rule by rule (m1..m3 unless said otherwise, peer timeout 1 s). */
function membership(self = 'm1', monitors = ['m1', 'm2', 'm3']): Membership {
  return new Membership({ self, monitors, expectedVotes: monitors.length, peerTimeoutMs: 1000 });
}

function heard(m: Membership, at: number, ...beats: MonitorBeat[]): Membership {
  for (const b of beats) m.receive(b, at);
  return m;
}

describe('peer heartbeats', () => {
  it('accept a lower sequence number from a new boot of the peer', () => {
    const m = membership();
    expect(m.receive(peerBeat('m2', { bootId: 'a', seq: 9 }), 0)).toBe(true);
    expect(m.receive(peerBeat('m2', { bootId: 'a', seq: 9 }), 1)).toBe(false);
    expect(m.receive(peerBeat('m2', { bootId: 'b', seq: 1 }), 2)).toBe(true);
    expect(m.peers.get('m2')).toMatchObject({ id: 'm2', bootId: 'b', lastSeq: 1, lastHeardAt: 2 });
  });

  it('keep a peer live for exactly the peer timeout', () => {
    const m = heard(membership(), 100, peerBeat('m2'));
    expect(m.livePeers(1100).map((p) => p.id)).toEqual(['m2']);
    expect(m.livePeers(1101)).toEqual([]);
    expect(m.hears(1100)).toEqual(['m1', 'm2']);
    expect(m.hears(1101)).toEqual(['m1']);
  });

  it('list what this monitor hears sorted, itself included', () => {
    const m = heard(membership('m2'), 0, peerBeat('m3'), peerBeat('m1'));
    expect(m.hears(0)).toEqual(['m1', 'm2', 'm3']);
  });
});

describe('the vote', () => {
  it.each<[string, MonitorBeat[], boolean, string | null]>([
    ['no quorum: nobody', [], false, null],
    ['no quorum even while acting', [], true, null],
    ['acting keeps its own vote', [peerBeat('m2', { acting: true, epoch: 9, hears: ['m1', 'm2'] })], true, 'm1'],
    [
      'the acting peer with the highest epoch',
      [peerBeat('m2', { acting: true, epoch: 3 }), peerBeat('m3', { acting: true, epoch: 4 })],
      false,
      'm3',
    ],
    [
      'the lower id of two acting peers in the same epoch',
      [peerBeat('m3', { acting: true, epoch: 4 }), peerBeat('m2', { acting: true, epoch: 4 })],
      false,
      'm2',
    ],
    ['not an acting peer that hears no quorum', [peerBeat('m2', { acting: true, epoch: 4, hears: ['m2'] }), peerBeat('m3')], false, 'm1'],
    ['the lowest id among quorate monitors', [peerBeat('m2'), peerBeat('m3')], false, 'm1'],
    [
      'an acting peer that hears just a quorum',
      [peerBeat('m2', { acting: true, epoch: 4, hears: ['m2', 'm3'] }), peerBeat('m3')],
      false,
      'm2',
    ],
  ])('%s (whichever peer was heard first)', (_name, beats, selfActing, vote) => {
    for (const order of [beats, [...beats].reverse()]) expect(heard(membership(), 0, ...order).vote(10, selfActing)).toBe(vote);
  });

  it('passes over lower ids that hear no quorum themselves', () => {
    const m = heard(membership('m3'), 0, peerBeat('m1', { hears: ['m1'] }), peerBeat('m2', { hears: ['m2', 'm3'] }));
    expect(m.vote(10)).toBe('m2');
    const n = heard(membership('m3'), 0, peerBeat('m1', { hears: ['m1'] }), peerBeat('m2', { hears: ['m2'] }));
    expect(n.vote(10)).toBe('m3');
  });

  it('with five monitors needs three heard, and a peer must hear three to be chosen', () => {
    const five = ['m1', 'm2', 'm3', 'm4', 'm5'];
    const m = heard(membership('m3', five), 0, peerBeat('m4', { hears: five }));
    expect(m.vote(10)).toBeNull();
    heard(m, 0, peerBeat('m1', { hears: ['m1', 'm2'] }), peerBeat('m2', { hears: ['m1', 'm2', 'm3'] }));
    expect(m.vote(10)).toBe('m2');
  });
});

describe('acting as coordinator', () => {
  it.each<[string, Array<string | null>, boolean]>([
    ['both peers vote for it', ['m1', 'm1'], true],
    ['one peer votes for it: itself and one make two of three', ['m1', 'm2'], true],
    ['no peer votes for it', ['m2', 'm2'], false],
    ['peers without a vote', [null, null], false],
  ])('%s → %s', (_name, votes, acting) => {
    const m = heard(membership(), 0, peerBeat('m2', { vote: votes[0] }), peerBeat('m3', { vote: votes[1] }));
    expect(m.acting(10)).toBe(acting);
  });

  it('needs its own vote too: a monitor voting for an acting peer does not act on votes for itself', () => {
    const m = heard(membership(), 0, peerBeat('m2', { vote: 'm1', acting: true, epoch: 2 }), peerBeat('m3', { vote: 'm1' }));
    expect(m.acting(10)).toBe(false);
    expect(m.acting(10, true)).toBe(true);
  });

  it('counts only the votes of live peers', () => {
    const m = heard(membership(), 0, peerBeat('m2', { vote: 'm1' }));
    heard(m, 800, peerBeat('m3', { vote: 'm2' }));
    expect(m.acting(1000)).toBe(true);
    expect(m.acting(1001)).toBe(false);
  });
});

describe('the coordinator as this monitor sees it', () => {
  it.each<[string, MonitorBeat[], boolean, string | null]>([
    ['itself while acting', [peerBeat('m2', { acting: true, epoch: 9 })], true, 'm1'],
    ['nobody when no peer acts', [peerBeat('m2'), peerBeat('m3')], false, null],
    [
      'the acting peer with the highest epoch',
      [peerBeat('m2', { acting: true, epoch: 5 }), peerBeat('m3', { acting: true, epoch: 6 })],
      false,
      'm3',
    ],
    [
      'the lower id in the same epoch',
      [peerBeat('m3', { acting: true, epoch: 6 }), peerBeat('m2', { acting: true, epoch: 6 })],
      false,
      'm2',
    ],
  ])('%s (whichever peer was heard first)', (_name, beats, selfActing, coordinator) => {
    for (const order of [beats, [...beats].reverse()])
      expect(heard(membership(), 0, ...order).coordinator(10, selfActing)).toBe(coordinator);
  });

  it('forgets an acting peer once it is no longer heard', () => {
    const m = heard(membership(), 0, peerBeat('m2', { acting: true, epoch: 5 }));
    expect(m.coordinator(1000, false)).toBe('m2');
    expect(m.coordinator(1001, false)).toBeNull();
  });

  it('remembers the highest epoch any peer announced, live or not', () => {
    const m = heard(membership(), 0, peerBeat('m2', { epoch: 7 }));
    heard(m, 5000, peerBeat('m3', { epoch: 3 }));
    expect(m.maxEpoch()).toBe(7);
    expect(membership().maxEpoch()).toBe(0);
  });
});
