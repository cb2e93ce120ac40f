/** Base class of every error instance-ha raises on purpose; `cause` keeps the underlying error. */
export class HaError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

const MAX_PROBLEMS_SHOWN = 50;

/** A configuration problem, always naming the file and the key. */
export class ConfigError extends HaError {
  readonly problems: readonly ConfigProblem[];

  constructor(
    readonly file: string,
    problems: readonly ConfigProblem[],
  ) {
    // Keys and values come from the document: escape control characters so a newline or a terminal
    // escape in a bad value can neither split the one-line-per-problem report nor repaint a screen.
    problems = problems.map((p) => ({ path: escapeControl(p.path), reason: escapeControl(p.reason) }));
    // One line per problem; a document with thousands of bad entries shows the first 50 and a count.
    const shown = problems.slice(0, MAX_PROBLEMS_SHOWN).map((p) => `  - ${formatProblem(p)}`);
    if (problems.length > MAX_PROBLEMS_SHOWN) shown.push(`  - ... and ${problems.length - MAX_PROBLEMS_SHOWN} more`);
    super(`${escapeControl(file)}: ${problems.length} problem(s):\n` + shown.join('\n'));
    this.problems = problems;
  }
}

export interface ConfigProblem {
  /** Dotted key path, e.g. `monitors[1].address`. Empty for the whole document. */
  readonly path: string;
  readonly reason: string;
}

function escapeControl(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
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
