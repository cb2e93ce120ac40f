import { HISTORY_HELP } from './history-command.js';

/** `instance-ha COMMAND --help`: what it does, its options, its exit codes, and examples. */
export const COMMAND_HELP: Record<string, string> = {
  monitor: `Usage: instance-ha monitor --config FILE

Runs a monitor: receives beacons, heartbeats the other monitors, holds quorum, and (as coordinator)
declares, fences and recovers failed hosts. Serves the control socket, the status API + dashboard
(status_api.listen, default 127.0.0.1:7411) and Prometheus metrics (metrics.listen, default
127.0.0.1:9411). Under systemd (Type=notify) it sends READY=1 once every socket is bound and
WATCHDOG=1 pings. SIGTERM/SIGINT: stops after in-flight fencing finishes (10 s at most), exit 0.
SIGHUP: logged only; configuration changes need a restart (docs/operations.md).

Examples
  instance-ha monitor --config /etc/instance-ha/monitor.yaml
  systemctl start instance-ha-monitor
`,
  beacon: `Usage: instance-ha beacon --config FILE

Runs a compute host's beacon: an authenticated UDP heartbeat to every monitor each interval, with
nova-compute's health. READY=1 to systemd once sending; SIGTERM exits 0.

Examples
  instance-ha beacon --config /etc/instance-ha/beacon.yaml
  systemctl start instance-ha-beacon
`,
  status: `Usage: instance-ha status [--json] [--watch] [--socket PATH | --config FILE]

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
`,
  maintenance: `Usage: instance-ha maintenance HOST on|off [--socket PATH | --config FILE]

Marks a host as under planned work: it is never declared failed (nor fenced) while on. The mark is
shared by all monitors (last writer wins by wall-clock time).

Examples
  instance-ha maintenance cmp-17 on
  instance-ha maintenance cmp-17 off
`,
  'ack-mass-failure': `Usage: instance-ha ack-mass-failure [--socket PATH | --config FILE]

The mass-failure guard holds when too many hosts fail at once (a switch, not the hosts). After
checking they are really down, acknowledge on the coordinator so it declares and fences them.

Example
  instance-ha status   # alarm mass_failure names the hosts
  instance-ha ack-mass-failure
`,
  config: `Usage: instance-ha config check FILE [--kind monitor|beacon]

Validates a configuration file in full (every problem, by key) and each fence agent's options
against its metadata, without starting anything. Exit 0 valid, 1 invalid.

Examples
  instance-ha config check /etc/instance-ha/monitor.yaml
  instance-ha config check /etc/instance-ha/beacon.yaml --kind beacon
`,
  fence: `Usage: instance-ha fence HOST --config FILE [--action off|on|reboot|status] [--yes]

Runs the host's fencing topology from the monitor config by hand (asks for confirmation unless
--yes). Exit 0 when the action was verified.

Examples
  instance-ha fence cmp-17 --config /etc/instance-ha/monitor.yaml --action status
  instance-ha fence cmp-17 --config /etc/instance-ha/monitor.yaml --action on --yes
`,
  agents: `Usage: instance-ha agents metadata AGENT

Prints a fence agent's metadata XML (native-ipmi, fence_ipmi, fence_ipmilan, any fence_* or a path).

Example
  instance-ha agents metadata fence_ipmi
`,
  history: HISTORY_HELP,
};
