import { parseArgs, type ParseArgsConfig } from 'node:util';
import { HaError } from '../errors.js';
import { DEFAULT_CONTROL_SOCKET } from '../control/socket-path.js';

export class UsageError extends HaError {}

/** parseArgs with errors an operator can act on. */
export function parse<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export const DEFAULT_SOCKET = process.env.INSTANCE_HA_SOCKET ?? DEFAULT_CONTROL_SOCKET;
