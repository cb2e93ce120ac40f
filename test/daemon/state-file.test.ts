import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { PersistedState } from '../../src/core/effects.js';
import { StateFileError } from '../../src/errors.js';
import { parseStateFile, STATE_FORMAT } from '../../src/daemon/state-file.js';
import { FileStateStore } from '../../src/daemon/state-store.js';

const FILE = '/var/lib/instance-ha/monitor-state.json';

const good: PersistedState = {
  knownHosts: ['cmp1', 'cmp2'],
  maintenance: [{ host: 'cmp2', on: true, atMs: 1700000000000, by: 'ops' }],
  decisions: [
    {
      host: 'cmp1',
      state: 'recovering',
      bootId: 'b'.repeat(32),
      sinceMs: 42,
      fenceAttempts: 1,
      fence: {
        ok: true,
        level: 1,
        devices: ['ipmi1'],
        agent: 'fence_ipmi',
        durationMs: 800,
        attempts: [{ level: 1, device: 'ipmi1', agent: 'fence_ipmi', action: 'off', exitCode: 0, ok: true, durationMs: 700 }],
        by: 'mon1',
      },
    },
  ],
  epoch: 7,
};

function problemOf(text: string): string {
  try {
    parseStateFile(FILE, text);
  } catch (err) {
    expect(err).toBeInstanceOf(StateFileError);
    const msg = (err as Error).message;
    expect(msg.startsWith(`${FILE}: `)).toBe(true);
    expect(msg).not.toContain('\n');
    return msg;
  }
  throw new Error('accepted');
}

