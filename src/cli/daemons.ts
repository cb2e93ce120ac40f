import { loadConfig } from '../config/load.js';
import { readBeaconConfig } from '../config/beacon-config.js';
import { readMonitorConfig } from '../config/monitor-config.js';
import { ControlServer } from '../control/server.js';
import { Beacon } from '../daemon/beacon.js';
import { MonitorDaemon } from '../daemon/monitor.js';
import { createLogger, isLevel } from '../log.js';
import { UsageError, parse } from './args.js';
import { startFencing } from '../fence/index.js';

function level(s: string): 'info' | 'fatal' | 'error' | 'warn' | 'debug' | 'trace' | 'silent' {
  return isLevel(s) ? s : 'info';
}

/** Runs until SIGTERM/SIGINT; resolves with the exit code. */
export async function monitorCommand(args: string[]): Promise<number> {
  const { values } = parse(args, { config: { type: 'string', short: 'c' } });
  if (!values.config) throw new UsageError('usage: instance-ha monitor --config /etc/instance-ha/monitor.yaml');
  const cfg = loadConfig(values.config, readMonitorConfig);
  const log = createLogger({ level: level(cfg.logLevel), base: { monitor: cfg.id } });
  const fencing = cfg.fencing ? await startFencing({ config: cfg.fencing, log: log.child({ component: 'fence' }), monitorId: cfg.id }) : null;
  if (!fencing) log.warn('no fencing configured: failed hosts are declared and shown, never fenced or recovered');
  const monitor = new MonitorDaemon({ config: cfg, log, ...(fencing ? { fencer: fencing.fencer } : {}) });
  await monitor.start();
  const control = new ControlServer(cfg.controlSocket, monitor, log.child({ component: 'control' }));
  await control.start();
  log.info({ controlSocket: cfg.controlSocket }, 'monitor ready');
  return waitForStop(log, () => {
    control.stop();
    monitor.stop();
    void fencing?.close();
  });
}

export async function beaconCommand(args: string[]): Promise<number> {
  const { values } = parse(args, { config: { type: 'string', short: 'c' } });
  if (!values.config) throw new UsageError('usage: instance-ha beacon --config /etc/instance-ha/beacon.yaml');
  const cfg = loadConfig(values.config, readBeaconConfig);
  const log = createLogger({ level: level(cfg.logLevel), base: { host: cfg.host } });
  const beacon = new Beacon(cfg, log.child({ component: 'beacon' }));
  beacon.start();
  return waitForStop(log, () => beacon.stop());
}

function waitForStop(log: ReturnType<typeof createLogger>, stop: () => void): Promise<number> {
  return new Promise((resolve) => {
    const onSignal = (sig: NodeJS.Signals): void => {
      log.info({ signal: sig }, 'stopping');
      stop();
      resolve(0);
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    process.on('SIGHUP', () => log.warn('SIGHUP: configuration reload is not supported yet; restart the service to apply changes'));
  });
}
