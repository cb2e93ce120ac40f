import { controlRequest } from '../../control/client.js';
import { UsageError, parse } from '../args.js';
import type { Io } from '../command.js';
import { controlSocketOf, operatorName } from '../control-socket.js';

export const MAINTENANCE_HELP = `Usage: instance-ha maintenance HOST on|off [--socket PATH | --config FILE]

Marks a host as under planned work: it is never declared failed (nor fenced) while on. The mark is
shared by all monitors (last writer wins by wall-clock time).

Examples
  instance-ha maintenance cmp-17 on
  instance-ha maintenance cmp-17 off
`;

export async function runMaintenanceCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, { socket: { type: 'string' }, config: { type: 'string' } });
  const [host, onOff] = positionals;
  if (!host || (onOff !== 'on' && onOff !== 'off')) throw new UsageError('usage: instance-ha maintenance HOST on|off');
  const res = await controlRequest(controlSocketOf(values), 'POST', '/maintenance', { host, on: onOff === 'on', by: operatorName() });
  if (res.status !== 200) {
    io.err(`refused: ${String(res.body.error)}`);
    return 1;
  }
  io.out(`${host}: maintenance ${onOff}${onOff === 'on' ? ' (never declared failed while on)' : ''}`);
  return 0;
}
