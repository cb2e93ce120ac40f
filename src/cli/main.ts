#!/usr/bin/env node
import { ConfigError, HaError } from '../errors.js';
import { VERSION } from '../version.js';
import { UsageError } from './args.js';
import { ackMassFailureCommand, configCheckCommand, maintenanceCommand, statusCommand, type Io } from './commands.js';
import { beaconCommand, monitorCommand } from './daemons.js';
import { agentsCommand, fenceCommand } from './fence-commands.js';
import { eventsCommand } from './notify-wiring.js';
import { demoCommand } from './demo-command.js';
import { unfenceCommand } from './unfence-command.js';
import { UNFENCE_USAGE } from '../recovery/index.js';
import { EVENTS_USAGE } from '../notify/index.js';
import { DEMO_USAGE } from './demo-command.js';
import { historyCommand } from './history-command.js'; // area/ops
import { COMMAND_HELP } from './command-help.js'; // area/ops

/** Help for the commands whose handlers live in the recovery, notification and demo areas. */
const EXTRA_HELP: Record<string, string> = {
  unfence: `${UNFENCE_USAGE.trim()}

Returns a fenced, recovered host to service: optionally powers it on through its own fence
topology (--power-on), waits until its beacon is healthy on the local monitor, clears forced_down
and re-enables its nova-compute service (retrying Nova's 400 while 'done' evacuation records
remain, until recovery.unfence.timeout), then tells the monitors to watch it again.
--config defaults to /etc/instance-ha/monitor.yaml.
Exit codes: 0 returned, 1 Nova still refuses (or the monitor did not clear it), 2 configuration or API error, 64 usage.

Example:
  instance-ha unfence compute-17 --power-on`,
  events: `${EVENTS_USAGE.trim()}

The broker and exchange come from --config FILE (a monitor configuration's notifications section),
else amqp://guest@127.0.0.1:5672/, exchange openstack.

Example:
  instance-ha events --follow --type 'instance_ha.host.*' --config /etc/instance-ha/monitor.yaml`,
  demo: DEMO_USAGE,
};

const HELP = `instance-ha ${VERSION}: high availability for OpenStack compute instances

Usage: instance-ha <command> [options]

Daemons
  monitor --config FILE        run a monitor (one per controller; 3 is typical)
  beacon --config FILE         run a beacon (one per compute host)

Try it
  demo [--hosts N] [--servers N] [--scenario default|partition|mass-failure|fence-failure] [--keep]
                               a whole cluster on 127.0.0.1: kill a host, watch it fenced and recovered

Operator commands (talk to the local monitor's control socket)
  status [--json] [--watch]    cluster, quorum, coordinator, every host; exit 0 healthy, 1 degraded, 2 no quorum/unreachable
  maintenance HOST on|off      keep a host from ever being declared failed (planned work)
  history [HOST] [--since D]   the monitor's journal of decisions (status API, or the state dir)
  ack-mass-failure             let the coordinator act on hosts held by the mass-failure guard
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

export async function main(argv: string[], io: Io): Promise<number> {
  const [cmd, ...rest] = argv;
  // area/ops: `instance-ha COMMAND --help` for every command that has a help text.
  if (cmd && (rest.includes('--help') || rest.includes('-h')) && !COMMAND_HELP[cmd] && EXTRA_HELP[cmd]) {
    io.out(EXTRA_HELP[cmd]!);
    return 0;
  }
  if (cmd && COMMAND_HELP[cmd] && (rest.includes('--help') || rest.includes('-h'))) {
    io.out(COMMAND_HELP[cmd]!);
    return 0;
  }
  try {
    switch (cmd) {
      case 'monitor':
        return await monitorCommand(rest);
      case 'beacon':
        return await beaconCommand(rest);
      case 'status':
        return await statusCommand(rest, io);
      case 'maintenance':
        return await maintenanceCommand(rest, io);
      case 'ack-mass-failure':
        return await ackMassFailureCommand(rest, io);
      case 'config':
        return await configCheckCommand(rest, io);
      case 'history': // area/ops
        return await historyCommand(rest, io);
      case 'fence':
        return await fenceCommand(rest, io);
      case 'agents':
        return await agentsCommand(rest, io);
      case 'events':
        return await eventsCommand(rest);
      case 'demo':
        return await demoCommand(rest, io);
      case 'unfence':
        return await unfenceCommand(rest, io);
      case '--version':
      case 'version':
        io.out(VERSION);
        return 0;
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        io.out(HELP);
        return 0;
      default:
        io.err(`unknown command '${cmd}'\n\n${HELP}`);
        return 64;
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(err.message);
      return 64;
    }
    if (err instanceof ConfigError) {
      io.err(err.message);
      return 78;
    }
    if (err instanceof HaError) {
      io.err(err.message);
      return 1;
    }
    throw err;
  }
}

const io: Io = { out: (s) => process.stdout.write(s + '\n'), err: (s) => process.stderr.write(s + '\n'), isTty: process.stdout.isTTY === true && !process.env.NO_COLOR };
main(process.argv.slice(2), io).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`instance-ha: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 70;
  },
);
