import { controlRequest } from '../../control/client.js';
import { UsageError, parse } from '../args.js';
import type { Io } from '../command.js';
import { controlSocketOf, operatorName } from '../control-socket.js';

export const MAINTENANCE_HELP = `Usage: instance-ha maintenance HOST on|off [--force] [--socket PATH | --config FILE]

Marks a host as under planned work: it is never declared failed (nor fenced) while on. The mark is
shared by all monitors (last writer wins by wall-clock time).

A host no monitor knows (never heard, not configured) is refused: a mistyped name must not become a
phantom host. --force registers it on purpose, e.g. a host whose beacon is not installed yet; it is
then watched like any other, so turning maintenance off before its beacon runs gets it declared
failed. 'instance-ha forget HOST' removes a host registered by mistake.
Exit codes: 0 done, 1 refused (unknown host), 64 usage.

Examples
  instance-ha maintenance cmp-17 on
  instance-ha maintenance cmp-17 off
  instance-ha maintenance cmp-new-01 on --force
`;

export async function runMaintenanceCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, {
    socket: { type: 'string' },
    config: { type: 'string' },
    force: { type: 'boolean', default: false },
  });
  const [host, onOff] = positionals;
  if (!host || (onOff !== 'on' && onOff !== 'off') || positionals.length > 2)
    throw new UsageError('Usage: instance-ha maintenance HOST on|off [--force]');
  const res = await controlRequest(controlSocketOf(values), 'POST', '/maintenance', {
    host,
    on: onOff === 'on',
    by: operatorName(),
    ...(values.force ? { force: true } : {}),
  });
  if (res.status !== 200) {
    io.err(`maintenance ${host} ${onOff} refused: ${String(res.body.error)}`);
    return 1;
  }
  const registered = res.body.registered === true ? ' (registered: a host no monitor had heard of)' : '';
  io.out(`${host}: maintenance ${onOff}${onOff === 'on' ? ' (never declared failed while on)' : ''}${registered}`);
  return 0;
}
