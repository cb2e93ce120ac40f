import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decode, encodeBeacon, encodeMonitor } from '../../src/wire/codec.js';
import type { MonitorBeat } from '../../src/core/messages.js';

const key = Buffer.from('0123456789abcdef0123456789abcdef');
const beat = {
  host: 'cmp-17',
  bootId: 'aa'.repeat(16),
  seq: 42,
  sentAtMs: 1_795_000_000_123.5,
  intervalMs: 500,
  novaCompute: 'up' as const,
};
const monitorBeat: MonitorBeat = {
  from: 'mon1',
  bootId: 'b1',
  seq: 7,
  sentAtMs: 1,
  hears: ['mon1', 'mon2'],
  vote: 'mon1',
  acting: true,
  epoch: 3,
  paused: false,
  verdicts: [{ host: 'cmp-3', level: 'dead', bootId: 'x' }],
  decisions: [{ host: 'cmp-3', state: 'fencing', bootId: 'x', sinceMs: 5, fenceAttempts: 1 }],
  maintenance: [{ host: 'cmp-9', on: true, atMs: 9, by: 'ops' }],
};

describe('datagram codec', () => {
  it('round-trips a beacon heartbeat', () => {
    expect(decode(encodeBeacon(beat, key), key)).toEqual({ ok: true, kind: 'beacon', beat });
  });

  it('round-trips a monitor heartbeat', () => {
    expect(decode(encodeMonitor(monitorBeat, key), key)).toEqual({ ok: true, kind: 'monitor', beat: monitorBeat });
  });

  it('rejects a datagram sealed with another key', () => {
    expect(decode(encodeBeacon(beat, Buffer.from('another key of sixteen+')), key)).toEqual({ ok: false, reason: 'bad_mac' });
  });

  it('rejects any single flipped bit, anywhere', () => {
    const good = encodeBeacon(beat, key);
    for (let i = 0; i < good.length * 8; i++) {
      const bad = Buffer.from(good);
      bad[i >> 3]! ^= 1 << (i & 7);
      const r = decode(bad, key);
      expect(r.ok, `bit ${i}`).toBe(false);
    }
  });

  it('rejects every truncation and oversized input without throwing', () => {
    const good = encodeMonitor(monitorBeat, key);
    for (let n = 0; n < good.length; n++) expect(decode(good.subarray(0, n), key).ok).toBe(false);
    expect(decode(Buffer.alloc(70_000), key)).toEqual({ ok: false, reason: 'oversized' });
  });

  it('rejects well-authenticated bodies of the wrong shape (a buggy peer must not crash us)', () => {
    const { createHmac } = require('node:crypto') as typeof import('node:crypto');
    const seal = (kind: number, body: Buffer): Buffer => {
      const head = Buffer.concat([Buffer.from('IHA'), Buffer.from([1, kind]), body]);
      return Buffer.concat([head, createHmac('sha256', key).update(head).digest()]);
    };
    for (const body of [
      '{}',
      '[]',
      'null',
      '{"from":1}',
      'not json',
      JSON.stringify({ ...monitorBeat, verdicts: [{ host: 'x', level: 'gone' }] }),
    ]) {
      expect(decode(seal(2, Buffer.from(body)), key).ok, body).toBe(false);
    }
    expect(decode(seal(1, randomBytes(40)), key).ok).toBe(false);
    expect(decode(seal(9, Buffer.from('{}')), key)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('refuses to encode a host name that cannot be carried', () => {
    expect(() => encodeBeacon({ ...beat, host: '' }, key)).toThrow(/host name/);
    expect(() => encodeBeacon({ ...beat, host: 'x'.repeat(256) }, key)).toThrow(/host name/);
  });
});
