import { loadConfig } from '../../config/load.js';
import { readBeaconConfig, type BeaconConfig } from '../../config/beacon-config.js';
import { Beacon } from '../../daemon/beacon.js';
import { createLogger, levelOrInfo, type Logger, componentLogger } from '../../log.js';
import { UsageError, parse } from '../args.js';
import { systemClock } from '../../daemon/clock.js';
import { HealthCheck } from '../../daemon/health-check.js';
import { UdpTransport } from '../../wire/udp-transport.js';
import { runUntilSignal } from '../../ops/lifecycle.js';
import { SystemdNotifier } from '../../systemd/notify.js';
import { GuestWatch, DEFAULT_GUEST_WATCH } from '../../guest/guest-watch.js';
import { GuestReporter } from '../../daemon/guest-reporter.js';

/**
 * The beacon's composition root: configuration read once, then the clock, UDP transport and health
 * check it is built from. Runs until SIGTERM/SIGINT; resolves with the exit code.
 */
export async function beaconCommand(args: string[]): Promise<number> {
  const { values } = parse(args, { config: { type: 'string', short: 'c' } });
  if (!values.config) throw new UsageError('Usage: instance-ha beacon --config /etc/instance-ha/beacon.yaml');
  const cfg = loadConfig(values.config, readBeaconConfig);
  const log = createLogger({ level: levelOrInfo(cfg.logLevel), base: { host: cfg.host } });
  const beaconLog = componentLogger(log, 'beacon');
  for (const w of cfg.warnings) beaconLog.warn({ warning: w.kind }, `CONFIGURATION WARNING: ${w.message}`);
  const beacon = new Beacon({
    settings: cfg,
    clock: systemClock,
    transport: new UdpTransport(componentLogger(beaconLog, 'udp'), systemClock.now),
    health: new HealthCheck(cfg.health, componentLogger(beaconLog, 'health')),
    log: beaconLog,
  });
  beacon.start();
  // Guest OS failures (libvirt's domain events through `virsh event`), forwarded in sealed datagrams.
  const guests = startGuestWatch(cfg, beacon, beaconLog);
  // The beacon serves once its first heartbeats are sent (start() sends one at once).
  const sd = new SystemdNotifier(componentLogger(log, 'systemd'));
  const stopped = runUntilSignal({
    log,
    notifier: sd,
    // SIGTERM is a clean stop (systemctl stop, an upgrade, an orderly reboot): say so before going, so the
    // monitors show the host `left` instead of fencing it. SIGKILL or a power loss sends nothing: fenced.
    stop: async () => {
      guests?.stop();
      await beacon.leave();
      beacon.stop();
      beaconLog.info({ bootId: beacon.bootId }, 'beacon stopped: leaving sent, the monitors show this host left (not protected)');
    },
    reload: () => reloadKey(values.config!, cfg, beacon, beaconLog),
  });
  await sd.ready(`sending heartbeats to ${cfg.monitors.length} monitors`);
  sd.startWatchdog();
  return stopped;
}

function startGuestWatch(cfg: BeaconConfig, beacon: Beacon, log: Logger): { stop(): void } | null {
  const g = cfg.guestWatch;
  if (!g.enabled) return null;
  const glog = componentLogger(log, 'guest-watch');
  const reporter = new GuestReporter({
    host: cfg.host,
    bootId: beacon.bootId,
    clock: systemClock,
    send: (kind, body) => beacon.sendSealed(kind, body),
    maxEventsPerMinute: g.maxEventsPerMinute,
    repeats: g.repeats,
    log: glog,
  });
  const watch = new GuestWatch(
    { ...DEFAULT_GUEST_WATCH, virsh: g.virsh, uri: g.uri },
    (r) => reporter.report(r),
    glog,
    (running, why) => reporter.watchState(running, why),
  );
  reporter.start();
  watch.start();
  glog.info({ uri: g.uri, maxEventsPerMinute: g.maxEventsPerMinute }, 'watching libvirt domain events for guest failures');
  return {
    stop() {
      watch.stop();
      reporter.stop();
    },
  };
}

/**
 * SIGHUP: re-reads the configuration and switches to its key (a key rollover: docs/operations.md).
 * Nothing else is applied without a restart; a file that no longer reads keeps the old key, loudly.
 */
function reloadKey(file: string, running: BeaconConfig, beacon: Beacon, log: Logger): void {
  let cfg: BeaconConfig;
  try {
    cfg = loadConfig(file, readBeaconConfig);
  } catch (err) {
    log.error({ err: err instanceof Error ? err.message : String(err) }, 'SIGHUP: configuration not reloaded, the key in use is kept');
    return;
  }
  beacon.rekey(cfg.key);
  for (const w of cfg.warnings) log.warn({ warning: w.kind }, `CONFIGURATION WARNING: ${w.message}`);
  const changed =
    cfg.host !== running.host || cfg.intervalMs !== running.intervalMs || JSON.stringify(cfg.monitors) !== JSON.stringify(running.monitors);
  log.info({ keySlot: cfg.keySlot }, 'SIGHUP: key reloaded; heartbeats are sealed with it from now on');
  if (changed) log.warn('SIGHUP: only the key is reloaded; restart the beacon to apply the other changes');
}

/** `instance-ha beacon --help`. */
export const BEACON_HELP = `Usage: instance-ha beacon --config FILE

Runs a compute host's beacon: an authenticated UDP heartbeat to every monitor each interval, with
nova-compute's health, sealed with this host's own key (host_key_file). READY=1 to systemd once
sending; SIGTERM (systemctl stop, a package upgrade, an orderly reboot) sends an authenticated
"leaving" three times and exits 0: the monitors show the host \`left\`, never fence it for that silence,
and its instances are NOT protected until the beacon runs again (SIGKILL or a power loss sends nothing
and the host is fenced as a failure; for planned work use \`instance-ha maintenance HOST on\` first,
docs/operations.md "Stopping a beacon"); SIGHUP re-reads the key file named in the configuration and seals with it
from the next heartbeat on (a key rollover, no gap: docs/operations.md "Rotating the keys").

Examples
  instance-ha beacon --config /etc/instance-ha/beacon.yaml
  systemctl start instance-ha-beacon
  systemctl reload instance-ha-beacon     # after changing host_key_file
`;
