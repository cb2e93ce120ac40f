import { loadConfig } from '../../config/load.js';
import { readBeaconConfig } from '../../config/beacon-config.js';
import { Beacon } from '../../daemon/beacon.js';
import { createLogger, levelOrInfo } from '../../log.js';
import { UsageError, parse } from '../args.js';
import { systemClock } from '../../daemon/clock.js';
import { HealthCheck } from '../../daemon/health-check.js';
import { UdpTransport } from '../../wire/udp-transport.js';
import { runUntilSignal } from '../../ops/lifecycle.js';
import { SystemdNotifier } from '../../systemd/notify.js';

/**
 * The beacon's composition root: configuration read once, then the clock, UDP transport and health
 * check it is built from. Runs until SIGTERM/SIGINT; resolves with the exit code.
 */
export async function beaconCommand(args: string[]): Promise<number> {
  const { values } = parse(args, { config: { type: 'string', short: 'c' } });
  if (!values.config) throw new UsageError('usage: instance-ha beacon --config /etc/instance-ha/beacon.yaml');
  const cfg = loadConfig(values.config, readBeaconConfig);
  const log = createLogger({ level: levelOrInfo(cfg.logLevel), base: { host: cfg.host } });
  const beaconLog = log.child({ component: 'beacon' });
  for (const w of cfg.warnings) beaconLog.warn({ warning: w.kind }, `CONFIGURATION WARNING: ${w.message}`);
  const beacon = new Beacon({
    settings: cfg,
    clock: systemClock,
    transport: new UdpTransport(beaconLog.child({ component: 'udp' }), systemClock.now),
    health: new HealthCheck(cfg.health, beaconLog.child({ component: 'health' })),
    log: beaconLog,
  });
  beacon.start();
  // The beacon serves once its first heartbeats are sent (start() sends one at once).
  const sd = new SystemdNotifier(log.child({ component: 'systemd' }));
  const stopped = runUntilSignal({ log, notifier: sd, stop: () => beacon.stop() });
  await sd.ready(`sending heartbeats to ${cfg.monitors.length} monitors`);
  sd.startWatchdog();
  return stopped;
}

/** `instance-ha beacon --help`. */
export const BEACON_HELP = `Usage: instance-ha beacon --config FILE

Runs a compute host's beacon: an authenticated UDP heartbeat to every monitor each interval, with
nova-compute's health. READY=1 to systemd once sending; SIGTERM exits 0.

Examples
  instance-ha beacon --config /etc/instance-ha/beacon.yaml
  systemctl start instance-ha-beacon
`;
