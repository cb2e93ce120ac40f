import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatGolden, parseGolden } from './golden-file.js';
import { runCommand } from './trace-commands.js';
import { TraceCluster } from './trace-cluster.js';

/**
 * Golden traces of the decision core: each testdata/*.txt is a script of cluster events and the
 * effects the monitors answered with (see trace-commands.ts for the language). A changed rule changes
 * a trace. After an intended change, regenerate and review the diff:
 *   UPDATE_GOLDEN=1 npx vitest run test/core/golden.test.ts
 */
const dir = new URL('./testdata/', import.meta.url);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.txt'))
  .sort();

describe('golden core traces', () => {
  it('has traces to check', () => expect(files.length).toBeGreaterThan(0));

  it.each(files)('%s', (file) => {
    const url = new URL(file, dir);
    const text = readFileSync(url, 'utf8');
    const { steps, trailer } = parseGolden(text);
    const cluster = new TraceCluster();
    const ran = steps.map((s) => ({ ...s, actual: runCommand(cluster, s.command) }));
    if (process.env.UPDATE_GOLDEN === '1') {
      writeFileSync(url, formatGolden(ran, trailer));
      return;
    }
    for (const s of ran) expect(s.actual.join('\n'), `${file}:${s.line} ${s.command}`).toBe(s.expected.join('\n'));
  });
});
