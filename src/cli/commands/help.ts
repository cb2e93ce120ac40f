import { VERSION } from '../../version.js';
import type { Io } from '../command.js';

/** `instance-ha --help`: every command on one screen. */
export const OVERVIEW = `instance-ha ${VERSION}: high availability for OpenStack compute instances

Usage: instance-ha <command> [options]

Daemons
  monitor --config FILE        run a monitor (one per controller; 3 is typical)
  beacon --config FILE         run a beacon (one per compute host)

Try it
  demo [--hosts N] [--servers N] [--scenario default|partition|mass-failure|fence-failure] [--keep]
                               a whole cluster on 127.0.0.1: kill a host, watch it fenced and recovered

Operator commands (talk to the local monitor's control socket)
  status [--json] [--watch]    cluster, quorum, coordinator, every host; exit 0 healthy, 1 degraded, 2 no quorum/unreachable
  maintenance HOST on|off [--force]
                               keep a host from ever being declared failed (planned work); unknown hosts need --force
  forget HOST                  remove a decommissioned host from every monitor's state
  history [HOST] [--since D]   the monitor's journal of decisions (status API, or the state dir)
  ack-mass-failure [HOST...]   let the coordinator act on hosts held by the mass-failure guard (refused if none held)
  confirm-fenced HOST [--yes-i-checked HOST]
                               attest that a host whose fence failed is powered off, so its instances are recovered
  config check FILE [--kind monitor|beacon]
                               validate a configuration file (and its fence agents' options) without starting anything
  fence HOST --config FILE [--action off|on|reboot|status] [--yes]
                               run the host's fencing topology by hand (asks first unless --yes)
  unfence HOST [--power-on] [--config FILE]
                               return a fenced, recovered host to service (Nova and the monitors)
  agents metadata AGENT        print a fence agent's metadata (native-ipmi, fence_ipmi, fence_ipmilan, …)
  events [--config FILE] [--follow] [--json] [--type PATTERN]
                               print instance-ha's notifications from the OpenStack bus

Common options
  --socket PATH                control socket (default $INSTANCE_HA_SOCKET or /run/instance-ha/monitor.sock)
  --config FILE                read the control socket path from a monitor config

Run 'instance-ha COMMAND --help' for a command's options, exit codes and examples.

Examples
  instance-ha monitor --config /etc/instance-ha/monitor.yaml
  instance-ha status --json | jq '.hosts[] | select(.state != "up")'
  instance-ha maintenance cmp-17 on
`;

/** `instance-ha help` (also `--help`, `-h`, or no command at all); whatever follows is ignored. */
export async function runHelpCommand(_args: string[], io: Io): Promise<number> {
  io.out(OVERVIEW);
  return 0;
}