describe('reading monitor-state.json', () => {
  it('reads back what was written, and a file from before versioning', () => {
    expect(parseStateFile(FILE, JSON.stringify({ format: STATE_FORMAT, ...good }))).toEqual(good);
    expect(parseStateFile(FILE, JSON.stringify(good))).toEqual(good);
    expect(parseStateFile(FILE, '{}')).toEqual({ knownHosts: [], maintenance: [], decisions: [], epoch: 0 });
  });

  it.each([
    ['', /empty \(truncated\?\)/],
    ['{"knownHosts":["a"', /not valid JSON/],
    ['[1,2]', /expected a JSON object, found a list/],
    ['{"knownHosts":"cmp1"}', /'knownHosts' must be a list, found string "cmp1"/],
    ['{"knownHosts":[3]}', /'knownHosts\[0\]' must be a string, found number 3/],
    ['{"epoch":-1}', /'epoch' must be a whole number ≥ 0, found -1/],
    ['{"epoch":"7"}', /'epoch' must be a whole number/],
    ['{"maintenance":[{"host":"a","on":"yes","atMs":1,"by":"x"}]}', /'maintenance\[0\]\.on' must be true or false/],
    ['{"decisions":[{"host":"a","state":"exploded","bootId":"b","sinceMs":1,"fenceAttempts":0}]}', /'decisions\[0\]\.state' is "exploded"/],
    [
      '{"decisions":[{"host":"a","state":"fenced","bootId":"b","sinceMs":1,"fenceAttempts":0,"fence":{"ok":1}}]}',
      /decisions\[0\]\.fence\.ok/,
    ],
    [
      JSON.stringify({
        decisions: ['fenced', 'failed'].map((state) => ({ host: 'a', state, bootId: 'b', sinceMs: 1, fenceAttempts: 0 })),
      }),
      /a second decision for host 'a'/,
    ],
    ['{"format":0}', /'format' must be a positive integer/],
  ])('refuses %s, naming the file and what is wrong', (text, why) => {
    const msg = problemOf(text);
    expect(msg).toMatch(why);
    expect(msg).toContain('docs/operations.md');
  });

  it('reads back the hosts that left cleanly, and refuses a bad entry naming it', () => {
    const left = [{ host: 'cmp3', bootId: 'c'.repeat(32), seq: 9, sentAtMs: 1_700_000_000_000 }];
    expect(parseStateFile(FILE, JSON.stringify({ ...good, left }))).toEqual({ ...good, left });
    expect(problemOf(JSON.stringify({ ...good, left: [{ ...left[0], seq: -1 }] }))).toMatch(/left\[0\]\.seq/);
    expect(problemOf(JSON.stringify({ ...good, left: [{ host: 'cmp3' }] }))).toMatch(/left\[0\]\.bootId/);
    expect(problemOf(JSON.stringify({ ...good, left: 'cmp3' }))).toMatch(/'left' must be a list/);
  });

  it('refuses a file written by a newer format, saying which and what to do', () => {
    const msg = problemOf(JSON.stringify({ format: STATE_FORMAT + 1, ...good }));
    expect(msg).toBe(
      `${FILE}: written by instance-ha state format ${STATE_FORMAT + 1}, this build reads up to format ${STATE_FORMAT}; ` +
        'upgrade this monitor to the release that wrote it (or newer); never edit the file down (docs/operations.md "Downgrading")',
    );
  });

  it('keeps fields it does not know (a newer minor addition survives a round trip)', () => {
    const withExtra = { ...good, decisions: [{ ...good.decisions[0]!, incident: 'abc' }] };
    expect(parseStateFile(FILE, JSON.stringify(withExtra)).decisions[0]).toMatchObject({ incident: 'abc' });
  });

  // Fuzz: random JSON, and the good document mutated one value at a time, truncated or bit-flipped.
  it('never throws anything but a StateFileError naming the file, on any input', () => {
    const check = (text: string): void => {
      try {
        parseStateFile(FILE, text);
      } catch (err) {
        if (!(err instanceof StateFileError) || !err.message.startsWith(`${FILE}: `) || err.message.includes('\n')) throw err;
      }
    };
    const goodText = JSON.stringify({ format: STATE_FORMAT, ...good });
    fc.assert(fc.property(fc.string(), check), { numRuns: 500 });
    fc.assert(
      fc.property(fc.jsonValue(), (v) => check(JSON.stringify(v) ?? '')),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.nat(goodText.length), (n) => check(goodText.slice(0, n))),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.nat(goodText.length - 1), fc.integer({ min: 0, max: 255 }), (at, byte) => {
        const b = Buffer.from(goodText);
        b[at] = byte;
        check(b.toString('utf8'));
      }),
      { numRuns: 500 },
    );
    // Structure-aware: replace any one value of the document by a random JSON value.
    const paths = leafPaths(JSON.parse(goodText));
    fc.assert(
      fc.property(fc.constantFrom(...paths), fc.jsonValue(), (path, value) => {
        const doc = JSON.parse(goodText) as unknown;
        setAt(doc, path, value);
        check(JSON.stringify(doc));
      }),
      { numRuns: 1000 },
    );
  });
});

function leafPaths(v: unknown, at: Array<string | number> = []): Array<Array<string | number>> {
  const out: Array<Array<string | number>> = [at];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...leafPaths(x, [...at, i])));
  else if (typeof v === 'object' && v !== null) for (const [k, x] of Object.entries(v)) out.push(...leafPaths(x, [...at, k]));
  return out.filter((p) => p.length > 0);
}

function setAt(doc: unknown, path: Array<string | number>, value: unknown): void {
  let o = doc as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
  o[path[path.length - 1]!] = value;
}

describe('FileStateStore', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('writes the format version, and refuses a corrupt file with a StateFileError naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'iha-state-'));
    dirs.push(dir);
    const store = new FileStateStore(dir);
    store.save(good);
    expect(JSON.parse(readFileSync(store.file, 'utf8'))).toMatchObject({ format: STATE_FORMAT, epoch: 7 });
    expect(new FileStateStore(dir).load()).toEqual(good);
    writeFileSync(store.file, '{"decisions":[{"host":');
    expect(() => new FileStateStore(dir).load()).toThrow(StateFileError);
    expect(() => new FileStateStore(dir).load()).toThrow(`${store.file}: not valid JSON`);
  });
});
