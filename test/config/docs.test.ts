import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/build.js';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? (n === 'testbed' ? [] : sources(p)) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('docs/configuration.md', () => {
  it('names the bounds of every duration and count key a config reader takes', () => {
    const doc = readFileSync(join(ROOT, 'docs/configuration.md'), 'utf8');
    const keys = new Set<string>();
    for (const f of sources(join(ROOT, 'src')))
      for (const m of readFileSync(f, 'utf8').matchAll(/\.(?:durationMs|number)\('([a-z_]+)'/g)) keys.add(m[1]!);
    expect(keys.size).toBeGreaterThan(40);
    const missing = [...keys].filter((k) => !new RegExp(`^\\| \`[^|]*\\b${k}\\b[^|]*\` \\| `, 'm').test(doc));
    expect(missing).toEqual([]);
  });
});
