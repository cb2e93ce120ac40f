import { mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { capturingLogger } from '../helpers/logs.js';
import { Outbox, type OutboxLimits } from '../../src/notify/outbox.js';
import { decodeRecords, encodeRecord } from '../../src/notify/outbox-codec.js';
import { OutboxLockedError } from '../../src/notify/outbox-lock.js';

const BIG: OutboxLimits = { maxRecords: 100_000, maxBytes: 1 << 30 };
let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'iha-outbox-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const put = (i: number) => ({ id: `id-${i}`, priority: 'INFO' as const, body: `{"n": ${i}}` });

async function fill(box: Outbox, from: number, to: number): Promise<void> {
  for (let i = from; i <= to; i++) expect(box.enqueue(put(i)).ok).toBe(true);
  await box.flushed();
}

describe('outbox', () => {
  it('replays unconfirmed notifications in order after reopen; confirmed ones are gone', async () => {
    const { log } = capturingLogger();
    const a = await Outbox.open({ dir, limits: BIG, log });
    await fill(a, 1, 10);
    expect(a.peek(100).map((r) => r.id)).toEqual(Array.from({ length: 10 }, (_, i) => `id-${i + 1}`));
    a.ack(a.peek(4)[3]!.seq);
    await a.close();

    const b = await Outbox.open({ dir, limits: BIG, log });
    expect(b.peek(100).map((r) => r.id)).toEqual(['id-5', 'id-6', 'id-7', 'id-8', 'id-9', 'id-10']);
    // New records continue after the old ones.
    await fill(b, 11, 11);
    expect(b.peek(100).at(-1)!.id).toBe('id-11');
    await b.close();
  });

  it('a torn last record and a corrupted middle record are logged and skipped; the records after survive', async () => {
    const { log, lines } = capturingLogger();
    const a = await Outbox.open({ dir, limits: BIG, log });
    await fill(a, 1, 5);
    await a.close();
    const file = join(dir, 'outbox.log');
    const image = readFileSync(file);
    const recs = decodeRecords(image).records;
    // Flip one payload byte of record 2 (CRC mismatch) and tear record 5 half-way (crash mid-write).
    image[recs[1]!.offset + 20]! ^= 0xff;
    writeFileSync(file, image);
    truncateSync(file, recs[4]!.offset + 9);

    const b = await Outbox.open({ dir, limits: BIG, log });
    expect(b.peek(100).map((r) => r.id)).toEqual(['id-1', 'id-3', 'id-4']);
    expect(b.stats().corruptSkipped).toBe(2);
    const errs = lines().filter((l) => l.msg === 'outbox: corrupt record skipped');
    expect(errs.map((l) => l.reason)).toEqual(['crc mismatch', 'truncated header']);
    expect(existsSync(join(dir, 'outbox.corrupt'))).toBe(true);
    await b.close();
    // The rewritten file is clean.
    expect(decodeRecords(readFileSync(file)).corrupt).toEqual([]);
  });

  it('when full: refuses the new one with an alarm, keeps the oldest, clears once confirmed below 90 %', async () => {
    const { log, lines } = capturingLogger();
    const box = await Outbox.open({ dir, limits: { maxRecords: 10, maxBytes: 1 << 20 }, log });
    await fill(box, 1, 10);
    expect(box.enqueue(put(11))).toEqual({ ok: false, reason: 'full' });
    expect(box.enqueue(put(12))).toEqual({ ok: false, reason: 'full' });
    expect(box.stats()).toMatchObject({ full: true, refused: 2, records: 10 });
    expect(box.peek(100).map((r) => r.id)[0]).toBe('id-1');
    expect(lines().filter((l) => String(l.msg).startsWith('outbox full')).length).toBe(1);

    box.ack(box.peek(1)[0]!.seq); // 9 left: not below 90 % of 10
    expect(box.stats().full).toBe(true);
    box.ack(box.peek(1)[0]!.seq); // 8 left
    expect(box.stats().full).toBe(false);
    expect(box.enqueue(put(13)).ok).toBe(true);
    await box.close();
  });

  it('counts records while they are being written and synced (backlog never reads 0 too early)', async () => {
    const { log } = capturingLogger();
    const box = await Outbox.open({ dir, limits: BIG, log });
    for (let i = 1; i <= 3; i++) box.enqueue(put(i));
    expect(box.stats().records).toBe(3);
    await box.flushed();
    expect(box.stats().records).toBe(3);
    await box.close();
  });

  it('one process per directory; a lock left by a dead process, or by a reused pid, is taken over', async () => {
    const { log } = capturingLogger();
    const a = await Outbox.open({ dir, limits: BIG, log });
    await expect(Outbox.open({ dir, limits: BIG, log })).rejects.toBeInstanceOf(OutboxLockedError);
    await a.close();
    writeFileSync(join(dir, 'outbox.lock'), JSON.stringify({ pid: 2 ** 22 + 1, start: '1' })); // no such pid
    await (await Outbox.open({ dir, limits: BIG, log })).close();
    writeFileSync(join(dir, 'outbox.lock'), JSON.stringify({ pid: process.ppid, start: 'not-its-start-time' }));
    await (await Outbox.open({ dir, limits: BIG, log })).close();
  });

  it('the byte limit counts too', async () => {
    const { log } = capturingLogger();
    const frame = encodeRecord({ kind: 'put', seq: 1, ...put(1) }).length;
    const box = await Outbox.open({ dir, limits: { maxRecords: 1000, maxBytes: frame * 3 + 5 }, log });
    await fill(box, 1, 3);
    expect(box.enqueue(put(4)).ok).toBe(false);
    await box.close();
  });

  it('compacts: the file does not grow forever', async () => {
    const { log } = capturingLogger();
    const box = await Outbox.open({ dir, limits: BIG, log, compactMinBytes: 64 * 1024 });
    const body = 'x'.repeat(1000);
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 50; i++) box.enqueue({ id: `r${round}-${i}`, priority: 'INFO', body });
      await box.flushed();
      box.ack(box.peek(1000).at(-1)!.seq);
      await box.flushed();
    }
    await fill(box, 1, 3);
    const size = statSync(join(dir, 'outbox.log')).size;
    expect(size).toBeLessThan(200 * 1024); // 1000 x 1 KB went through it
    await box.close();
    const again = await Outbox.open({ dir, limits: BIG, log });
    expect(again.peek(100).map((r) => r.id)).toEqual(['id-1', 'id-2', 'id-3']);
    await again.close();
  });
});
