import { loadConfig } from '../config/load.js';
import { readMonitorConfig } from '../config/monitor-config.js';
import { controlRequest } from '../control/client.js';
import type { StatusSnapshot } from '../core/status-snapshot.js';
import { startFencing } from '../fence/index.js';
import { createLogger } from '../log.js';
import { runUnfenceCli } from '../recovery/index.js';
import type { Io } from './commands.js';

const DEFAULT_CONFIG = '/etc/instance-ha/monitor.yaml';

/**
 * `instance-ha unfence HOST [--power-on] [--config FILE]`: powers the host on through its own fence
 * topology (when asked), waits for its beacon to be healthy on the local monitor, clears forced_down
 * and re-enables its compute service (retrying Nova's 400 while `done` evacuations remain), then
 * tells the monitor to watch the host again.
 */
export async function unfenceCommand(args: string[], io: Io): Promise<number> {
  const i = args.indexOf('--config');
  const file = i >= 0 && args[i + 1] ? args[i + 1]! : DEFAULT_CONFIG;
  const cfg = loadConfig(file, readMonitorConfig);
  const host = args.find((a, j) => !a.startsWith('-') && args[j - 1] !== '--config');
  const log = createLogger({ level: 'warn', destination: process.stderr });
  const fencing = cfg.fencing ? await startFencing({ config: cfg.fencing, log, monitorId: `${cfg.id}/unfence` }) : null;
  try {
    const code = await runUnfenceCli(i >= 0 ? args : [...args, '--config', file], {
      stdout: process.stdout,
      stderr: process.stderr,
      defaultConfigPath: file,
      ...(fencing
        ? {
            powerOn: async (h: string, signal: AbortSignal) => {
              const r = await fencing.fencer.hostAction(h, 'on', signal);
              if (!r.ok) throw new Error(`power-on of ${h} failed`);
            },
          }
        : {}),
      isHealthy: async (h: string) => {
        const s = (await controlRequest(cfg.controlSocket, 'GET', '/status')).body as unknown as StatusSnapshot;
        return s.hosts.some((x) => x.host === h && x.localLevel === 'up' && x.lastHeartbeatAgeMs !== null && x.lastHeartbeatAgeMs < 5000);
      },
    });
    if (code !== 0 || !host) return code;
    const res = await controlRequest(cfg.controlSocket, 'POST', '/clear', { host, by: process.env.SUDO_USER ?? process.env.USER ?? 'operator' });
    if (res.status !== 200 && res.status !== 202) {
      io.err(`${host}: returned to service in Nova, but the monitor refused to clear its decision: ${String(res.body.error)}`);
      return 1;
    }
    // The request reaches the coordinator with this monitor's next heartbeat; wait to see it applied.
    const deadline = Date.now() + 10_000;
    for (;;) {
      const s = (await controlRequest(cfg.controlSocket, 'GET', '/status')).body as unknown as StatusSnapshot;
      const state = s.hosts.find((x) => x.host === host)?.state;
      if (state === 'up' || state === 'suspect' || state === 'maintenance') break;
      if (Date.now() > deadline) {
        io.err(`${host}: returned to service in Nova, but the coordinator has not cleared its decision yet (state ${state}); check 'instance-ha status'`);
        return 1;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    io.out(`${host}: watched again by the monitors`);
    return 0;
  } finally {
    await fencing?.close();
  }
}
