import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { StateFileError } from '../../src/errors.js';
import { checkJournalDir, Journal, parseJournal, readRecords } from '../../src/recovery/journal.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const tempDir = tempDirs();
const dir = (): string => tempDir('iha-journal-');

describe('Journal', () => {
  it('appends records that a new instance reads back', () => {
    const d = dir();
    const j = Journal.open(d, 'cmp1', { now: 1 });
    j.append({ t: 'begin', at: 1, host: 'cmp1', incident: 'i' });
    j.append({ t: 'forced_down', at: 2 });
    j.close();
    const k = Journal.open(d, 'cmp1', { now: 3 });
    expect(k.records.map((r) => r.t)).toEqual(['begin', 'forced_down']);
    expect(k.has('forced_down')).toBe(true);
    k.close();
  });

  it('cuts a torn last line and keeps appending after the good records', () => {
    const d = dir();
    const j = Journal.open(d, 'cmp1', { now: 1 });
    j.append({ t: 'begin', at: 1, host: 'cmp1', incident: 'i' });
    j.close();
    appendFileSync(join(d, 'cmp1.jsonl'), '{"t":"forced_do');
    const k = Journal.open(d, 'cmp1', { now: 2 });
    expect(k.records).toHaveLength(1);
    k.append({ t: 'forced_down', at: 2 });
    k.close();
    expect(readRecords(join(d, 'cmp1.jsonl')).map((r) => r.t)).toEqual(['begin', 'forced_down']);
    expect(readFileSync(join(d, 'cmp1.jsonl'), 'utf8').split('\n').filter(Boolean)).toHaveLength(2);
  });

  it('refuses a corrupt complete line, naming the file and line, and cuts nothing (records after it may hold an intent)', () => {
    const d = dir();
    const text = '{"t":"begin","at":1,"host":"h","incident":"i"}\n{garbage}\n{"t":"forced_down","at":2}\n';
    appendFileSync(join(d, 'h.jsonl'), text);
    expect(() => readRecords(join(d, 'h.jsonl'))).toThrow(StateFileError);
    expect(() => readRecords(join(d, 'h.jsonl'))).toThrow(`${join(d, 'h.jsonl')}: line 2: not valid JSON`);
    expect(readFileSync(join(d, 'h.jsonl'), 'utf8')).toBe(text);
    expect(() => checkJournalDir(d)).toThrow(StateFileError);
  });

  it('refuses a record of the wrong shape', () => {
    const d = dir();
    appendFileSync(join(d, 'h.jsonl'), '{"t":"intent","at":1,"id":7,"attempt":1,"target":null}\n');
    expect(() => readRecords(join(d, 'h.jsonl'))).toThrow("line 1: 'intent.id' must be a string");
  });

  it('never throws anything but a StateFileError naming the file on any content, and never hangs (fuzz)', () => {
    const file = '/var/lib/instance-ha/recovery/cmp1.jsonl';
    const good =
      [
        '{"t":"begin","at":1,"host":"cmp1","incident":"i"}',
        '{"t":"selected","at":2,"planned":[],"notify":[]}',
        '{"t":"intent","at":3,"id":"s1","attempt":1,"target":null}',
        '{"t":"accepted","at":4,"id":"s1","attempt":1,"how":"accepted"}',
      ].join('\n') + '\n';
    const check = (text: string): void => {
      try {
        const r = parseJournal(file, text);
        expect(r.goodBytes + r.tornBytes).toBe(Buffer.byteLength(text));
      } catch (err) {
        if (!(err instanceof StateFileError) || !err.message.startsWith(`${file}: line `) || err.message.includes('\n')) throw err;
      }
    };
    fc.assert(fc.property(fc.string(), check), { numRuns: 500 });
    fc.assert(
      fc.property(fc.array(fc.jsonValue(), { maxLength: 5 }), (vs) => check(vs.map((v) => JSON.stringify(v)).join('\n') + '\n')),
      {
        numRuns: 500,
      },
    );
    fc.assert(
      fc.property(fc.nat(good.length), (n) => check(good.slice(0, n))),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 }), (at, byte) => {
        const b = Buffer.from(good);
        b[at] = byte;
        check(b.toString('utf8'));
      }),
      { numRuns: 500 },
    );
  });

  it('archives a finished journal so the next failure starts afresh', () => {
    const d = dir();
    const j = Journal.open(d, 'cmp1', { now: 1 });
    j.append({ t: 'begin', at: 1, host: 'cmp1', incident: 'i' });
    j.append({ t: 'finished', at: 2, summary: { selected: 0, evacuated: 0, failed: 0, notified: 0 } });
    j.close();
    const k = Journal.open(d, 'cmp1', { now: 5 });
    expect(k.records).toHaveLength(0);
    k.close();
    expect(readdirSync(d).sort()).toEqual(['cmp1.5.done.jsonl', 'cmp1.jsonl']);
  });

  it('calls onAppend after the record is durable', () => {
    const d = dir();
    const seen: number[] = [];
    const j = Journal.open(d, 'cmp1', { now: 1, onAppend: (_r, i) => seen.push(readRecords(join(d, 'cmp1.jsonl')).length - i) });
    j.append({ t: 'begin', at: 1, host: 'cmp1', incident: 'i' });
    j.append({ t: 'forced_down', at: 2 });
    j.close();
    expect(seen).toEqual([0, 0]);
  });
});
