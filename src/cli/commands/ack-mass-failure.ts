import { controlRequest } from '../../control/client.js';
import { parse } from '../args.js';
import type { Io } from '../command.js';
import { controlSocketOf, operatorName } from '../control-socket.js';

export const ACK_MASS_FAILURE_HELP = `Usage: instance-ha ack-mass-failure [HOST...] [--socket PATH | --config FILE]

The mass-failure guard holds when too many hosts are failing at once (a switch, not the hosts): it
declares none of them until an operator acknowledges or they come back. After checking they are
really down, acknowledge on the coordinator: it declares and fences the hosts held at that moment
(only the HOSTs named, when any are). It is no blanket permission: a host failing after the ack is
judged by the guard afresh. With nothing held the ack is refused and changes nothing.

Only the coordinator holds hosts: run it on the monitor that 'instance-ha status' names coordinator
(asked elsewhere, it is refused with that monitor's name and address).
Exit codes: 0 released, 1 refused (nothing held, not the coordinator), 64 usage.

Examples
  instance-ha status   # alarm mass_failure names the held hosts
  instance-ha ack-mass-failure
  instance-ha ack-mass-failure cmp-3 cmp-4
`;

export async function runAckMassFailureCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, { socket: { type: 'string' }, config: { type: 'string' } });
  const body = { by: operatorName(), ...(positionals.length > 0 ? { hosts: positionals } : {}) };
  const res = await controlRequest(controlSocketOf(values), 'POST', '/ack-mass-failure', body);
  if (res.status !== 200) {
    const where = res.body.coordinatorAddress ? ` (${String(res.body.coordinator)} listens at ${String(res.body.coordinatorAddress)})` : '';
    io.err(`ack-mass-failure refused: ${String(res.body.error)}${where}`);
    return 1;
  }
  const released = list(res.body.released);
  const still = list(res.body.stillHeld);
  io.out(`mass failure acknowledged: ${released.join(', ')} will be declared failed and fenced`);
  if (still.length > 0) io.out(`still held (not acknowledged): ${still.join(', ')}`);
  return 0;
}

function list(v: unknown): string[] {
  return Array.isArray(v) ? v.map(String) : [];
}
