import { IllegalStateError, type ConfigProblem } from '../errors.js';
import { MAX_TIMER_MS } from '../timer-limit.js';
import { hostNameKey, hostNameProblem } from './host-name.js';
import { MAX_SECRET_FILE_BYTES, printable, readTextFile } from './safe-file.js';

/** Longest string setting (PATH_MAX); names and URLs are far shorter. */
export const MAX_STRING_LENGTH = 4096;
/** Most entries in one list or mapping (hosts, devices, patterns): 10x the largest cluster tested. */
export const MAX_LIST_ITEMS = 100_000;

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
    return Object.hasOwn(this.obj, key) && this.obj[key] !== undefined && this.obj[key] !== null;
  }

  raw(key: string): unknown {
    this.seen.add(key);
    // Own keys only: `toString` or `constructor` in a document is a key like any other, not Object's.
    return Object.hasOwn(this.obj, key) ? this.obj[key] : undefined;
  }

  problem(key: string, reason: string): void {
    this.problems.push({ path: this.keyPath(key), reason });
  }

  /** A non-empty single-line string of at most maxLength (default 4096) characters, without control characters. */
  string(
    key: string,
    opts: { default?: string; oneOf?: readonly string[]; pattern?: RegExp; patternHint?: string; maxLength?: number } = {},
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
    const bad = textProblem(v, opts.maxLength ?? MAX_STRING_LENGTH);
    if (bad) {
      this.problem(key, bad);
      return opts.default;
    }
    if (opts.oneOf && !opts.oneOf.includes(v)) {
      this.problem(key, `must be one of ${opts.oneOf.join(', ')}, got ${describe(v)}`);
      return opts.default;
    }
    if (opts.pattern && !opts.pattern.test(v)) {
      this.problem(key, `must be ${opts.patternHint ?? `like ${opts.pattern}`}, got ${describe(v)}`);
      return opts.default;
    }
    return v;
  }

  requiredString(key: string, opts: { oneOf?: readonly string[]; pattern?: RegExp; patternHint?: string } = {}): string {
    const v = this.string(key, opts);
    if (v === undefined && !this.problems.some((p) => p.path === this.keyPath(key))) this.problem(key, 'is required');
    return v ?? '';
  }

  /** A number within [min, max]: both bounds are required, so no setting can be added without one. */
  number(key: string, opts: { default: number; min: number; max: number; integer?: boolean }): number {
    checkBounds(key, opts.min, opts.max, Number.MAX_SAFE_INTEGER);
    const v = this.raw(key);
    if (v === undefined || v === null) return opts.default;
    const range = `${opts.integer ? 'a whole number' : 'a number'} between ${opts.min} and ${opts.max}`;
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      this.problem(key, `must be ${range}, got ${describe(v)}`);
      return opts.default;
    }
    if ((opts.integer && !Number.isInteger(v)) || v < opts.min || v > opts.max) {
      this.problem(key, `must be ${range}, got ${v}`);
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

  /**
   * A duration: a number of milliseconds or a string such as `500ms`, `2s`, `1.5m`, `1h`, within
   * [min, max]. Both bounds are required and max may not exceed MAX_TIMER_MS, so no configured
   * duration can reach a timer Node would fire after 1 ms.
   */
  durationMs(key: string, opts: { default: number; min: number; max: number }): number {
    checkBounds(key, opts.min, opts.max, MAX_TIMER_MS);
    const v = this.raw(key);
    if (v === undefined || v === null) return opts.default;
    const range = `between ${formatDurationMs(opts.min)} and ${formatDurationMs(opts.max)}`;
    const ms = parseDurationMs(v);
    if (ms === undefined) {
      this.problem(key, `must be a duration such as 500ms, 2s or 1m, ${range}, got ${describe(v)}`);
      return opts.default;
    }
    if (ms < opts.min || ms > opts.max) {
      this.problem(key, `must be ${range}, got ${typeof v === 'string' ? describe(v.trim()) : `${ms}ms`}`);
      return opts.default;
    }
    return ms;
  }

  /** A list of non-empty strings (each checked as `string` is), at most maxItems long. */
  stringList(key: string, opts: { default?: readonly string[]; maxItems?: number; maxLength?: number } = {}): string[] {
    const def = opts.default ?? [];
    const maxItems = opts.maxItems ?? MAX_LIST_ITEMS;
    const v = this.raw(key);
    if (v === undefined || v === null) return [...def];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x.length === 0)) {
      this.problem(key, `must be a list of non-empty strings, got ${describe(v)}`);
      return [...def];
    }
    if (v.length > maxItems) {
      this.problem(key, `must list at most ${maxItems} entries, got ${v.length}`);
      return [...def];
    }
    const out: string[] = [];
    v.forEach((x: string, i) => {
      const bad = textProblem(x, opts.maxLength ?? MAX_STRING_LENGTH);
      if (bad) this.problems.push({ path: `${this.keyPath(key)}[${i}]`, reason: bad });
      else out.push(x);
    });
    return out;
  }

  /**
   * The path of a file read later (a CA bundle, a clouds.yaml): read now through the same checks as
   * a config file (regular file, at most maxBytes, UTF-8), so `config check` refuses a FIFO, a
   * directory or a missing file instead of the daemon hanging or failing on it later.
   */
  filePath(key: string, opts: { maxBytes: number }): string | undefined {
    const path = this.string(key);
    if (path === undefined) return undefined;
    const res = readTextFile(path, opts.maxBytes);
    if (!res.ok) {
      this.problem(key, res.reason);
      return undefined;
    }
    return path;
  }

  /** A host name (RFC 1123, see host-name.ts), e.g. a compute host or a monitor id. */
  hostName(key: string, opts: { default?: string } = {}): string | undefined {
    const v = this.string(key, { default: opts.default });
    if (v === undefined) return undefined;
    const bad = hostNameProblem(v);
    if (bad) {
      this.problem(key, `${bad}, got ${describe(v)}`);
      return undefined;
    }
    return v;
  }

  /** A list of distinct host names (case-insensitively distinct, as DNS compares them). */
  hostList(key: string, opts: { maxItems?: number } = {}): string[] {
    const list = this.stringList(key, { maxItems: opts.maxItems });
    const seen = new Set<string>();
    const out: string[] = [];
    list.forEach((h, i) => {
      const path = `${this.keyPath(key)}[${i}]`;
      const bad = hostNameProblem(h);
      if (bad) this.problems.push({ path, reason: `${bad}, got ${describe(h)}` });
      else if (seen.has(hostNameKey(h))) this.problems.push({ path, reason: `'${h}' is listed twice` });
      else {
        seen.add(hostNameKey(h));
        out.push(h);
      }
    });
    return out;
  }

  /** A nested mapping; absent means an empty one (so its defaults apply). */
  object(key: string): ObjectReader {
    return new ObjectReader(this.raw(key), this.keyPath(key), this.problems);
  }

  /** A list of mappings, at most MAX_LIST_ITEMS long. */
  objectList(key: string): ObjectReader[] {
    const v = this.raw(key);
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) {
      this.problem(key, `must be a list, got ${describe(v)}`);
      return [];
    }
    if (v.length > MAX_LIST_ITEMS) {
      this.problem(key, `must list at most ${MAX_LIST_ITEMS} entries, got ${v.length}`);
      return [];
    }
    return v.map((item, i) => new ObjectReader(item, `${this.keyPath(key)}[${i}]`, this.problems));
  }

  /**
   * A mapping whose keys are names chosen by the operator, each value a mapping. Keys are checked:
   * `host` names must be host names (and distinct without case), `name` keys short identifiers.
   * Either way `__proto__` and friends never reach an object used as a dictionary.
   */
  entries(key: string, opts: { names: 'host' | 'name'; maxItems?: number }): Array<[string, ObjectReader]> {
    const r = this.object(key);
    r.seenAll();
    const keys = Object.keys(r.obj);
    const maxItems = opts.maxItems ?? MAX_LIST_ITEMS;
    if (keys.length > maxItems) {
      this.problem(key, `must have at most ${maxItems} entries, got ${keys.length}`);
      return [];
    }
    const seen = new Set<string>();
    const out: Array<[string, ObjectReader]> = [];
    for (const k of keys) {
      const bad = opts.names === 'host' ? hostNameProblem(k) : nameProblem(k);
      if (bad) {
        this.problems.push({ path: r.keyPath(printable(k).slice(0, 80)), reason: `${bad}, got ${describe(k)}` });
        continue;
      }
      if (opts.names === 'host' && seen.has(hostNameKey(k))) {
        this.problems.push({ path: r.keyPath(k), reason: `is the same host as another entry (host names ignore case)` });
        continue;
      }
      seen.add(hostNameKey(k));
      out.push([k, new ObjectReader(r.obj[k], r.keyPath(k), this.problems)]);
    }
    return out;
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
      if (inline.length > MAX_SECRET_FILE_BYTES || /[\u0000-\u001f\u007f]/.test(inline)) {
        this.problem(key, `must be a single line of at most ${MAX_SECRET_FILE_BYTES} characters without control characters`);
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

  /** Reads one key of a document written for a fuller reader: the keys not asked for are not reported. */
  ignoreOthers(): void {
    this.seenAll();
  }

  /** Reports every key that no accessor read. */
  finish(): void {
    for (const k of Object.keys(this.obj)) {
      if (!this.seen.has(k)) this.problems.push({ path: this.keyPath(printable(k).slice(0, 80)), reason: 'is not a known setting' });
    }
  }
}

export function parseDurationMs(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v : undefined;
  // Length first, then trim: `\s*` on both sides of an optional unit backtracks quadratically, and a
  // 1 MiB run of spaces in a duration would stall config check for hours.
  if (typeof v !== 'string' || v.length > 64) return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/.exec(v.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2] ?? 'ms';
  const factor = unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000;
  return Math.round(n * factor);
}

export type SecretRead = { ok: true; value: string } | { ok: false; reason: string };

/**
 * Reads a secret file: a regular file (never a FIFO, which would block), at most 64 KiB, valid
 * UTF-8, not readable by group or others. One trailing newline is stripped.
 */
export function readSecretFile(file: string): SecretRead {
  const res = readTextFile(file, MAX_SECRET_FILE_BYTES);
  if (!res.ok) return res;
  if ((res.stats.mode & 0o077) !== 0) {
    return { ok: false, reason: `file ${file} is readable by group/other (mode ${(res.stats.mode & 0o777).toString(8)}); chmod 600 it` };
  }
  const value = res.text.replace(/\r?\n$/, '');
  if (value.length === 0) return { ok: false, reason: `file ${file} is empty` };
  return { ok: true, value };
}

/** `90000` → `90s`, `3600000` → `1h`: the unit an operator would write. */
export function formatDurationMs(ms: number): string {
  if (ms >= 3_600_000 && ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms >= 1000 && ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** Why a configured string is refused, or undefined. */
function textProblem(v: string, maxLength: number): string | undefined {
  if (v.length > maxLength) return `must be at most ${maxLength} characters, got ${v.length}`;
  if (/[\u0000-\u001f\u007f]/.test(v)) return `must be a single line without control characters, got ${describe(v)}`;
  return undefined;
}

/** Device and other operator-chosen names: a short identifier, never a prototype key. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
function nameProblem(k: string): string | undefined {
  return NAME.test(k) ? undefined : 'is not a valid name (1-63 letters, digits and . _ -, starting with a letter or digit)';
}

/** A reader's own bounds are code, not input: wrong ones are a bug, reported at once. */
function checkBounds(key: string, min: number, max: number, limit: number): void {
  if (!(min <= max) || max > limit) throw new IllegalStateError(`bounds of '${key}' are wrong: [${min}, ${max}] (limit ${limit})`);
}

/** A value as a message may show it: short, one line, control characters escaped. */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return v.length > 80 ? `'${printable(v.slice(0, 77))}...' (${v.length} characters)` : `'${printable(v)}'`;
  return String(v);
}
