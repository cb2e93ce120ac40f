import { loadConfig } from '../config/load.js';
import { readMonitorConfig } from '../config/monitor-config.js';
import { runAgentsMetadataCommand, runFenceCommand, startFencing, ttyConfirm } from '../fence/index.js';
import { createLogger } from '../log.js';
import { UsageError } from './args.js';
import type { Io } from './commands.js';

/** `instance-ha fence HOST --config FILE [--action ..] [--yes]`: the monitor's own fencing code. */
export async function fenceCommand(args: string[], io: Io): Promise<number> {
  const i = args.findIndex((a) => a === '--config' || a === '-c');
  const file = i >= 0 ? args[i + 1] : undefined;
  if (!file) throw new UsageError('usage: instance-ha fence HOST --config /etc/instance-ha/monitor.yaml [--action off|on|reboot|status] [--yes]');
  const rest = args.filter((_, j) => j !== i && j !== i + 1);
  const cfg = loadConfig(file, readMonitorConfig);
  if (!cfg.fencing) {
    io.err(`${file}: no fencing section: nothing to fence with`);
    return 1;
  }
  const log = createLogger({ level: 'warn', destination: process.stderr });
  const { fencer, close } = await startFencing({ config: cfg.fencing, log, monitorId: `${cfg.id}/cli` });
  try {
    return await runFenceCommand(rest, { fencer, confirm: ttyConfirm, out: io.out, err: io.err });
  } finally {
    await close();
  }
}

export function agentsCommand(args: string[], io: Io): Promise<number> {
  return runAgentsMetadataCommand(args, { out: io.out, err: io.err, log: createLogger({ level: 'warn', destination: process.stderr }) });
}
