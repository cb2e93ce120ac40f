import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeRecords, encodeRecord, HEADER_BYTES, type OutboxEntry } from '../../src/notify/outbox-codec.js';

/**
 * The outbox loader on any bytes: it never throws and never hangs; every byte is either a record it
 * decoded or inside a corrupt region it reports (kept aside and alarmed by the outbox), and a valid
 * record after a damaged one is still found.
 */
const entry = fc.oneof(
  fc.record({
    kind: fc.constant('put' as const),
    seq: fc.integer({ min: 1, max: 2 ** 40 }),
    id: fc.uuid(),
    priority: fc.constantFrom('INFO' as const, 'ERROR' as const),
    body: fc.string({ maxLength: 200 }),
  }),
  fc.record({ kind: fc.constant('ack' as const), seq: fc.integer({ min: 1, max: 2 ** 40 }) }),
);

function accounted(buf: Buffer): void {
  const { records, corrupt } = decodeRecords(buf);
  const covered = [...records.map((r) => r.lengthBytes), ...corrupt.map((c) => c.lengthBytes)].reduce((a, b) => a + b, 0);
  expect(covered).toBe(buf.length);
}

describe('the outbox loader under fuzz', () => {
  it('never throws on random bytes, and accounts for every byte', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (b) => accounted(Buffer.from(b))),
      { numRuns: 1000 },
    );
  });

  it('reads back valid records, and on a mutated file keeps every record it did not damage', () => {
    fc.assert(
      fc.property(fc.array(entry, { minLength: 1, maxLength: 8 }), fc.nat(), fc.integer({ min: 0, max: 255 }), (entries, at, byte) => {
        const frames = entries.map((e) => encodeRecord(e as OutboxEntry));
        const image = Buffer.concat(frames);
        expect(decodeRecords(image).records.map((r) => r.entry)).toEqual(entries);
        const mutated = Buffer.from(image);
        const pos = at % mutated.length;
        mutated[pos] = byte;
        accounted(mutated);
        // Records wholly after the damaged one's frame come back intact.
        let start = 0;
        const damagedFrame = frames.findIndex((f) => (start += f.length) > pos);
        const after = decodeRecords(mutated).records.map((r) => r.entry);
        for (const e of entries.slice(damagedFrame + 1)) expect(after).toContainEqual(e);
      }),
      { numRuns: 500 },
    );
  });

  it('treats a record whose checksum holds but whose fields are wrong as corrupt, never half-read', () => {
    for (const payload of ['{"k":"put","seq":1,"id":"x","p":"LOUD","body":""}', '{"k":"ack","seq":-3}', '{"k":"ack","seq":1.5}', '[]']) {
      const frame = encodeRecord({ kind: 'ack', seq: 1 });
      const body = Buffer.from(payload);
      const f = Buffer.alloc(HEADER_BYTES + body.length);
      frame.copy(f, 0, 0, 4);
      f.writeUInt32BE(body.length, 4);
      f.writeUInt32BE(crc32(body), 8);
      body.copy(f, HEADER_BYTES);
      const { records, corrupt } = decodeRecords(f);
      expect(records, payload).toEqual([]);
      expect(corrupt).toHaveLength(1);
    }
  });
});
