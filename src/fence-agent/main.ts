/**
 * The program around an agent: read options (stdin or argv), answer help/metadata/version, validate,
 * then run the action through the shared power loop and map the outcome to the ClusterLabs exit
 * codes (0 success or status ON, 2 status OFF, 1 failure). An agent supplies only its option
 * table and a way to reach its PowerDevice.
 *
 * The framework (this file, options, common-options, power-loop) knows no protocol, and no protocol
 * client imports it: a device file such as ipmi-agent.ts is the only place that knows both.
 */
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { runPowerAction, type PowerAction, type PowerDevice } from './power-loop.js';
import {
  OptionError,
  isTrue,
  metadataXml,
  parseArgv,
  parseStdin,
  secondsMs,
  usageText,
  validate,
  type AgentDocs,
  type AgentOption,
  type ParsedOptions,
} from './options.js';

export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_STATUS_OFF = 2;

export const AGENT_VERSION = '0.1.0';

export interface AgentIo {
  argv: readonly string[];
  readStdin(): Promise<string>;
  out(line: string): void;
  err(line: string): void;
}

export interface AgentDefinition {
  docs: AgentDocs;
  options: readonly AgentOption[];
  /** Extra checks beyond the table (e.g. a password or a password script is needed). */
  check?(opts: ParsedOptions): string[];
  /** Connects, runs fn on the device, disconnects (also on failure). */
  withDevice<T>(opts: ParsedOptions, log: (msg: string) => void, fn: (dev: PowerDevice) => Promise<T>): Promise<T>;
}

export async function runAgent(def: AgentDefinition, io: AgentIo): Promise<number> {
  let opts: ParsedOptions;
  const warn = (m: string): void => io.err(`WARNING: ${m}`);
  try {
    opts = io.argv.length > 0 ? parseArgv(io.argv, def.options) : parseStdin(await io.readStdin(), def.options, warn);
  } catch (err) {
    if (!(err instanceof OptionError)) throw err;
    io.err(`ERROR: Failed: ${err.message}`);
    io.err(usageText(def.docs, def.options));
    return EXIT_ERROR;
  }
  if (isTrue(opts.get('help'))) {
    io.out(usageText(def.docs, def.options));
    return EXIT_OK;
  }
  const action = (opts.get('action') ?? 'reboot').toLowerCase();
  if (action === 'metadata') {
    io.out(metadataXml(def.docs, def.options).trimEnd());
    return EXIT_OK;
  }
  if (isTrue(opts.get('version'))) {
    io.out(AGENT_VERSION);
    return EXIT_OK;
  }
  const quiet = isTrue(opts.get('quiet'));
  const verbose = isTrue(opts.get('verbose'));
  const log = (m: string): void => {
    if (verbose && !quiet) io.err(`DEBUG: ${m}`);
  };
  const fail = (m: string): number => {
    if (!quiet) io.err(`ERROR: Failed: ${m}`);
    return EXIT_ERROR;
  };
  if (!def.docs.actions.includes(action)) return fail(`unrecognised action '${action}'`);
  const needsDevice = !['list', 'validate-all'].includes(action);
  const problems = [...validate(opts, def.options), ...(needsDevice || action === 'validate-all' ? (def.check?.(opts) ?? []) : [])];
  if (problems.length > 0) {
    for (const p of problems) if (!quiet) io.err(`ERROR: ${p}`);
    return EXIT_ERROR;
  }
  for (const o of def.options)
    if (o.ignored && opts.has(o.name) && o.default === undefined) log(`option ${o.name} is accepted for compatibility and ignored`);
  if (action === 'validate-all') return EXIT_OK;
  if (action === 'list') {
    io.out('N/A');
    return EXIT_OK;
  }
  try {
    await resolvePasswordScript(opts);
    const delayMs = secondsMs(opts, 'delay');
    if (delayMs > 0 && ['off', 'reboot'].includes(action)) await sleep(delayMs);
    return await def.withDevice(opts, log, async (dev) => {
      if (action === 'monitor') {
        await dev.getPower();
        return EXIT_OK;
      }
      const r = await runPowerAction(dev, action as PowerAction, {
        method: opts.get('method') === 'cycle' ? 'cycle' : 'onoff',
        powerWaitMs: secondsMs(opts, 'power_wait'),
        powerTimeoutMs: secondsMs(opts, 'power_timeout'),
        pollMs: Math.max(10, secondsMs(opts, 'stonith_status_sleep')),
      });
      log(`action ${action}: state ${r.state}${r.already ? ' (unchanged)' : ''}`);
      if (action === 'status') {
        io.out(`Status: ${r.state.toUpperCase()}`);
        return r.state === 'off' ? EXIT_STATUS_OFF : EXIT_OK;
      }
      if (action === 'reboot') io.out('Success: Rebooted');
      else io.out(r.already ? `Success: Already ${r.state.toUpperCase()}` : `Success: Powered ${r.state.toUpperCase()}`);
      return EXIT_OK;
    });
  } catch (err) {
    return fail(err instanceof Error ? err.message : String(err));
  }
}

/** password_script: its first output line is the password (kept in memory only). */
async function resolvePasswordScript(opts: ParsedOptions): Promise<void> {
  const script = opts.get('password_script');
  if (!script || opts.has('password')) return;
  const { stdout } = await promisify(execFile)('/bin/sh', ['-c', script], { timeout: 10_000 });
  const pw = stdout.split('\n')[0] ?? '';
  if (!pw) throw new Error('password_script printed no password');
  opts.set('password', pw);
}

/** Process wiring for an agent's entry point. */
export async function agentMain(def: AgentDefinition): Promise<void> {
  const readStdin = async (): Promise<string> => {
    if (process.stdin.isTTY) return '';
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  };
  const code = await runAgent(def, {
    argv: process.argv.slice(2),
    readStdin,
    out: (l) => process.stdout.write(l + '\n'),
    err: (l) => process.stderr.write(l + '\n'),
  }).catch((err: unknown) => {
    process.stderr.write(`ERROR: Failed: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT_ERROR;
  });
  process.exitCode = code;
}
