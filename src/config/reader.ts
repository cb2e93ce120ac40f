import { readFileSync, statSync } from 'node:fs';
import type { ConfigProblem } from '../errors.js';

/**
 * Reads one mapping of a parsed config document, collecting every problem instead of stopping at the
 * first, and reporting keys nobody asked for (unknown keys are errors, not silently ignored).
 * Each accessor records the key as known; call `finish()` once all keys were read.
 */
export class ObjectReader {
  private readonly seen = new Set<string>();
  private readonly obj: Record<string, unknown>;

  constructor(
    raw: unknown,
    readonly path: string,
    readonly problems: ConfigProblem[],
  ) {
    if (raw === undefined || raw === null) {
      this.obj = {};
    } else if (typeof raw !== 'object' || Array.isArray(raw)) {
      problems.push({ path, reason: `must be a mapping, got ${describe(raw)}` });
      this.obj = {};
    } else {
      this.obj = raw as Record<string, unknown>;
    }
  }

  static root(raw: unknown, problems: ConfigProblem[]): ObjectReader {
    return new ObjectReader(raw, '', problems);
  }

  keyPath(key: string): string {
    return this.path ? `${this.path}.${key}` : key;
  }

  has(key: string): boolean {
    return this.obj[key] !== undefined && this.obj[key] !== null;
  }

  raw(key: string): unknown {
    this.seen.add(key);
    return this.obj[key];
  }

  problem(key: string, reason: string): void {
    this.problems.push({ path: this.keyPath(key), reason });
  }

  string(
    key: string,
    opts: { default?: string; oneOf?: readonly string[]; pattern?: RegExp; patternHint?: string } = {},
  ): string | undefined {
    const v = this.raw(key);
    if (v === undefined || v === null) {
      if (opts.default === undefined) return undefined;
      return opts.default;
    }
    if (typeof v !== 'string' || v.length === 0) {
      this.problem(key, `must be a non-empty string, got ${describe(v)}`);
      return opts.default;
    }
    if (opts.oneOf && !opts.oneOf.includes(v)) {
      this.problem(key, `must be one of ${opts.oneOf.join(', ')}, got '${v}'`);
      return opts.default;
    }
    if (opts.pattern && !opts.pattern.test(v)) {
      this.problem(key, `must be ${opts.patternHint ?? `like ${opts.pattern}`}, got '${v}'`);
      return opts.default;
    }
    return v;
  }

  requiredString(key: string, opts: { oneOf?: readonly string[]; pattern?: RegExp; patternHint?: string } = {}): string {
    const v = this.string(key, opts);
    if (v === undefined && !this.problems.some((p) => p.path === this.keyPath(key))) this.problem(key, 'is required');
    return v ?? '';
  }

