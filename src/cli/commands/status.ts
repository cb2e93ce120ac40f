import { ControlUnreachableError, controlRequest } from '../../control/client.js';
import type { StatusSnapshot } from '../../core/status-snapshot.js';
import { parse } from '../args.js';
import type { Io } from '../command.js';
import { controlSocketOf } from '../control-socket.js';
import { formatStatus, statusExitCode } from '../status-format.js';

export const STATUS_HELP = `Usage: instance-ha status [--json] [--watch] [--socket PATH | --config FILE]

The local monitor's view: a one-line verdict, the monitors (address, state, last seen, votes,
coordinator), every host (state, last heartbeat, detector level, nova-compute, loss, conviction
time, maintenance, fencing level/agent/when/how long, recovery progress when recovering), alarms,
and recent failures with each step's time. Colour only on a terminal (and not with NO_COLOR).

Options
  --json           the whole snapshot as JSON (for scripts; no secrets in it)
  --watch          redraw every second until interrupted
  --socket PATH    control socket (default $INSTANCE_HA_SOCKET or /run/instance-ha/monitor.sock)
  --config FILE    take the control socket from a monitor config

Exit codes
  0  healthy: quorum, no alarm
  1  degraded: quorum, but at least one alarm (fence failure, mass-failure hold, stall, ...)
  2  no quorum, or the monitor is unreachable

Examples
  instance-ha status
  instance-ha status --json | jq '.hosts[] | select(.state != "up")'
  instance-ha status >/dev/null || echo "needs attention (exit $?)"
`;

/** `instance-ha status`: one snapshot from the control socket (or one a second with --watch). */
export async function runStatusCommand(args: string[], io: Io): Promise<number> {
  const { values } = parse(args, {
    json: { type: 'boolean' },
    socket: { type: 'string' },
    config: { type: 'string' },
    watch: { type: 'boolean' },
  });
  const socket = controlSocketOf(values);
  const once = async (): Promise<number> => {
    let snap: StatusSnapshot;
    try {
      const res = await controlRequest(socket, 'GET', '/status');
      snap = res.body as unknown as StatusSnapshot;
    } catch (err) {
      if (!(err instanceof ControlUnreachableError)) throw err;
      if (values.json) io.out(JSON.stringify({ error: err.message, reachable: false }));
      else io.err(`UNREACHABLE: ${err.message}`);
      return 2;
    }
    io.out(values.json ? JSON.stringify(snap) : formatStatus(snap, io.isTty));
    return statusExitCode(snap);
  };
  if (!values.watch) return once();
  for (;;) {
    if (io.isTty) io.out('\x1b[2J\x1b[H');
    await once();
    await new Promise((r) => setTimeout(r, 1000));
  }
}
