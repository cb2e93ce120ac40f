import { parseArgs } from 'node:util';
import { createLogger, type Logger } from '../log.js';
import { createComputeClient } from '../openstack/factory.js';
import type { FetchFn } from '../openstack/http.js';
import { HaError } from '../errors.js';
import { archiveJournal } from './journal.js';
import { loadRecoverySections } from './load.js';
import { unfenceHost, type UnfenceDeps } from './unfence.js';

export interface UnfenceCommandArgs {
  host: string;
  configPath: string;
  powerOn?: boolean;
}

export interface UnfenceCommandIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env?: NodeJS.ProcessEnv;
  fetch?: FetchFn;
  log?: Logger;
  powerOn?: UnfenceDeps['powerOn'];
  isHealthy?: UnfenceDeps['isHealthy'];
  signal?: AbortSignal;
}

/**
 * `instance-ha unfence HOST [--power-on]`: returns a recovered host to service. Exit codes: 0 done,
 * 1 Nova still refuses after the configured timeout, 2 configuration or API error.
 */
export async function unfenceCommand(args: UnfenceCommandArgs, io: UnfenceCommandIo): Promise<number> {
  try {
    const { compute, recovery } = loadRecoverySections(args.configPath);
    const log = io.log ?? createLogger({ destination: io.stderr, level: 'warn' });
    const client = createComputeClient(compute, { log, env: io.env, fetch: io.fetch });
    const res = await unfenceHost(
      args.host,
      { powerOn: args.powerOn },
      { compute: client, log, cfg: recovery.unfence, powerOn: io.powerOn, isHealthy: io.isHealthy },
      io.signal ?? new AbortController().signal,
    );
    if (res.ok) {
      // The incident is over: a later failure of this host must start a new recovery.
      archiveJournal(recovery.journalDir, args.host, Date.now());
      io.stdout.write(`${args.host}: forced_down cleared and service enabled (${res.attempts} attempt(s), ${res.durationMs} ms)\n`);
      return 0;
    }
    io.stderr.write(`${args.host}: not returned to service: ${res.reason}\n`);
    return 1;
  } catch (err) {
    io.stderr.write(`unfence ${args.host}: ${err instanceof HaError ? err.message : String(err)}\n`);
    return 2;
  }
}

export const UNFENCE_USAGE = 'usage: instance-ha unfence HOST [--power-on] [--config FILE]\n';

/** argv after `unfence`: `HOST [--power-on] [--config FILE]` (exit 64 on a usage error). */
export async function runUnfenceCli(argv: string[], io: UnfenceCommandIo & { defaultConfigPath: string }): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { 'power-on': { type: 'boolean', default: false }, config: { type: 'string' } } });
  } catch (err) {
    io.stderr.write(`${(err as Error).message}\n${UNFENCE_USAGE}`);
    return 64;
  }
  if (parsed.positionals.length !== 1) {
    io.stderr.write(UNFENCE_USAGE);
    return 64;
  }
  return unfenceCommand({ host: parsed.positionals[0]!, configPath: parsed.values.config ?? io.defaultConfigPath, powerOn: parsed.values['power-on'] }, io);
}
