import { describe, expect, it } from 'vitest';
import { KeyRing } from '../../src/wire/keys.js';
import type { FenceRecord } from '../../src/core/events.js';
import type { HostDecision, MonitorBeat } from '../../src/core/messages.js';
import { Admission } from '../../src/wire/admission.js';
import { decode, encodeMonitor, seal } from '../../src/wire/codec.js';
import { FENCE_JSON_MAX, MONITOR_DATAGRAM_BYTES, PROTOCOL_MAJOR } from '../../src/wire/monitor-format.js';
import { KIND_HEADER, KIND_PAGE, ViewPager } from '../../src/wire/view-pager.js';

const key = Buffer.alloc(32, 9);
const BOOT = 'ab'.repeat(16);
const WALL = 1_795_000_000_000;

function beat(over: Partial<MonitorBeat> = {}): MonitorBeat {
  return {
    from: 'm2',
    bootId: BOOT,
    seq: 1,
    sentAtMs: WALL,
    hears: ['m1', 'm2', 'm3'],
    vote: 'm1',
    acting: false,
    epoch: 4,
    paused: false,
    verdicts: [],
    decisions: [],
    maintenance: [],
    ...over,
  };
}

/** Monitor datagrams sealed with the monitor key, as every monitor of a cluster has it. */
function monitorKeys(): KeyRing {
  return new KeyRing({
    monitor: key,
    monitorNext: null,
    sealWith: 'current',
    beaconMaster: null,
    beaconMasterNext: null,
    legacyCluster: null,
  });
}

function pager(pagesPerTick = 1000): ViewPager {
  return new ViewPager({ from: 'm2', bootId: BOOT, pagesPerTick, refreshMs: 500, minVersionGapMs: 100, seal: (k, b) => seal(k, b, key) });
}

function admission(): Admission {
  return new Admission({ self: 'm1', monitors: ['m1', 'm2', 'm3'], keys: monitorKeys(), maxClockSkewMs: 60_000, peerViewStaleMs: 1000 });
}

/** Sends a beat the way the driver does (pages, then the header) and returns the datagrams. */
function send(p: ViewPager, b: MonitorBeat, now: number): { pages: Buffer[]; header: Buffer } {
  p.offer(b);
  const pages = p.pump(now, true);
  return { pages, header: p.header(b) };
}

const verdicts = (n: number, name = (i: number) => `compute-${String(i).padStart(5, '0')}`) =>
  Array.from({ length: n }, (_, i) => ({ host: name(i), level: 'dead' as const, bootId: 'cd'.repeat(16) }));

