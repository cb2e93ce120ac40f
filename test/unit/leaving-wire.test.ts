import { describe, expect, it } from 'vitest';
import type { LeftMark, MonitorBeat } from '../../src/core/messages.js';
import { Admission } from '../../src/wire/admission.js';
import { decode, encodeBeacon, encodeLeaving, seal } from '../../src/wire/codec.js';
import { deriveHostKey, KeyRing, type MonitorKeys } from '../../src/wire/keys.js';
import { MONITOR_DATAGRAM_BYTES } from '../../src/wire/monitor-format.js';
import { ViewPager } from '../../src/wire/view-pager.js';
import { beat, BOOT_A, BOOT_B, k, NOW } from './beacon-beats.js';

/** The leaving on the wire (codec kind 5) and the left marks in the monitors' paged view (entry kind 6). */
const KEYS: MonitorKeys = {
  monitor: k('m'),
  monitorNext: null,
  sealWith: 'current',
  beaconMaster: k('b'),
  beaconMasterNext: null,
  legacyCluster: null,
};
const hostKey = (h: string) => deriveHostKey(KEYS.beaconMaster!, h);

function admission(): Admission {
  return new Admission({ self: 'm1', monitors: ['m1', 'm2'], keys: new KeyRing(KEYS), maxClockSkewMs: 60_000, peerViewStaleMs: 1000 });
}

describe('the leaving datagram', () => {
  it('is its own kind with the heartbeat body, sealed with the host key, and decodes as a leaving', () => {
    const b = beat({ seq: 42 });
    const buf = encodeLeaving(b, hostKey('compute-2'));
    expect(buf[4]).toBe(5);
    expect(buf.length).toBeLessThanOrEqual(1400);
    // Same body as a heartbeat: only the kind byte (and so the seal) differs.
    const hb = encodeBeacon(b, hostKey('compute-2'));
    expect(buf.subarray(5, buf.length - 32)).toEqual(hb.subarray(5, hb.length - 32));
    expect(decode(buf, hostKey('compute-2'))).toEqual({ ok: true, kind: 'leaving', beat: b });
    // The longest host name still fits one datagram.
    expect(encodeLeaving(beat({ host: 'x'.repeat(255) }), k('z')).length).toBeLessThanOrEqual(MONITOR_DATAGRAM_BYTES);
  });

  it('is admitted as a leaving input for the core', () => {
    const a = admission();
    a.admit(encodeBeacon(beat(), hostKey('compute-2')), 1, NOW);
    expect(a.admit(encodeLeaving(beat({ seq: 2 }), hostKey('compute-2')), 2, NOW)).toEqual({
      ok: true,
      input: { type: 'leaving', at: 2, beat: beat({ seq: 2 }) },
    });
  });

  it('cannot be said for another host: a leaving for compute-3 sealed with compute-2 key is a forgery', () => {
    const r = admission().admit(encodeLeaving(beat({ host: 'compute-3' }), hostKey('compute-2')), 1, NOW);
    expect(r).toMatchObject({ ok: false, reason: 'forged', claimed: 'compute-3' });
  });

  it('cannot be played back: a copy, and a recording of an earlier boot, are refused as replays', () => {
    const a = admission();
    const leaving = encodeLeaving(beat({ seq: 2 }), hostKey('compute-2'));
    a.admit(encodeBeacon(beat(), hostKey('compute-2')), 1, NOW);
    expect(a.admit(leaving, 2, NOW).ok).toBe(true);
    expect(a.admit(leaving, 3, NOW)).toEqual({ ok: false, reason: 'replay' });
    // The host boots again; its old boot's leaving, recorded, is played back to silence the new boot.
    expect(a.admit(encodeBeacon(beat({ bootId: BOOT_B, seq: 1 }), hostKey('compute-2')), 4, NOW).ok).toBe(true);
    expect(a.admit(leaving, 5, NOW)).toEqual({ ok: false, reason: 'replay' });
    // A recording of a boot this monitor never saw, sent long after: its send time gives it away.
    const old = encodeLeaving(beat({ bootId: 'c'.repeat(32), seq: 9, sentAtMs: NOW - 3_600_000 }), hostKey('compute-2'));
    expect(a.admit(old, 6, NOW)).toEqual({ ok: false, reason: 'clock_skew' });
  });

  it('is malformed, not a crash, when cut short or bent', () => {
    const buf = encodeLeaving(beat(), hostKey('compute-2'));
    for (let n = 0; n < buf.length; n++) expect(() => admission().admit(buf.subarray(0, n), 1, NOW)).not.toThrow();
    const bent = Buffer.from(buf);
    bent[10] ^= 1;
    expect(admission().admit(bent, 1, NOW).ok).toBe(false);
  });
});

describe('left marks in the monitor view', () => {
  const key = KEYS.monitor!;
  const peer = (left: LeftMark[]): MonitorBeat => ({
    from: 'm2',
    bootId: 'ab'.repeat(16),
    seq: 1,
    sentAtMs: NOW,
    hears: ['m1', 'm2'],
    vote: 'm2',
    acting: true,
    epoch: 1,
    paused: false,
    verdicts: [{ host: 'compute-2', level: 'dead', bootId: BOOT_A }],
    decisions: [],
    maintenance: [],
    left,
  });

  /** `b` paged by m2 and every page admitted by m1 (each within one datagram); the header is the test's to send. */
  function pagedToM1(b: MonitorBeat, pacing: { pagesPerTick: number; minVersionGapMs: number }): { a: Admission; p: ViewPager } {
    const p = new ViewPager({ from: 'm2', bootId: b.bootId, ...pacing, refreshMs: 500, seal: (kind, body) => seal(kind, body, key) });
    p.offer(b);
    const pages = p.pump(0, true);
    const a = admission();
    for (const d of pages) {
      expect(d.length).toBeLessThanOrEqual(MONITOR_DATAGRAM_BYTES);
      a.admit(d, 0, NOW);
    }
    return { a, p };
  }

  it('travel in the pages and reach the core whole', () => {
    const left = [{ host: 'compute-2', bootId: BOOT_A, seq: 7, sentAtMs: NOW - 5 }];
    const b = peer(left);
    const { a, p } = pagedToM1(b, { pagesPerTick: 100, minVersionGapMs: 100 });
    expect(a.admit(p.header(b), 0, NOW)).toEqual({ ok: true, input: { type: 'peer', at: 0, beat: b } });
  });

  it('page as many as a cluster has: 5,000 left hosts all arrive, in pages of at most 1,400 bytes', () => {
    const left = Array.from({ length: 5000 }, (_, i) => ({
      host: `compute-${String(i).padStart(5, '0')}`,
      bootId: BOOT_A,
      seq: i,
      sentAtMs: NOW,
    }));
    const b = { ...peer(left), verdicts: [] };
    const { a, p } = pagedToM1(b, { pagesPerTick: 10_000, minVersionGapMs: 0 });
    const got = a.admit(p.header(b), 0, NOW);
    expect(got.ok && got.input?.type === 'peer' && got.input.beat.left?.length).toBe(5000);
  });
});
