import { controlRequest } from '../../control/client.js';
import { parse } from '../args.js';
import type { Io } from '../command.js';
import { controlSocketOf, operatorName } from '../control-socket.js';

export const ACK_MASS_FAILURE_HELP = `Usage: instance-ha ack-mass-failure [--socket PATH | --config FILE]

The mass-failure guard holds when too many hosts fail at once (a switch, not the hosts). After
checking they are really down, acknowledge on the coordinator so it declares and fences them.

Example
  instance-ha status   # alarm mass_failure names the hosts
  instance-ha ack-mass-failure
`;

export async function runAckMassFailureCommand(args: string[], io: Io): Promise<number> {
  const { values } = parse(args, { socket: { type: 'string' }, config: { type: 'string' } });
  const res = await controlRequest(controlSocketOf(values), 'POST', '/ack-mass-failure', { by: operatorName() });
  if (res.status !== 200) {
    io.err(`refused: ${String(res.body.error)}${res.body.coordinator ? ` (run it on ${String(res.body.coordinator)})` : ''}`);
    return 1;
  }
  io.out('mass failure acknowledged: the held hosts will be declared failed and handled');
  return 0;
}
