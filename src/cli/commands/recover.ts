import { controlRequest } from '../../control/client.js';
import { UsageError, parse } from '../args.js';
import type { Io } from '../command.js';
import { controlSocketOf, operatorName } from '../control-socket.js';

export const RECOVER_HELP = `Usage: instance-ha recover HOST [--socket PATH | --config FILE]

Recovers again a host in state recovery_failed: its recovery left servers not running elsewhere
(no capacity, NoValidHost, a server in error). Fix the cause first (add capacity, free a host),
then run this on the acting coordinator. The host stays fenced; its servers still on it are
selected and evacuated again, the ones already moved are left alone, and servers already reported
as not recovered are not reported twice. Refused for a host in any other state.

Example
  instance-ha status            # alarm recovery_failed names the servers and the reason
  instance-ha recover compute-3
`;

export async function runRecoverCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, { socket: { type: 'string' }, config: { type: 'string' } });
  const [host, extra] = positionals;
  if (!host || extra !== undefined) throw new UsageError('Usage: instance-ha recover HOST');
  const res = await controlRequest(controlSocketOf(values), 'POST', '/recover', { host, by: operatorName() });
  if (res.status !== 200) {
    io.err(`refused: ${String(res.body.error)}${res.body.coordinator ? ` (run it on ${String(res.body.coordinator)})` : ''}`);
    return 1;
  }
  io.out(`${host}: recovery started again; follow it with 'instance-ha status'`);
  return 0;
}
