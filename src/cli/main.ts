#!/usr/bin/env node
import { ConfigError, EXIT_STATE_FILE, HaError, StateFileError } from '../errors.js';
import { UsageError } from './args.js';
import type { Io } from './command.js';
import { COMMANDS } from './commands/index.js';
import { OVERVIEW } from './commands/help.js';

/**
 * Runs `instance-ha CMD ARGS…` and resolves with its exit code: 64 usage, 78 configuration, 65 a
 * state file that cannot be read (corrupt, or from a newer format), 1 other refusals.
 */
export async function main(argv: string[], io: Io): Promise<number> {
  const [name = 'help', ...rest] = argv;
  const load = COMMANDS.get(name);
  if (!load) {
    io.err(`unknown command '${name}'\n\n${OVERVIEW}`);
    return 64;
  }
  const command = await load();
  if (command.help !== undefined && (rest.includes('--help') || rest.includes('-h'))) {
    io.out(command.help);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      // One style everywhere: what is wrong, then the command's Usage line (unless the message is one).
      const usage = command.help?.split('\n')[0] ?? '';
      io.err(
        err.message.startsWith('Usage: ') || !usage.startsWith('Usage: ') ? err.message : `instance-ha ${name}: ${err.message}\n${usage}`,
      );
      return 64;
    }
    if (err instanceof ConfigError) {
      io.err(err.message);
      return 78;
    }
    if (err instanceof StateFileError) {
      io.err(`instance-ha ${name}: ${err.message}`);
      return EXIT_STATE_FILE;
    }
    if (err instanceof HaError) {
      io.err(err.message);
      return 1;
    }
    throw err;
  }
}

const io: Io = {
  out: (s) => process.stdout.write(s + '\n'),
  err: (s) => process.stderr.write(s + '\n'),
  isTty: process.stdout.isTTY === true && !process.env.NO_COLOR,
};
main(process.argv.slice(2), io).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`instance-ha: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 70;
  },
);
