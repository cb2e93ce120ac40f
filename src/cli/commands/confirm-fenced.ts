import { createInterface } from 'node:readline/promises';
import { controlRequest } from '../../control/client.js';
import { UsageError, parse } from '../args.js';
import type { Io } from '../command.js';
import { controlSocketOf, operatorName } from '../control-socket.js';

const USAGE = 'Usage: instance-ha confirm-fenced HOST [--yes-i-checked HOST] [--socket PATH | --config FILE]';

export const CONFIRM_FENCED_HELP = `Usage: instance-ha confirm-fenced HOST [--yes-i-checked HOST] [--socket PATH | --config FILE]

When a host's fence keeps failing because its BMC died with it (a whole chassis without power), its
instances are never recovered: nothing could verify it is off. After you have checked yourself that
the host is powered off (at the rack, the PDU, the chassis), attest it: the coordinator then treats
the host as fenced and recovery proceeds as after a verified fence. The fence record and the history
say "confirmed by operator <you>" and when. Like Pacemaker's 'stonith_admin --confirm'.

Only for a host in state fence_failed, only on the coordinator, never for a host still sending
heartbeats. If the host is in fact running, its instances will run twice: be sure.
You must type the host name again: at the prompt, or with --yes-i-checked HOST (scripts; required
when stdin is not a terminal).
Exit codes: 0 confirmed, 1 refused or not confirmed, 64 usage.

Examples
  instance-ha confirm-fenced cmp-17
  instance-ha confirm-fenced cmp-17 --yes-i-checked cmp-17
`;

export interface ConfirmDeps {
  /** Asks on the terminal and returns what was typed; null when stdin is not a terminal. */
  ask(question: string): Promise<string | null>;
}

export async function runConfirmFencedCommand(args: string[], io: Io, deps: ConfirmDeps = { ask: ttyAsk }): Promise<number> {
  const { values, positionals } = parse(args, {
    socket: { type: 'string' },
    config: { type: 'string' },
    'yes-i-checked': { type: 'string' },
  });
  if (positionals.length !== 1) throw new UsageError(USAGE);
  const host = positionals[0]!;
  let typed = values['yes-i-checked'];
  if (typed === undefined) {
    typed =
      (await deps.ask(
        `${host}: confirm that it is powered off (its instances will be rebuilt elsewhere)? Type the host name to confirm: `,
      )) ?? undefined;
    if (typed === undefined) throw new UsageError(`stdin is not a terminal: pass --yes-i-checked ${host} to confirm\n${USAGE}`);
  }
  if (typed.trim() !== host) {
    io.err(`confirm-fenced ${host}: not confirmed ('${typed.trim()}' is not '${host}'); nothing done`);
    return 1;
  }
  const res = await controlRequest(controlSocketOf(values), 'POST', '/confirm-fenced', { host, confirm: host, by: operatorName() });
  if (res.status !== 200) {
    const where = res.body.coordinatorAddress ? ` (${String(res.body.coordinator)} listens at ${String(res.body.coordinatorAddress)})` : '';
    io.err(`confirm-fenced ${host} refused: ${String(res.body.error)}${where}`);
    return 1;
  }
  io.out(
    `${host}: confirmed powered off by ${String(res.body.by)}; now ${String(res.body.state)} (recovery proceeds as after a verified fence)`,
  );
  return 0;
}

async function ttyAsk(question: string): Promise<string | null> {
  if (!process.stdin.isTTY) return null;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
}