  number(key: string, opts: { default: number; min?: number; max?: number; integer?: boolean }): number {
    const v = this.raw(key);
    if (v === undefined || v === null) return opts.default;
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      this.problem(key, `must be a number, got ${describe(v)}`);
      return opts.default;
    }
    if (opts.integer && !Number.isInteger(v)) {
      this.problem(key, `must be a whole number, got ${v}`);
      return opts.default;
    }
    if (opts.min !== undefined && v < opts.min) {
      this.problem(key, `must be at least ${opts.min}, got ${v}`);
      return opts.default;
    }
    if (opts.max !== undefined && v > opts.max) {
      this.problem(key, `must be at most ${opts.max}, got ${v}`);
      return opts.default;
    }
    return v;
  }

  boolean(key: string, def: boolean): boolean {
    const v = this.raw(key);
    if (v === undefined || v === null) return def;
    if (typeof v !== 'boolean') {
      this.problem(key, `must be true or false, got ${describe(v)}`);
      return def;
    }
    return v;
  }

  /** A duration: a number of milliseconds or a string such as `500ms`, `2s`, `1.5m`. */
  durationMs(key: string, opts: { default: number; min?: number; max?: number }): number {
    const v = this.raw(key);
    if (v === undefined || v === null) return opts.default;
    const ms = parseDurationMs(v);
    if (ms === undefined) {
      this.problem(key, `must be a duration such as 500ms, 2s or 1m, got ${describe(v)}`);
      return opts.default;
    }
    if (opts.min !== undefined && ms < opts.min) {
      this.problem(key, `must be at least ${opts.min}ms, got ${ms}ms`);
      return opts.default;
    }
    if (opts.max !== undefined && ms > opts.max) {
      this.problem(key, `must be at most ${opts.max}ms, got ${ms}ms`);
      return opts.default;
    }
    return ms;
  }

  stringList(key: string, def: readonly string[] = []): string[] {
    const v = this.raw(key);
    if (v === undefined || v === null) return [...def];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x.length === 0)) {
      this.problem(key, `must be a list of non-empty strings, got ${describe(v)}`);
      return [...def];
    }
    return v as string[];
  }

  /** A nested mapping; absent means an empty one (so its defaults apply). */
  object(key: string): ObjectReader {
    return new ObjectReader(this.raw(key), this.keyPath(key), this.problems);
  }

  /** A list of mappings. */
  objectList(key: string): ObjectReader[] {
    const v = this.raw(key);
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) {
      this.problem(key, `must be a list, got ${describe(v)}`);
      return [];
    }
    return v.map((item, i) => new ObjectReader(item, `${this.keyPath(key)}[${i}]`, this.problems));
  }

  /** A mapping whose keys are names chosen by the operator (e.g. hosts), each value a mapping. */
  entries(key: string): Array<[string, ObjectReader]> {
    const r = this.object(key);
    r.seenAll();
    return Object.keys(r.obj).map((k) => [k, new ObjectReader(r.obj[k], r.keyPath(k), this.problems)]);
  }

  /**
   * A secret given inline (`<key>`) or, preferably, in a file (`<key>_file`), never both.
   * A secret file readable by group or others is refused.
   */
  secret(key: string, opts: { required?: boolean } = {}): string | undefined {
    const inline = this.raw(key);
    const file = this.raw(`${key}_file`);
    if (inline !== undefined && file !== undefined) {
      this.problem(key, `and '${key}_file' are mutually exclusive`);
      return undefined;
    }
    if (file !== undefined) {
      if (typeof file !== 'string' || file.length === 0) {
        this.problem(`${key}_file`, `must be a file path, got ${describe(file)}`);
        return undefined;
      }
      const res = readSecretFile(file);
      if (!res.ok) {
        this.problem(`${key}_file`, res.reason);
        return undefined;
      }
      return res.value;
    }
    if (inline !== undefined) {
      if (typeof inline !== 'string' || inline.length === 0) {
        this.problem(key, 'must be a non-empty string');
        return undefined;
      }
      return inline;
    }
    if (opts.required) this.problem(key, `is required (or '${key}_file')`);
    return undefined;
  }

  private seenAll(): void {
    for (const k of Object.keys(this.obj)) this.seen.add(k);
  }

  /** Reports every key that no accessor read. */
  finish(): void {
    for (const k of Object.keys(this.obj)) {
      if (!this.seen.has(k)) this.problems.push({ path: this.keyPath(k), reason: 'is not a known setting' });
    }
  }
}

export function parseDurationMs(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(v);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2] ?? 'ms';
  const factor = unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000;
  return Math.round(n * factor);
}

export type SecretRead = { ok: true; value: string } | { ok: false; reason: string };

/** Reads a secret file, refusing one that group or others may read. Trailing newline stripped. */
export function readSecretFile(file: string): SecretRead {
  let text: string;
  try {
    const st = statSync(file);
    if ((st.mode & 0o077) !== 0) {
      return { ok: false, reason: `file ${file} is readable by group/other (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it` };
    }
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { ok: false, reason: `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}` };
  }
  const value = text.replace(/\r?\n$/, '');
  if (value.length === 0) return { ok: false, reason: `file ${file} is empty` };
  return { ok: true, value };
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `'${v}'`;
  return String(v);
}
