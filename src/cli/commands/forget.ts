import { controlRequest } from '../../control/client.js';
import { UsageError, parse } from '../args.js';
import type { Io } from '../command.js';
import { controlSocketOf, operatorName } from '../control-socket.js';

export const FORGET_HELP = `Usage: instance-ha forget HOST [--socket PATH | --config FILE]

Removes a decommissioned host from every monitor's state: its heartbeat record, its maintenance mark
and any decision about it (an evacuated host's included). Asked of any monitor; the others learn it
from its heartbeats within a second. Refused while the host is being fenced or recovered (wait until
'instance-ha status' shows it fenced, fence_failed, evacuated or recovery_failed). A host that sends heartbeats again
after being forgotten comes back as a new host. Remove the host from 'hosts:' in every monitor's
config too, or a monitor watches it again when it restarts.
Exit codes: 0 forgotten, 1 refused (unknown host, fencing or recovering), 64 usage.

Example
  instance-ha forget cmp-17
`;

export async function runForgetCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, { socket: { type: 'string' }, config: { type: 'string' } });
  if (positionals.length !== 1) throw new UsageError('Usage: instance-ha forget HOST');
  const host = positionals[0]!;
  const res = await controlRequest(controlSocketOf(values), 'POST', '/forget', { host, by: operatorName() });
  if (res.status !== 200) {
    io.err(`forget ${host} refused: ${String(res.body.error)}`);
    return 1;
  }
  io.out(`${host}: forgotten here; the other monitors forget it with this monitor's next heartbeats`);
  if (res.body.configured === true)
    io.err(`warning: ${host} is listed under hosts: in this monitor's config; remove it there, or it is watched again after a restart`);
  return 0;
}
