import type { PersistedState } from '../core/effects.js';
import type { HostClusterState } from '../core/events.js';
import { StateFileError } from '../errors.js';
import { currentStateName } from '../core/vocabulary.js';

/**
 * The on-disk format of `monitor-state.json`, and its validation. Every field is checked before
 * the core sees it: a wrong type must stop the monitor with a message naming the file and the field,
 * never reach `new MonitorCore` as a TypeError (or, worse, be misread as a decision).
 *
 * `format` versions the document. A build reads every format up to STATE_FORMAT and refuses a newer
 * one (an older monitor must never misread what a newer one wrote). A file without `format` is from
 * before versioning (same shape as format 1).
 */
export const STATE_FORMAT = 1;

export const STATE_REMEDY =
  'the monitor did not start; fix or move the file aside once the other monitors hold quorum (docs/operations.md "Corrupt state file")';

const DECISION_STATES: ReadonlySet<string> = new Set<HostClusterState>([
  'failed',
  'fencing',
  'fenced',
  'fence_failed',
  'recovering',
  'evacuated',
  'recovery_failed',
]);

/** Bounds far above any real cluster, so a garbage count or string fails here and not in the core. */
const MAX_ITEMS = 1_000_000;
const MAX_STRING = 4096;

export function encodeStateFile(state: PersistedState): string {
  return JSON.stringify({ format: STATE_FORMAT, ...state });
}

export function parseStateFile(file: string, text: string): PersistedState {
  const bad = (problem: string): never => {
    throw new StateFileError(file, problem, STATE_REMEDY);
  };
  if (text.trim() === '') bad('the file is empty (truncated?)');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    bad(`not valid JSON (${(err as Error).message}; truncated or overwritten?)`);
  }
  if (!isObject(doc)) bad(`expected a JSON object, found ${kind(doc)}`);
  const o = doc as Record<string, unknown>;
  if (o.format !== undefined) {
    if (!isCount(o.format) || o.format < 1) bad(`'format' must be a positive integer, found ${show(o.format)}`);
    if ((o.format as number) > STATE_FORMAT)
      throw new StateFileError(
        file,
        `written by instance-ha state format ${o.format as number}, this build reads up to format ${STATE_FORMAT}`,
        'upgrade this monitor to the release that wrote it (or newer); never edit the file down (docs/operations.md "Downgrading")',
      );
  }
  const c = new Checker(bad);
  const knownHosts = c.array(o, 'knownHosts', (v, p) => c.str(v, p));
  const maintenance = c.array(o, 'maintenance', (v, p) => {
    const m = c.obj(v, p);
    return { host: c.str(m.host, `${p}.host`), on: c.bool(m.on, `${p}.on`), atMs: c.num(m.atMs, `${p}.atMs`), by: c.str(m.by, `${p}.by`) };
  });
  const seen = new Set<string>();
  const decisions = c.array(o, 'decisions', (v, p) => {
    const d = c.obj(v, p);
    const host = c.str(d.host, `${p}.host`);
    if (seen.has(host)) bad(`${p}: a second decision for host '${host}'`);
    seen.add(host);
    // A previous version's name (`recovered`) is read as today's (`evacuated`): an upgrade keeps its decisions.
    const state = currentStateName(c.str(d.state, `${p}.state`));
    if (!DECISION_STATES.has(state)) bad(`'${p}.state' is ${show(state)}, expected one of ${[...DECISION_STATES].join(', ')}`);
    return {
      // Fields this build does not know are kept: a newer minor addition survives a round trip.
      ...d,
      host,
      state: state as PersistedState['decisions'][number]['state'],
      bootId: c.str(d.bootId, `${p}.bootId`),
      sinceMs: c.num(d.sinceMs, `${p}.sinceMs`),
      fenceAttempts: c.count(d.fenceAttempts, `${p}.fenceAttempts`),
      ...(d.fence === undefined ? {} : { fence: c.fence(d.fence, `${p}.fence`) }),
    };
  });
  const epoch = o.epoch === undefined ? 0 : c.count(o.epoch, 'epoch');
  // Hosts that left cleanly: checked like the rest, a bad entry must not become a silenced host.
  const left = c.array(o, 'left', (v, p) => {
    const l = c.obj(v, p);
    return {
      host: c.str(l.host, `${p}.host`),
      bootId: c.str(l.bootId, `${p}.bootId`),
      seq: c.count(l.seq, `${p}.seq`),
      sentAtMs: c.num(l.sentAtMs, `${p}.sentAtMs`),
    };
  });
  // Optional (absent before decision versions): a build without it ignores it, which only makes it
  // prefer a peer's copy less often at a takeover; it never changes what a decision says.
  const seq = o.decisionSeq === undefined ? {} : { decisionSeq: c.count(o.decisionSeq, 'decisionSeq') };
  const { format: _format, left: _left, ...rest } = o;
  return { ...rest, knownHosts, maintenance, decisions, epoch, ...seq, ...(left.length > 0 ? { left } : {}) };
}

