/** `instance-ha beacon --help`. The command itself is the beacon's composition root, `beaconCommand` in ../daemons.ts. */
export const BEACON_HELP = `Usage: instance-ha beacon --config FILE

Runs a compute host's beacon: an authenticated UDP heartbeat to every monitor each interval, with
nova-compute's health. READY=1 to systemd once sending; SIGTERM exits 0.

Examples
  instance-ha beacon --config /etc/instance-ha/beacon.yaml
  systemctl start instance-ha-beacon
`;
