import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import '../helpers/fuzz-seed.js';
import type { GuestEventBeat } from '../../src/core/guest-failures.js';
import { openDatagram, seal, type KeyChooser } from '../../src/wire/codec.js';
import { decodeGuestBody, encodeGuestBody, GUEST_KIND } from '../../src/wire/guest-format.js';
import { hmacFor } from '../../src/wire/hmac.js';

const keyA = Buffer.alloc(32, 1);
const keyB = Buffer.alloc(32, 2);
const keys: KeyChooser = {
  forHost: (h) => [{ slot: 'current', mac: hmacFor(h === 'compute-a' ? keyA : keyB) }],
  forMonitors: () => [{ slot: 'current', mac: hmacFor(Buffer.alloc(32, 9)) }],
};
const beat = (o: Partial<GuestEventBeat> = {}): GuestEventBeat => ({
  host: 'compute-a',
  bootId: '0123456789abcdef0123456789abcdef',
  seq: 7,
  sentAtMs: 1_700_000_000_123,
  atMs: 1_700_000_000_100,
  instance: '6f1c1d0e-1111-4222-8333-944455556666',
  down: true,
  dropped: 2,
  event: 'lifecycle',
  action: '',
  detail: 'Crashed Panicked',
  domain: 'instance-0000002a',
  ...o,
});

describe('guest event datagrams (kind 7)', () => {
  it('round-trips under the host’s own key', () => {
    const r = openDatagram(seal(GUEST_KIND, encodeGuestBody(beat()), keyA), keys);
    expect(r).toEqual({ ok: true, kind: 'guest', guest: beat(), slot: 'current' });
  });

  it('a host cannot speak for another: sealed with its own key but naming another host, it is forged', () => {
    const r = openDatagram(seal(GUEST_KIND, encodeGuestBody(beat({ host: 'compute-a' })), keyB), keys);
    expect(r).toMatchObject({ ok: false, reason: 'forged', claimed: 'compute-a' });
  });

  it('is at most 1,400 bytes whatever the fields, and never fails to decode what it encoded (fuzz)', () => {
    const text = fc.string({ unit: 'binary', maxLength: 400 });
    fc.assert(
      fc.property(
        text,
        text,
        text,
        text,
        fc.string({ minLength: 1, maxLength: 255, unit: 'grapheme-ascii' }),
        (event, action, detail, domain, host) => {
          const b = beat({ event: event || 'x', action, detail, domain, host });
          const buf = seal(GUEST_KIND, encodeGuestBody(b), keyB);
          expect(buf.length).toBeLessThanOrEqual(1400);
          const back = decodeGuestBody(buf.subarray(5, buf.length - 32));
          expect(back).not.toBeNull();
          expect(back!.instance).toBe(b.instance);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1500 }), (bytes) => {
        decodeGuestBody(Buffer.from(bytes));
        openDatagram(Buffer.concat([Buffer.from([0x49, 0x48, 0x41, 1, GUEST_KIND]), Buffer.from(bytes)]), keys);
      }),
      { numRuns: 2000 },
    );
  });
});
