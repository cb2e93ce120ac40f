/** Where a command writes: one line of stdout or stderr per call; `isTty` says whether colour is wanted. */
export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  isTty: boolean;
}

/** One `instance-ha NAME …` command: what runs (it resolves with the exit code) and its `--help` text. */
export interface Command {
  run(args: string[], io: Io): Promise<number>;
  /** Printed (exit 0) when `--help` or `-h` is anywhere among the arguments; without one the command sees them. */
  help?: string;
}