describe('the paged monitor heartbeat', () => {
  it('sends 10,000 dead verdicts in a few hundred datagrams of at most 1,400 bytes, and the peer gets the whole view', () => {
    const p = pager();
    const b = beat({ verdicts: verdicts(10_000) });
    const { pages, header } = send(p, b, 0);
    expect(pages.length).toBeGreaterThan(100);
    expect(pages.length).toBeLessThan(300);
    for (const d of [...pages, header]) expect(d.length).toBeLessThanOrEqual(MONITOR_DATAGRAM_BYTES);
    const a = admission();
    for (const d of pages) expect(a.admit(d, 10, WALL)).toEqual({ ok: true, input: null });
    const got = a.admit(header, 10, WALL);
    expect(got).toEqual({ ok: true, input: { type: 'peer', at: 10, beat: b } });
  });

  it('keeps every datagram within 1,400 bytes with the longest names, the largest fence records and 255-byte operators', () => {
    const long = (c: string, i: number) => `${c}${i}`.padEnd(255, c);
    const attempt = { level: 1, device: 'x'.repeat(300), agent: 'fence_ipmi', action: 'off', exitCode: 1, ok: false, durationMs: 5 };
    const fence: FenceRecord = {
      ok: true,
      level: 2,
      durationMs: 900,
      attempts: Array(40).fill(attempt),
      error: 'e'.repeat(5000),
      by: 'm2',
    };
    const decisions: HostDecision[] = Array.from({ length: 50 }, (_, i) => ({
      host: long('h', i),
      state: 'fenced',
      bootId: 'ef'.repeat(16),
      sinceMs: 1,
      fenceAttempts: 3,
      fence,
    }));
    const maintenance = Array.from({ length: 50 }, (_, i) => ({ host: long('m', i), on: true, atMs: 5, by: 'ü'.repeat(200) }));
    const clears = Array.from({ length: 50 }, (_, i) => ({ host: long('c', i), atMs: 6, by: 'op' }));
    const ids = Array.from({ length: 30 }, (_, i) => long('n', i).slice(0, 63));
    const b = beat({ verdicts: verdicts(500, (i) => long('v', i)), decisions, maintenance, clears, hears: ids, vote: ids[0]! });
    const { pages, header } = send(pager(), b, 0);
    for (const d of [...pages, header]) expect(d.length).toBeLessThanOrEqual(MONITOR_DATAGRAM_BYTES);
    const a = new Admission({ self: 'me', monitors: ['me', 'm2'], keys: monitorKeys(), maxClockSkewMs: 60_000 });
    for (const d of pages) a.admit(d, 0, WALL);
    const got = a.admit(header, 0, WALL);
    if (!got.ok || !got.input || got.input.type !== 'peer') throw new Error(`not admitted: ${JSON.stringify(got)}`);
    const v = got.input.beat;
    expect(v.hears).toHaveLength(30); // only the count counts for quorum, even where ids did not all fit
    expect(v.verdicts).toEqual(b.verdicts);
    expect(v.maintenance).toEqual(maintenance.map((m) => ({ ...m, by: 'ü'.repeat(127) }))); // cut to 255 bytes, whole characters
    expect(v.clears).toEqual(clears);
    expect(v.decisions).toHaveLength(50);
    const kept = v.decisions[0]!.fence!;
    expect(Buffer.byteLength(JSON.stringify(kept))).toBeLessThanOrEqual(FENCE_JSON_MAX);
    expect(kept).toMatchObject({ ok: true, level: 2, durationMs: 900, by: 'm2' });
  });

  it('paces a large view over ticks and announces a version only once all its pages have gone out', () => {
    const p = pager(64);
    const b = beat({ verdicts: verdicts(10_000) });
    p.offer(b);
    const a = admission();
    let seq = 0;
    let wholeAt = -1;
    const total: Buffer[] = [];
    for (let tick = 0; tick < 10; tick++) {
      const pages = p.pump(tick * 50, false);
      expect(pages.length).toBeLessThanOrEqual(64);
      for (const d of pages) a.admit(d, tick * 50, WALL);
      total.push(...pages);
      const header = p.header({ ...b, seq: ++seq });
      const got = a.admit(header, tick * 50, WALL);
      if (!got.ok) throw new Error(got.reason);
      const whole = total.length === (decode(total[0]!, key) as { page: { count: number } }).page.count;
      if (whole && wholeAt < 0) wholeAt = tick * 50;
      // Before the last page the peer does not hear this monitor at all (it would not know what it knows).
      expect(got.input?.type === 'peer' ? got.input.beat.verdicts.length : null).toBe(whole ? 10_000 : null);
    }
    expect(wholeAt).toBeGreaterThan(0);
    // Nothing changed since: nothing more until the refresh, 500 ms after the last pass.
    expect(p.pump(wholeAt + 450, false)).toEqual([]);
    expect(p.pump(wholeAt + 500, false).length).toBe(64);
  });

  it('pages a large view that changes every tick as whole versions, at most one every 100 ms', () => {
    const p = pager(64);
    const started: number[] = [];
    for (let tick = 0; tick < 40; tick++) {
      p.offer(beat({ seq: tick + 1, verdicts: verdicts(1000 + tick) })); // 28 pages, a new view every tick
      for (const d of p.pump(tick * 50, true)) {
        const r = decode(d, key);
        if (r.ok && r.kind === 'view_page' && r.page.index === 0) started.push(tick * 50);
      }
    }
    expect(started.length).toBeGreaterThan(10);
    for (let i = 1; i < started.length; i++) expect(started[i]! - started[i - 1]!).toBeGreaterThanOrEqual(100);
  });

  it('keeps the previous whole view while a page of the next is missing, and stops counting its dead verdicts after the peer timeout', () => {
    const p = pager();
    const a = admission();
    const first = send(p, beat({ seq: 1, verdicts: verdicts(100) }), 0);
    for (const d of first.pages) a.admit(d, 0, WALL);
    a.admit(first.header, 0, WALL);
    const next = send(p, beat({ seq: 2, verdicts: verdicts(300) }), 100);
    expect(next.pages.length).toBeGreaterThan(1);
    for (const d of next.pages.slice(1)) a.admit(d, 100, WALL); // the first page is lost
    const at = (ms: number, seq: number) => {
      const r = a.admit(p.header(beat({ seq, verdicts: verdicts(300) })), ms, WALL);
      return r.ok && r.input?.type === 'peer' ? r.input.beat.verdicts : [];
    };
    expect(at(150, 3)).toEqual(verdicts(100)); // never half a view
    expect(at(1100, 4).every((v) => v.level === 'dead')).toBe(true);
    const late = at(1200, 5);
    expect(late).toHaveLength(100);
    expect(late.every((v) => v.level === 'suspect')).toBe(true);
    // The refresh brings the lost page again: the new view, whole.
    for (const d of p.pump(1300, false)) a.admit(d, 1300, WALL);
    expect(at(1300, 6)).toEqual(verdicts(300));
  });

  it('a view emptied again needs no page, and an unchanged small view rides along with every header', () => {
    const p = pager();
    const a = admission();
    const small = send(p, beat({ seq: 1, verdicts: verdicts(3) }), 0);
    expect(small.pages).toHaveLength(1);
    expect(send(p, beat({ seq: 2, verdicts: verdicts(3) }), 50).pages).toHaveLength(1);
    const empty = send(p, beat({ seq: 3 }), 100);
    expect(empty.pages).toEqual([]);
    for (const d of small.pages) a.admit(d, 0, WALL);
    const r = a.admit(empty.header, 100, WALL);
    expect(r.ok && r.input?.type === 'peer' && r.input.beat.verdicts).toEqual([]);
  });

  it('refuses a page of another boot than the peer now runs (a replay) and ignores one of a version already held', () => {
    const a = admission();
    const old = new ViewPager({
      from: 'm2',
      bootId: 'aa'.repeat(16),
      pagesPerTick: 10,
      refreshMs: 500,
      minVersionGapMs: 100,
      seal: (k, b) => seal(k, b, key),
    });
    const oldPage = send(old, beat({ bootId: 'aa'.repeat(16), verdicts: verdicts(2) }), 0).pages[0]!;
    const p = pager();
    const now = send(p, beat({ verdicts: verdicts(1) }), 0);
    for (const d of now.pages) a.admit(d, 0, WALL);
    a.admit(now.header, 0, WALL);
    expect(a.admit(oldPage, 10, WALL)).toEqual({ ok: false, reason: 'replay' });
    expect(a.admit(now.pages[0]!, 10, WALL)).toEqual({ ok: true, input: null });
  });

  it('carries forget requests to the peers, with the rest of the view', () => {
    const forgets = [{ host: 'cmp-old', atMs: 77, by: 'ops' }];
    const b = beat({ forgets, maintenance: [{ host: 'cmp-9', on: true, atMs: 9, by: 'ops' }] });
    const { pages, header } = send(pager(), b, 0);
    const a = admission();
    for (const d of pages) a.admit(d, 0, WALL);
    expect(a.admit(header, 0, WALL)).toEqual({ ok: true, input: { type: 'peer', at: 0, beat: b } });
  });

  it('still reads a 0.1 monitor (kind 2, JSON), so a rolling upgrade keeps quorum', () => {
    const b = beat({ bootId: 'legacy-boot', verdicts: verdicts(2) });
    expect(admission().admit(encodeMonitor(b, key), 5, WALL)).toEqual({ ok: true, input: { type: 'peer', at: 5, beat: b } });
  });

  it('reads a newer minor version (appended fields, unknown entry kinds) and drops another major', () => {
    const { pages, header } = send(pager(), beat({ verdicts: verdicts(1) }), 0);
    const body = (d: Buffer) => d.subarray(5, d.length - 32);
    const newerHeader = Buffer.concat([body(header), Buffer.from([1, 2, 3])]);
    newerHeader[1] = 7;
    const unknownEntry = Buffer.from([99, 0, 2, 0xaa, 0xbb]);
    const newerPage = Buffer.concat([body(pages[0]!), unknownEntry]);
    newerPage[1] = 7;
    const h = decode(seal(KIND_HEADER, newerHeader, key), key);
    expect(h.ok && h.kind === 'monitor_header' && h.header.seq).toBe(1);
    const pg = decode(seal(KIND_PAGE, newerPage, key), key);
    expect(pg.ok && pg.kind === 'view_page' && pg.page.view.verdicts).toEqual(verdicts(1));
    const otherMajor = Buffer.from(body(header));
    otherMajor[0] = PROTOCOL_MAJOR + 1;
    expect(decode(seal(KIND_HEADER, otherMajor, key), key)).toEqual({ ok: false, reason: 'incompatible' });
  });

  it('carries the decision version (2.1) with the view, and a 2.0 view without one reads as before', () => {
    const b = beat({ decisionSeq: 42, decisions: [{ host: 'h1', state: 'fencing', bootId: 'b', sinceMs: 5, fenceAttempts: 1 }] });
    const { pages, header } = send(pager(), b, 0);
    const a = admission();
    for (const d of pages) a.admit(d, 0, WALL);
    expect(a.admit(header, 0, WALL)).toEqual({ ok: true, input: { type: 'peer', at: 0, beat: b } });
    const { decisionSeq: _none, ...old } = b;
    const o = send(pager(), old, 0);
    const a2 = admission();
    for (const d of o.pages) a2.admit(d, 0, WALL);
    expect(a2.admit(o.header, 0, WALL)).toEqual({ ok: true, input: { type: 'peer', at: 0, beat: old } });
  });

  it('carries a recovery_failed decision with its fence record, so a successor knows the host needs an operator', () => {
    const fence: FenceRecord = { ok: true, durationMs: 63, attempts: [], by: 'm2', at: 7 };
    const decisions: HostDecision[] = [
      { host: 'h1', state: 'recovery_failed', bootId: 'cd'.repeat(16), sinceMs: 9, fenceAttempts: 1, fence },
      { host: 'h2', state: 'evacuated', bootId: 'b2', sinceMs: 8, fenceAttempts: 1 },
    ];
    const b = beat({ decisions });
    const { pages, header } = send(pager(), b, 0);
    const a = admission();
    for (const d of pages) a.admit(d, 0, WALL);
    expect(a.admit(header, 0, WALL)).toEqual({ ok: true, input: { type: 'peer', at: 0, beat: b } });
  });

  it('skips a decision whose state a later minor names (kind 8) and keeps the rest of the page', () => {
    const kept: HostDecision = { host: 'h2', state: 'fenced', bootId: 'b2', sinceMs: 8, fenceAttempts: 1 };
    const { pages } = send(pager(), beat({ decisions: [kept] }), 0);
    const body = (d: Buffer) => d.subarray(5, d.length - 32);
    const str8 = (t: string) => Buffer.concat([Buffer.from([Buffer.byteLength(t)]), Buffer.from(t)]);
    const since = Buffer.alloc(8);
    since.writeDoubleBE(5);
    const later = Buffer.concat([str8('quarantined'), str8('h9'), str8('b9'), since, Buffer.from([0, 1, 0, 0])]);
    const len = Buffer.alloc(2);
    len.writeUInt16BE(later.length);
    const page = Buffer.concat([body(pages[0]!), Buffer.from([8]), len, later]);
    const pg = decode(seal(KIND_PAGE, page, key), key);
    expect(pg.ok && pg.kind === 'view_page' && pg.page.view.decisions).toEqual([kept]);
  });

  it('never throws on a truncated or bit-flipped body, even one that authenticates', () => {
    const { pages, header } = send(pager(), beat({ verdicts: verdicts(20), maintenance: [{ host: 'x', on: true, atMs: 1, by: 'o' }] }), 0);
    for (const [kind, d] of [
      [KIND_HEADER, header],
      [KIND_PAGE, pages[0]!],
    ] as const) {
      const body = d.subarray(5, d.length - 32);
      for (let n = 0; n < body.length; n++) expect(() => decode(seal(kind, body.subarray(0, n), key), key)).not.toThrow();
      for (let i = 0; i < Math.min(body.length, 200) * 8; i++) {
        const bad = Buffer.from(body);
        bad[i >> 3]! ^= 1 << (i & 7);
        expect(() => decode(seal(kind, bad, key), key)).not.toThrow();
      }
    }
  });
});
