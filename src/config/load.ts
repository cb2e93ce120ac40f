import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { ConfigError, type ConfigProblem } from '../errors.js';
import { ObjectReader } from './reader.js';

/** Reads a YAML file and runs `read` over it; throws one ConfigError listing every problem. */
export function loadConfig<T>(file: string, read: (r: ObjectReader, file: string) => T): T {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [{ path: '', reason: `cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}` }]);
  }
  return parseConfig(text, file, read);
}

export function parseConfig<T>(text: string, file: string, read: (r: ObjectReader, file: string) => T): T {
  let doc: unknown;
  try {
    doc = parse(text, { uniqueKeys: true });
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
