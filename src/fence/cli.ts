/**
 * Operator commands, for the lead to wire into the CLI (they share the monitor's fencing code):
 *   instance-ha fence HOST [--action off|on|reboot|status] [--yes]
 *   instance-ha agents metadata AGENT
 * Both return the process exit code and never throw for expected failures.
 */
import { createInterface } from 'node:readline/promises';
import type { FenceAttempt, FenceRecord } from '../core/events.js';
import { fenceIpmi } from '../fence-agent/ipmi-agent.js';
import { metadataXml } from '../fence-agent/options.js';
import type { Logger } from '../log.js';
import { NATIVE_IPMI, resolveAgent } from './agents.js';
import { METADATA_TIMEOUT_MS } from './check.js';
import { parseAgentMetadata } from './metadata.js';
import { runAgentProcess } from './runner.js';
import type { DeviceAction } from './devices.js';
import type { HostActionResult } from './fencer.js';

export const FENCE_USAGE = 'usage: instance-ha fence HOST [--action off|on|reboot|status] [--yes]';
export const AGENTS_USAGE = 'usage: instance-ha agents metadata AGENT   (AGENT: native-ipmi, fence_ipmi, fence_ipmilan, … or a path)';

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

export interface FenceCommandDeps extends CliIo {
  /** A TopologyFencer built from the loaded configuration. */
  fencer: {
    fence(host: string, signal: AbortSignal): Promise<FenceRecord>;
    hostAction(host: string, action: DeviceAction, signal: AbortSignal): Promise<HostActionResult>;
  };
  /** Asks the operator; see ttyConfirm. */
  confirm(question: string): Promise<boolean>;
  signal?: AbortSignal;
}

const ACTIONS: readonly DeviceAction[] = ['off', 'on', 'reboot', 'status'];

export function parseFenceArgs(argv: readonly string[]): { host: string; action: DeviceAction; yes: boolean } | { error: string } {
  let host: string | undefined;
  let action: string = 'off';
  let yes = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--yes' || a === '-y') yes = true;
    else if (a === '--action' || a === '-o') action = argv[++i] ?? '';
    else if (a.startsWith('--action=')) action = a.slice('--action='.length);
    else if (a.startsWith('-')) return { error: `unknown option '${a}'` };
    else if (host === undefined) host = a;
    else return { error: `unexpected argument '${a}'` };
  }
  if (!host) return { error: 'HOST is required' };
  if (!ACTIONS.includes(action as DeviceAction)) return { error: `--action must be one of ${ACTIONS.join(', ')}, got '${action}'` };
  return { host, action: action as DeviceAction, yes };
}

function attemptLine(a: FenceAttempt): string {
  const code = a.exitCode === null ? '-' : String(a.exitCode);
  return `  level ${a.level} ${a.device} (${a.agent}) ${a.action}: ${a.ok ? 'ok' : 'FAILED'} exit=${code} ${a.durationMs}ms${a.detail ? ` — ${a.detail}` : ''}`;
}

export async function runFenceCommand(argv: readonly string[], deps: FenceCommandDeps): Promise<number> {
  const args = parseFenceArgs(argv);
  if ('error' in args) {
    deps.err(`instance-ha fence: ${args.error}`);
    deps.err(FENCE_USAGE);
    return 2;
  }
  const { host, action, yes } = args;
  if (action !== 'status' && !yes) {
    const what = action === 'off' ? 'power OFF (fence)' : action === 'on' ? 'power ON' : 'REBOOT';
    if (!(await deps.confirm(`${what} host '${host}'? [y/N] `))) {
      deps.err('instance-ha fence: not confirmed; nothing done');
      return 1;
    }
  }
  const signal = deps.signal ?? new AbortController().signal;
  if (action === 'off') {
    const rec = await deps.fencer.fence(host, signal);
    if (rec.ok) deps.out(`${host}: fenced (verified off) by level ${rec.level} [${rec.devices?.join(', ')}] in ${rec.durationMs}ms`);
    else deps.out(`${host}: NOT fenced: ${rec.error}`);
    for (const a of rec.attempts) deps.out(attemptLine(a));
    return rec.ok ? 0 : 1;
  }
  const r = await deps.fencer.hostAction(host, action, signal);
  if (action === 'status') for (const [dev, p] of Object.entries(r.power)) deps.out(`${host}: ${dev}: power ${p.toUpperCase()}`);
  else deps.out(`${host}: ${action} ${r.ok ? 'done' : `FAILED: ${r.error}`}`);
  if (!r.ok || action !== 'status') for (const a of r.attempts) deps.out(attemptLine(a));
  return r.ok ? 0 : 1;
}

export async function runAgentsMetadataCommand(argv: readonly string[], deps: CliIo & { log: Logger }): Promise<number> {
  if (argv[0] !== 'metadata' || argv.length !== 2) {
    deps.err(AGENTS_USAGE);
    return 2;
  }
  const agent = argv[1]!;
  if (agent === NATIVE_IPMI) {
    deps.out(metadataXml({ ...fenceIpmi.docs, name: NATIVE_IPMI }, fenceIpmi.options).trimEnd());
    return 0;
  }
  const path = resolveAgent(agent);
  if (!path) {
    deps.err(`instance-ha agents: '${agent}' not found (looked in agents/, PATH, /usr/sbin, /sbin)`);
    return 1;
  }
  try {
    const r = await runAgentProcess({ path, action: 'metadata', options: {}, secrets: [], timeoutMs: METADATA_TIMEOUT_MS }, deps.log);
    if (r.outcome !== 'ok') throw new Error(`${path} -o metadata failed (${r.outcome}, exit ${r.exitCode}): ${r.stderr}`);
    parseAgentMetadata(r.stdout); // refuses output that is not fence-agent metadata
    deps.out(r.stdout.trimEnd());
    return 0;
  } catch (err) {
    deps.err(`instance-ha agents: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

/** A y/N question on the terminal; false when stdin is not a terminal (scripts must pass --yes). */
export async function ttyConfirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}
