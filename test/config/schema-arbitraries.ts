/**
 * fast-check arbitraries for configuration documents, drawn from a description of each reader's
 * keys: valid-looking keys with values of the expected kind (often out of bounds), of a random
 * other type, or replaced by a whole random subtree; plus unknown keys. Used by fuzz.test.ts.
 */
import fc from 'fast-check';

export type Kind =
  'agent' | 'duration' | 'number' | 'count' | 'bool' | 'string' | 'host' | 'hosts' | 'address' | 'addresses' | 'file' | 'strings';
/** A mapping of keys to kinds or nested schemas; `*name` / `*host` stands for operator-chosen keys. */
export interface Schema {
  [key: string]: Kind | Schema | { list: Schema } | { levels: true };
}

/** Paths a `*_file` key may name: real files of every awkward type, made by the test. */
export interface FilePaths {
  paths: readonly string[];
}

const WEIRD_STRINGS = [
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  '../../etc/passwd',
  '',
  ' ',
  '\u0000',
  'a\nb',
  '\u001b[2J',
  'caf\u00e9',
  '\uFFFD',
  '\u202e',
  'x'.repeat(300),
  '9999h',
  '-1s',
  '1e400',
  'NaN',
  '0x10',
  '.inf',
];

export const anyScalar = fc.oneof(
  fc.constantFrom(...WEIRD_STRINGS),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -1, 2 ** 31, 2 ** 53, Number.MAX_VALUE, Infinity, -Infinity),
  fc.boolean(),
  fc.constant(null),
);

/** Any value YAML can hold: scalars, lists and mappings, a few levels deep. */
export const anyValue: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    anyScalar,
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.constantFrom(...WEIRD_STRINGS.filter(Boolean)), fc.string({ minLength: 1, maxLength: 10 })), tie('v'), {
      maxKeys: 4,
    }),
  ),
})).v;

const duration = fc.oneof(
  fc
    .tuple(
      fc.oneof(fc.nat(), fc.nat({ max: 100_000 }), fc.double({ min: 0, max: 1e6, noNaN: true })),
      fc.constantFrom('ms', 's', 'm', 'h', ''),
    )
    .map(([n, u]) => `${n}${u}`),
  fc.constantFrom('9999h', '0', '0ms', '1ms', '10m', '1h', '24h', 2 ** 31, 2 ** 31 - 1, -5, '1.5m', ' 2s ', '2 s', '2sec'),
  fc.nat(),
);

const hostish = fc.oneof(
  fc.constantFrom(
    'cmp1',
    'CMP1',
    'compute-2',
    'a.b.c',
    'a'.repeat(63),
    'a'.repeat(64),
    Array(64).fill('abc').join('.'),
    '-x',
    'x-',
    'x..y',
  ),
  fc.constantFrom(...WEIRD_STRINGS),
  fc.stringMatching(/^[a-z0-9-]{1,10}(\.[a-z0-9-]{1,10}){0,2}$/),
);

const address = fc.oneof(
  fc
    .tuple(
      fc.oneof(hostish, fc.constantFrom('127.0.0.1', '0.0.0.0', '::1', '[::1]', '10.0.0.1')),
      fc.oneof(fc.nat({ max: 70_000 }), fc.constant(7400)),
    )
    .map(([h, p]) => `${h}:${p}`),
  fc.constantFrom('127.0.0.1:7400', '[::1]:7400', '[fe80::1]:1', 'nowhere', ':7400', '127.0.0.1:0', '[__proto__]:1'),
);

function leaf(kind: Kind, files: FilePaths): fc.Arbitrary<unknown> {
  switch (kind) {
    case 'agent':
      return fc.oneof(
        fc.constantFrom('native-ipmi', 'native-redfish', 'fence_fake', 'fence_nope', '/bin/true', '../x'),
        fc.string({ maxLength: 12 }),
      );
    case 'duration':
      return duration;
    case 'number':
      return fc.oneof(fc.double(), fc.integer(), fc.constantFrom(0, 1, 0.5, 1e-9, 1e-20, 2 ** 40));
    case 'count':
      return fc.oneof(fc.integer({ min: -10, max: 200 }), fc.constantFrom(0, 1, 2, 3, 99, 100, 1e9, 2.5, -1));
    case 'bool':
      return fc.oneof(fc.boolean(), fc.constantFrom('yes', 'true', 1, 0));
    case 'string':
      return fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom(...WEIRD_STRINGS));
    case 'host':
      return hostish;
    case 'hosts':
      return fc.array(hostish, { maxLength: 5 });
    case 'address':
      return address;
    case 'addresses':
      return fc.array(address, { maxLength: 4 });
    case 'strings':
      return fc.array(fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom(...WEIRD_STRINGS)), { maxLength: 4 });
    case 'file':
      return fc.oneof(fc.constantFrom(...files.paths), fc.string({ maxLength: 30 }));
  }
}