class Checker {
  constructor(private readonly bad: (problem: string) => never) {}

  array<T>(o: Record<string, unknown>, key: string, item: (v: unknown, path: string) => T): T[] {
    const v = o[key];
    if (v === undefined) return [];
    if (!Array.isArray(v)) return this.bad(`'${key}' must be a list, found ${kind(v)}`);
    if (v.length > MAX_ITEMS) return this.bad(`'${key}' has ${v.length} entries (at most ${MAX_ITEMS})`);
    return v.map((x, i) => item(x, `${key}[${i}]`));
  }

  obj(v: unknown, path: string): Record<string, unknown> {
    if (!isObject(v)) return this.bad(`'${path}' must be an object, found ${kind(v)}`);
    return v;
  }

  str(v: unknown, path: string): string {
    if (typeof v !== 'string') return this.bad(`'${path}' must be a string, found ${kind(v)}`);
    if (v.length > MAX_STRING) return this.bad(`'${path}' is ${v.length} characters long (at most ${MAX_STRING})`);
    return v;
  }

  bool(v: unknown, path: string): boolean {
    if (typeof v !== 'boolean') return this.bad(`'${path}' must be true or false, found ${kind(v)}`);
    return v;
  }

  num(v: unknown, path: string): number {
    if (typeof v !== 'number' || !Number.isFinite(v)) return this.bad(`'${path}' must be a number, found ${kind(v)}`);
    return v;
  }

  count(v: unknown, path: string): number {
    if (!isCount(v)) return this.bad(`'${path}' must be a whole number ≥ 0, found ${show(v)}`);
    return v;
  }

  fence(v: unknown, path: string): NonNullable<PersistedState['decisions'][number]['fence']> {
    const f = this.obj(v, path);
    const attempts = f.attempts === undefined ? [] : f.attempts;
    if (!Array.isArray(attempts)) return this.bad(`'${path}.attempts' must be a list, found ${kind(attempts)}`);
    return {
      ...f,
      ok: this.bool(f.ok, `${path}.ok`),
      ...(f.level === undefined ? {} : { level: this.count(f.level, `${path}.level`) }),
      ...(f.devices === undefined
        ? {}
        : { devices: this.list(f.devices, `${path}.devices`).map((d, i) => this.str(d, `${path}.devices[${i}]`)) }),
      ...(f.agent === undefined ? {} : { agent: this.str(f.agent, `${path}.agent`) }),
      durationMs: this.num(f.durationMs, `${path}.durationMs`),
      attempts: attempts.map((a: unknown, i) => {
        const p = `${path}.attempts[${i}]`;
        const t = this.obj(a, p);
        return {
          ...t,
          level: this.count(t.level, `${p}.level`),
          device: this.str(t.device, `${p}.device`),
          agent: this.str(t.agent, `${p}.agent`),
          action: this.str(t.action, `${p}.action`),
          exitCode: t.exitCode === null ? null : this.num(t.exitCode, `${p}.exitCode`),
          ok: this.bool(t.ok, `${p}.ok`),
          durationMs: this.num(t.durationMs, `${p}.durationMs`),
          ...(t.detail === undefined ? {} : { detail: this.str(t.detail, `${p}.detail`) }),
        };
      }),
      ...(f.error === undefined ? {} : { error: this.str(f.error, `${path}.error`) }),
      ...(f.confirmedBy === undefined ? {} : { confirmedBy: this.str(f.confirmedBy, `${path}.confirmedBy`) }),
      by: this.str(f.by, `${path}.by`),
    };
  }

  private list(v: unknown, path: string): unknown[] {
    if (!Array.isArray(v)) return this.bad(`'${path}' must be a list, found ${kind(v)}`);
    return v;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${show(v)}`;
}

function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}
