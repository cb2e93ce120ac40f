import { parse as parseYaml } from 'yaml';
import { readBeaconConfig } from '../../config/beacon-config.js';
import type { ConfigWarning } from '../../config/keys-config.js';
import { parseConfig, readConfigText } from '../../config/load.js';
import { readMonitorConfig } from '../../daemon/monitor-config.js';
import { ConfigError } from '../../errors.js';
import { checkFencingAgents } from '../../fence/index.js';
import { createLogger } from '../../log.js';
import { UsageError, parse } from '../args.js';
import type { Io } from '../command.js';

export const CONFIG_HELP = `Usage: instance-ha config check FILE [--kind monitor|beacon]

Validates a configuration file in full (every problem, by key, one line each, with the allowed
range of a value out of bounds) and each fence agent's options against its metadata, without
starting anything. The file must be a regular file of at most 1 MiB of UTF-8 text. A valid file
that uses a deprecated setting (the single cluster_key) is valid, with a WARNING on stderr.
Exit codes: 0 valid, 1 invalid (the problems on stderr), 64 usage error.

Examples
  instance-ha config check /etc/instance-ha/monitor.yaml
  instance-ha config check /etc/instance-ha/beacon.yaml --kind beacon
`;

/** `instance-ha config check FILE`: validates without starting anything. Kind is guessed from the content if not given. */
export async function runConfigCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, { kind: { type: 'string' } });
  const [sub, file] = positionals;
  if (sub !== 'check' || !file) throw new UsageError('Usage: instance-ha config check FILE [--kind monitor|beacon]');
  let kind = values.kind;
  if (kind !== undefined && kind !== 'monitor' && kind !== 'beacon')
    throw new UsageError(`--kind must be monitor or beacon, got '${kind}'`);
  let warnings: ConfigWarning[] = [];
  try {
    // Read through the same checks as the daemons (regular file, size cap, UTF-8): a FIFO never hangs this.
    const text = readConfigText(file);
    kind ??= guessKind(text);
    if (kind === 'monitor') {
      const cfg = parseConfig(text, file, readMonitorConfig);
      warnings = cfg.warnings;
      // Each agent's own metadata says which options it takes: check ours against it.
      if (cfg.fencing) {
        const problems = await checkFencingAgents(cfg.fencing, createLogger({ level: 'silent' }));
        if (problems.length > 0) throw new ConfigError(file, problems);
      }
    } else warnings = parseConfig(text, file, readBeaconConfig).warnings;
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

/** A document with an `id` is a monitor's; anything else (or unparseable YAML) is read as a beacon's. */
function guessKind(text: string): 'monitor' | 'beacon' {
  try {
    const doc = parseYaml(text) as unknown;
    return doc !== null && typeof doc === 'object' && !Array.isArray(doc) && Object.hasOwn(doc, 'id') ? 'monitor' : 'beacon';
  } catch {
    return 'monitor';
  }
}
