import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { readBeaconConfig } from '../../config/beacon-config.js';
import type { ConfigWarning } from '../../config/keys-config.js';
import { loadConfig } from '../../config/load.js';
import { readMonitorConfig } from '../../daemon/monitor-config.js';
import { ConfigError } from '../../errors.js';
import { checkFencingAgents } from '../../fence/index.js';
import { createLogger } from '../../log.js';
import { UsageError, parse } from '../args.js';
import type { Io } from '../command.js';

export const CONFIG_HELP = `Usage: instance-ha config check FILE [--kind monitor|beacon]

Validates a configuration file in full (every problem, by key) and each fence agent's options
against its metadata, without starting anything. Exit 0 valid, 1 invalid. A valid file that uses a
deprecated setting (the single cluster_key) is valid, with a WARNING on stderr.

Examples
  instance-ha config check /etc/instance-ha/monitor.yaml
  instance-ha config check /etc/instance-ha/beacon.yaml --kind beacon
`;

/** `instance-ha config check FILE`: validates without starting anything. Kind is guessed from the content if not given. */
export async function runConfigCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, { kind: { type: 'string' } });
  const [sub, file] = positionals;
  if (sub !== 'check' || !file) throw new UsageError('usage: instance-ha config check FILE [--kind monitor|beacon]');
  let kind = values.kind;
  if (kind === undefined) {
    try {
      const doc = parseYaml(readFileSync(file, 'utf8')) as Record<string, unknown> | null;
      kind = doc && typeof doc === 'object' && 'id' in doc ? 'monitor' : 'beacon';
    } catch {
      kind = 'monitor';
    }
  }
  if (kind !== 'monitor' && kind !== 'beacon') throw new UsageError(`--kind must be monitor or beacon, got '${kind}'`);
  let warnings: ConfigWarning[] = [];
  try {
    if (kind === 'monitor') {
      const cfg = loadConfig(file, readMonitorConfig);
      warnings = cfg.warnings;
      // Each agent's own metadata says which options it takes: check ours against it.
      if (cfg.fencing) {
        const problems = await checkFencingAgents(cfg.fencing, createLogger({ level: 'silent' }));
        if (problems.length > 0) throw new ConfigError(file, problems);
      }
    } else warnings = loadConfig(file, readBeaconConfig).warnings;
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err(err.message);
      return 1;
    }
    throw err;
  }
  // Valid, and it keeps working, but loudly: a deprecated setting is said on stderr, every time.
  for (const w of warnings) io.err(`WARNING ${file}: ${w.message}`);
  io.out(`${file}: valid ${kind} configuration${warnings.length ? ` (${warnings.length} warning(s) above)` : ''}`);
  return 0;
}
