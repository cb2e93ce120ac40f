import { createInterface } from 'node:readline/promises';
import { loadConfig } from '../../config/load.js';
import { readMonitorConfig } from '../../daemon/monitor-config.js';
import type { FenceAttempt, FenceRecord } from '../../core/events.js';
import { startFencing, type DeviceAction, type HostActionResult } from '../../fence/index.js';
import { UsageError } from '../args.js';
import type { Io } from '../command.js';
import { humanLogger } from '../human-log.js';

export const FENCE_HELP = `Usage: instance-ha fence HOST --config FILE [--action off|on|reboot|status] [--yes]

Runs the host's fencing topology from the monitor config by hand (asks for confirmation unless
--yes). Exit 0 when the action was verified.

Examples
  instance-ha fence cmp-17 --config /etc/instance-ha/monitor.yaml --action status
  instance-ha fence cmp-17 --config /etc/instance-ha/monitor.yaml --action on --yes
`;

const USAGE = 'Usage: instance-ha fence HOST --config FILE [--action off|on|reboot|status] [--yes]';

/** `instance-ha fence HOST --config FILE [--action ..] [--yes]`: the monitor's own fencing code, run by hand. */
export async function runFenceCommand(args: string[], io: Io): Promise<number> {
  const i = args.findIndex((a) => a === '--config' || a === '-c');
  const file = i >= 0 ? args[i + 1] : undefined;
  if (!file) {
    throw new UsageError(USAGE);
  }
  const rest = args.filter((_, j) => j !== i && j !== i + 1);
  // Usage before the file: a slip exits 64 whatever the config says.
  const parsed = parseFenceArgs(rest);
  if ('error' in parsed) throw new UsageError(parsed.error);
  const cfg = loadConfig(file, readMonitorConfig);
  if (!cfg.fencing) {
    io.err(`${file}: no fencing section: nothing to fence with`);
    return 1;
  }
  const log = humanLogger();
  const { fencer, close } = await startFencing({ config: cfg.fencing, log, monitorId: `${cfg.id}/cli` });
  try {
    return await runFenceAction(rest, {
      fencer,
      confirm: ttyConfirm,
      out: io.out,
      err: io.err,
      knownHosts: [...cfg.fencing.hosts.keys()],
      file,
    });
  } finally {
    await close();
  }
}

export interface FenceActionDeps extends Pick<Io, 'out' | 'err'> {
  /** A TopologyFencer built from the loaded configuration. */
  fencer: {
    fence(host: string, signal: AbortSignal): Promise<FenceRecord>;
    hostAction(host: string, action: DeviceAction, signal: AbortSignal): Promise<HostActionResult>;
  };
  /** Asks the operator; see ttyConfirm. */
  confirm(question: string): Promise<boolean>;
  signal?: AbortSignal;
  /** The hosts with a fencing topology (fencing.hosts): any other is refused before asking anything. */
  knownHosts?: readonly string[];
  /** The config file, for the message naming an unknown host. */
  file?: string;
}

/** How many known hosts a refusal lists before "…". */
const KNOWN_HOSTS_LISTED = 10;

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
  const detail = a.detail ? ` — ${a.detail}` : '';
  return `  level ${a.level} ${a.device} (${a.agent}) ${a.action}: ${a.ok ? 'ok' : 'FAILED'} exit=${code} ${a.durationMs}ms${detail}`;
}

/** argv after `fence` (the --config pair removed), run against a built fencer. Exit 0 verified, 1 failed, refused or not confirmed, 64 usage. */
export async function runFenceAction(argv: readonly string[], deps: FenceActionDeps): Promise<number> {
  const args = parseFenceArgs(argv);
  if ('error' in args) {
    deps.err(`instance-ha fence: ${args.error}`);
    deps.err(USAGE);
    return 64;
  }
  const { host, action, yes } = args;
  if (deps.knownHosts && !deps.knownHosts.includes(host)) {
    const known = deps.knownHosts.slice(0, KNOWN_HOSTS_LISTED).join(', ') + (deps.knownHosts.length > KNOWN_HOSTS_LISTED ? ', …' : '');
    deps.err(
      `instance-ha fence: unknown host '${host}': it has no fencing topology in ${deps.file ?? 'the config'} (fencing.hosts: ${known || 'none'}); nothing done`,
    );
    return 1;
  }
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

/** A y/N question on the terminal; false when stdin is not a terminal (scripts must pass --yes). */
async function ttyConfirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}
