import { parse } from 'yaml';
import { ConfigError, type ConfigProblem } from '../errors.js';
import { ObjectReader } from './reader.js';
import { MAX_CONFIG_FILE_BYTES, readTextFile } from './safe-file.js';

/**
 * Reads a YAML file and runs `read` over it; throws one ConfigError listing every problem. The file
 * must be a regular file of at most 1 MiB of UTF-8 (see safe-file.ts): a FIFO or /dev/zero given as
 * the config never hangs or fills the monitor's memory.
 */
export function loadConfig<T>(file: string, read: (r: ObjectReader, file: string) => T): T {
  return parseConfig(readConfigText(file), file, read);
}

/** The text of a config file, or a ConfigError naming the file and why it cannot be used. */
export function readConfigText(file: string): string {
  const res = readTextFile(file, MAX_CONFIG_FILE_BYTES);
  if (!res.ok)
    throw new ConfigError(file, [{ path: '', reason: res.reason.startsWith(file) ? res.reason.slice(file.length + 1) : res.reason }]);
  return res.text;
}

export function parseConfig<T>(text: string, file: string, read: (r: ObjectReader, file: string) => T): T {
  let doc: unknown;
  try {
    doc = parse(text, { uniqueKeys: true, maxAliasCount: 100 });
  } catch (err) {
    throw new ConfigError(file, [{ path: '', reason: `is not valid YAML: ${(err as Error).message.split('\n')[0]}` }]);
  }
  const problems: ConfigProblem[] = [];
  const r = ObjectReader.root(doc, problems);
  const value = read(r, file);
  r.finish();
  if (problems.length > 0) throw new ConfigError(file, problems);
  return value;
}
