/** Base class of every error instance-ha raises on purpose; `cause` keeps the underlying error. */
export class HaError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A configuration problem, always naming the file and the key. */
export class ConfigError extends HaError {
  constructor(
    readonly file: string,
    readonly problems: readonly ConfigProblem[],
  ) {
    super(`${file}: ${problems.length} problem(s):\n` + problems.map((p) => `  - ${formatProblem(p)}`).join('\n'));
  }
}

export interface ConfigProblem {
  /** Dotted key path, e.g. `monitors[1].address`. Empty for the whole document. */
  readonly path: string;
  readonly reason: string;
}

export function formatProblem(p: ConfigProblem): string {
  return p.path ? `'${p.path}' ${p.reason}` : p.reason;
}

/** A state transition that must not happen: a bug, never an expected outcome. */
export class IllegalStateError extends HaError {}

export function assertNever(x: never, what = 'value'): never {
  throw new IllegalStateError(`unexpected ${what}: ${JSON.stringify(x)}`);
}

/**
 * A durable file of the daemon (monitor state, recovery journal, notification outbox) that cannot be
 * read as it must be: corrupt, of the wrong shape, or written by a newer format. The message is one
 * line naming the file, what is wrong and what to do; the CLI exits with EXIT_STATE_FILE on it.
 */
export class StateFileError extends HaError {
  constructor(
    readonly file: string,
    readonly problem: string,
    readonly remedy: string,
  ) {
    super(`${file}: ${oneLine(problem)}; ${oneLine(remedy)}`);
  }
}

/** Exit code of a command stopped by a StateFileError (sysexits EX_DATAERR: the input data was wrong). */
export const EXIT_STATE_FILE = 65;

function oneLine(s: string): string {
  const flat = s.replace(/[\r\n\t\u2028\u2029]+/g, ' ');
  return flat.length > 300 ? `${flat.slice(0, 300)}…` : flat;
}
