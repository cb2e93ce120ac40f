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
  constructor(
    readonly file: string,
    readonly problems: readonly ConfigProblem[],
  ) {
    // One line per problem; a document with thousands of bad entries shows the first 50 and a count.
    const shown = problems.slice(0, MAX_PROBLEMS_SHOWN).map((p) => `  - ${formatProblem(p)}`);
    if (problems.length > MAX_PROBLEMS_SHOWN) shown.push(`  - ... and ${problems.length - MAX_PROBLEMS_SHOWN} more`);
    super(`${file}: ${problems.length} problem(s):\n` + shown.join('\n'));
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