/** A document for `schema`: every key optional, each value usually of its kind, sometimes anything. */
export function documentOf(schema: Schema, files: FilePaths): fc.Arbitrary<Record<string, unknown>> {
  const parts: Array<fc.Arbitrary<[string, unknown] | null>> = [];
  for (const [key, spec] of Object.entries(schema)) {
    const value = valueOf(spec, files);
    const pick = fc.oneof({ weight: 4, arbitrary: value }, { weight: 1, arbitrary: anyValue });
    if (key === '*name' || key === '*host') {
      const names =
        key === '*host' ? hostish : fc.oneof(fc.constantFrom('d1', 'd2', '__proto__', 'A.b', '-x'), fc.string({ maxLength: 8 }));
      parts.push(fc.option(fc.tuple(names, pick), { nil: null, freq: 2 }));
      parts.push(fc.option(fc.tuple(names, pick), { nil: null, freq: 3 }));
    } else {
      parts.push(fc.option(fc.tuple(fc.constant(key), pick), { nil: null, freq: 2 }));
    }
  }
  // Now and then a key nobody reads.
  parts.push(
    fc.option(fc.tuple(fc.constantFrom('colour', 'Timeout', 'action-timeout', '__proto__', 'constructor'), anyValue), {
      nil: null,
      freq: 4,
    }),
  );
  return fc.tuple(...parts).map((entries) => {
    const doc: Record<string, unknown> = {};
    for (const e of entries) {
      if (!e) continue;
      Object.defineProperty(doc, e[0], { value: e[1], enumerable: true, writable: true, configurable: true });
    }
    return doc;
  });
}

function valueOf(spec: Schema[string], files: FilePaths): fc.Arbitrary<unknown> {
  if (typeof spec === 'string') return leaf(spec, files);
  if ('list' in spec && typeof spec.list === 'object') return fc.array(documentOf(spec.list as Schema, files), { maxLength: 5 });
  if ('levels' in spec && spec.levels === true)
    return fc.oneof(
      fc.array(fc.oneof(fc.constantFrom('d1', 'd2', 'nope'), fc.array(fc.constantFrom('d1', 'd2', '__proto__'), { maxLength: 3 })), {
        maxLength: 4,
      }),
      anyValue,
    );
  return documentOf(spec as Schema, files);
}

/**
 * A mutation of a valid document: a value replaced (by one of its kind's neighbours or anything), a
 * key deleted, or an unknown key added, at a random path.
 */
export function mutationsOf(doc: unknown): fc.Arbitrary<unknown> {
  const paths = allPaths(doc);
  const one = fc.tuple(
    fc.constantFrom(...paths),
    fc.constantFrom('replace', 'delete', 'add'),
    fc.oneof(anyValue, duration, hostish, address, anyScalar),
  );
  return fc.array(one, { minLength: 1, maxLength: 4 }).map((muts) => {
    const copy = structuredClone(doc);
    for (const [path, op, value] of muts) apply(copy, path, op, value);
    return copy;
  });
}

type Path = Array<string | number>;

function allPaths(v: unknown, prefix: Path = []): Path[] {
  const out: Path[] = [prefix];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...allPaths(x, [...prefix, i])));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...allPaths(x, [...prefix, k]));
  return out;
}

function apply(root: unknown, path: Path, op: 'replace' | 'delete' | 'add', value: unknown): void {
  if (path.length === 0) return;
  let parent = root as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) {
    const next = parent?.[k];
    if (!next || typeof next !== 'object') return;
    parent = next as Record<string | number, unknown>;
  }
  const last = path[path.length - 1]!;
  if (!parent || typeof parent !== 'object') return;
  if (op === 'delete') {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else if (op === 'add' && !Array.isArray(parent)) {
    Object.defineProperty(parent, `${String(last)}_x`, { value, enumerable: true, writable: true, configurable: true });
  } else {
    Object.defineProperty(parent, last, { value, enumerable: true, writable: true, configurable: true });
  }
}
