import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { ObjectReader } from '../config/reader.js';
import { ConfigError, type ConfigProblem } from '../errors.js';
import type { ComputeConfig } from '../openstack/config.js';
import { readComputeConfig, readRecoveryConfig, type RecoveryConfig } from './config.js';

/**
 * Reads only the `compute:` and `recovery:` sections of a monitor YAML (the other sections belong
 * to other components, so the root is not checked for unknown keys here).
 */
export function loadRecoverySections(file: string): { compute: ComputeConfig; recovery: RecoveryConfig } {
  const problems: ConfigProblem[] = [];
  let doc: unknown;
  try {
    doc = parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(file, [{ path: '', reason: `cannot read or parse: ${(err as Error).message}` }]);
  }
  const root = ObjectReader.root(doc, problems);
  const compute = readComputeConfig(root.object('compute'));
  const recovery = readRecoveryConfig(root.object('recovery'));
  if (problems.length) throw new ConfigError(file, problems);
  return { compute, recovery };
}
