import { ControlUnreachableError, controlRequest } from '../../control/client.js';
import type { StatusSnapshot } from '../../core/status-snapshot.js';
import { countByState, HOST_STATES } from '../../status-api/host-query.js';
import { parse, UsageError } from '../args.js';
import type { Io } from '../command.js';
import { controlSocketOf } from '../control-socket.js';
import { formatStatus, FULL_LIST_MAX_HOSTS, statusExitCode, SUMMARY_ROWS, type StatusView } from '../status-format.js';

export const STATUS_HELP = `Usage: instance-ha status [--all | --state STATE | --host NAME] [--json] [--watch] [--socket PATH | --config FILE]

The local monitor's view: a one-line verdict, the quorum, the monitors, the hosts, alarms, and the
recent failures with each step's time. Up to ${FULL_LIST_MAX_HOSTS} hosts every host has a row; above that, a
summary: counts by state and the first ${SUMMARY_ROWS} hosts that are not up ("… and 1,980 more not up").
Colour only on a terminal (and not with NO_COLOR): green up, yellow suspect/maintenance/left, cyan
fencing or recovering, magenta powered off (fenced, evacuated: needs 'instance-ha unfence'), red failed.

The verdict line
  HEALTHY | DEGRADED | NO QUORUM, then "quorum: 3 of 3 monitors, 2 needed": monitors this one hears
  (itself included) of the expected votes, and the majority needed to decide anything.

Monitor columns
  MONITOR      monitor id ("(self)" is the one answering)
  ADDRESS      where the others reach it
  STATE        live (heard within peer_timeout) or unreachable
  LAST SEEN    time since its last heartbeat reached this monitor
  VOTES FOR    the monitor it votes for as coordinator
  ROLE         coordinator: the one that declares, fences and recovers

Host columns
  HOST            host name (as its beacon names it)
  STATE           the cluster's decision: up, suspect, failed, fencing, fenced, fence_failed,
                  recovering, evacuated (powered off, instances moved), recovery_failed, maintenance, left (its
                  beacon stopped cleanly and said so: never fenced for that silence, its instances NOT
                  protected; not an alarm, listed under LEFT), or newer states
  LAST HEARTBEAT  time since this monitor last heard the host's beacon ("never": not yet)
  HERE            this monitor's own detector level: up, suspect or dead
  BEACON SAID     nova-compute health as the beacon last reported it; for a host not heard now it
                  is the host's last word, with its age: "up (41s ago)" on a powered-off host
  NOVA SAYS       (when compute is configured) Nova's own view of the host's nova-compute service,
                  polled once per interval: up/down, forced_down, disabled (with its reason);
                  "?" before the first answer, "not in Nova" when Nova does not list the host
  LOSS            estimated heartbeat loss
  DEAD AFTER      silence after which this monitor calls the host dead (adapts to jitter and loss)
  MAINT           yes when in maintenance (never fenced)
  FENCE           level and agent that powered it off, when, and how long ("in progress 3.5s");
                  "FAILED agent 10.0s at 03:12:20Z: <why>" when fencing failed
  RECOVERY        (when a host has recovery progress) evacuated/selected, active, failed, notified

Options
  --all            list every host, however many
  --state STATE    list only the hosts in STATE (e.g. suspect, fence_failed)
  --host NAME      list only host NAME
  --json           the snapshot as JSON (for scripts; no secrets in it): every host, or with
                   --state/--host only the matching ones, with "hostCounts" over all hosts
  --watch          redraw every second until interrupted
  --socket PATH    control socket (default $INSTANCE_HA_SOCKET or /run/instance-ha/monitor.sock)
  --config FILE    take the control socket from a monitor config

Exit codes
  0  healthy: quorum, no alarm
  1  degraded: quorum, but at least one alarm (fence failure, mass-failure hold, stall, ...)
  2  no quorum, or the monitor is unreachable

Examples
  instance-ha status
  instance-ha status --state suspect
  instance-ha status --host compute-17
  instance-ha status --json | jq '.hosts[] | select(.state != "up")'
  instance-ha status >/dev/null || echo "needs attention (exit $?)"
`;

/** `instance-ha status`: one snapshot from the control socket (or one a second with --watch). */
export async function runStatusCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, {
    json: { type: 'boolean' },
    socket: { type: 'string' },
    config: { type: 'string' },
    watch: { type: 'boolean' },
    all: { type: 'boolean' },
    state: { type: 'string' },
    host: { type: 'string' },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}' (a host is given with --host NAME)`);
  if ([values.all, values.state !== undefined, values.host !== undefined].filter(Boolean).length > 1)
    throw new UsageError('--all, --state and --host are alternatives: give one');
  if (values.state !== undefined && !/^[a-z_]{1,32}$/.test(values.state))
    throw new UsageError(`--state must be a host state (${HOST_STATES.join(', ')}), got '${values.state}'`);
  const view: StatusView = {
    ...(values.all ? { all: true } : {}),
    ...(values.state !== undefined ? { state: values.state } : {}),
    ...(values.host !== undefined ? { host: values.host } : {}),
  };
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
    io.out(values.json ? JSON.stringify(filtered(snap, view)) : formatStatus(snap, io.isTty, Date.now(), view));
    return statusExitCode(snap);
  };
  if (!values.watch) return once();
  for (;;) {
    if (io.isTty) io.out('\x1b[2J\x1b[H');
    await once();
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** The snapshot for --json: whole, or with only the hosts --state/--host name (counts over all). */
function filtered(s: StatusSnapshot, view: StatusView): StatusSnapshot & { hostCounts: Record<string, number> } {
  const hostCounts = countByState(s.hosts);
  if (view.state === undefined && view.host === undefined) return { ...s, hostCounts };
  return {
    ...s,
    hosts: s.hosts.filter((h) => (view.state === undefined || h.state === view.state) && (view.host === undefined || h.host === view.host)),
    hostCounts,
  };
}
