import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/** Keys whose values are secrets wherever they appear (two levels deep covers our records). */
const SECRET_KEYS = ['password', 'passwd', 'token', 'key', 'clusterKey', 'cluster_key', 'secret', 'authorization'];
const REDACT_PATHS = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);

export interface LogOptions {
  level?: LevelWithSilent;
  /** Extra bindings on the root logger, e.g. `{ monitor: 'ctl1' }`. */
  base?: Record<string, unknown>;
  /** Where JSON lines go; stdout (journald-friendly) by default. */
  destination?: NodeJS.WritableStream;
}

export function isLevel(s: string): s is LevelWithSilent {
  return ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(s);
}

/** A configured log level, or info for anything else (the config reader has already said what is wrong). */
export function levelOrInfo(s: string): LevelWithSilent {
  return isLevel(s) ? s : 'info';
}

/** One root logger per process; components take `componentLogger(log, name)`, never `log.child({component})`. */
export function createLogger(opts: LogOptions = {}): Logger {
  const envLevel = process.env.INSTANCE_HA_LOG_LEVEL;
  const level = opts.level ?? (envLevel && isLevel(envLevel) ? envLevel : 'info');
  return pino(
    {
      level,
      base: { pid: process.pid, ...opts.base },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    (opts.destination ?? process.stdout) as pino.DestinationStream,
  );
}

/** A logger that drops everything: for tests and one-shot CLI commands. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** The root each component logger was derived from: its children are made from the root too. */
const rootOf = new WeakMap<Logger, Logger>();

/**
 * A component's logger. pino writes every binding of every ancestor, so `child({component})` under a
 * logger that has one already wrote `"component":"recovery","component":"openstack"`: a JSON parser
 * keeping the last key loses the first. Here the child is made from the root with its parent's
 * bindings merged, and a component under a component is dotted (`recovery.openstack`): each key once.
 */
export function componentLogger(parent: Logger, name: string, bindings: Record<string, unknown> = {}): Logger {
  const own = ownBindings(parent);
  const parentComponent = typeof own.component === 'string' ? own.component : undefined;
  // The same name again (the recovery workflow under the recovery logger) adds no level.
  const component =
    parentComponent === undefined || parentComponent.split('.').pop() === name ? (parentComponent ?? name) : `${parentComponent}.${name}`;
  return derive(parent, { ...own, ...bindings, component });
}

/** The parent's logger with more fields (a host, a server): a field the parent has already is replaced, not repeated. */
export function withFields(parent: Logger, bindings: Record<string, unknown>): Logger {
  return derive(parent, { ...ownBindings(parent), ...bindings });
}

function ownBindings(parent: Logger): Record<string, unknown> {
  const root = rootOf.get(parent);
  if (!root) return {};
  const rootKeys = new Set(Object.keys(root.bindings()));
  return Object.fromEntries(Object.entries(parent.bindings()).filter(([k]) => !rootKeys.has(k)));
}

function derive(parent: Logger, bindings: Record<string, unknown>): Logger {
  const root = rootOf.get(parent) ?? parent;
  const child = root.child(bindings);
  // A parent's own level (set after it was made) carries over, as pino's child would do.
  child.level = parent.level;
  rootOf.set(child, root);
  return child;
}
