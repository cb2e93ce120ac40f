import { VERSION } from '../../version.js';
import type { Io } from '../command.js';

/** `instance-ha version` (also `--version`); whatever follows is ignored. */
export async function runVersionCommand(_args: string[], io: Io): Promise<number> {
  io.out(VERSION);
  return 0;
}
