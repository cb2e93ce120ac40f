/** `instance-ha monitor --help`. The command itself is the monitor's composition root, `monitorCommand` in ../daemons.ts. */
export const MONITOR_HELP = `Usage: instance-ha monitor --config FILE

Runs a monitor: receives beacons, heartbeats the other monitors, holds quorum, and (as coordinator)
declares, fences and recovers failed hosts. Serves the control socket, the status API + dashboard
(status_api.listen, default 127.0.0.1:7411) and Prometheus metrics (metrics.listen, default
127.0.0.1:9411). Under systemd (Type=notify) it sends READY=1 once every socket is bound and
WATCHDOG=1 pings. SIGTERM/SIGINT: stops after in-flight fencing finishes (10 s at most), exit 0.
SIGHUP: logged only; configuration changes need a restart (docs/operations.md).

Examples
  instance-ha monitor --config /etc/instance-ha/monitor.yaml
  systemctl start instance-ha-monitor
`;
