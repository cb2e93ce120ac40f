import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Journal, readRecords } from '../../src/recovery/journal.js';
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

  it('cuts a corrupt line and everything after it', () => {
    const d = dir();
    appendFileSync(join(d, 'h.jsonl'), '{"t":"begin","at":1,"host":"h","incident":"i"}\n{garbage}\n{"t":"forced_down","at":2}\n');
    expect(readRecords(join(d, 'h.jsonl'))).toHaveLength(1);
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
