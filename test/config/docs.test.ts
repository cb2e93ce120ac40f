import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/build.js';
import { HISTORY_EVENT_TYPES, LEGACY_EVENT_TYPES, LEGACY_STATE_NAMES, STATE_NAMES } from '../../src/core/vocabulary.js';
import { EVENT_TYPES } from '../../src/notify/envelope.js';

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

describe('docs/vocabulary.md', () => {
  const doc = readFileSync(join(ROOT, 'docs/vocabulary.md'), 'utf8');
  // Table rows as trimmed cells: | a | b | -> ['a', 'b'].
  const rows = doc
    .split('\n')
    .filter((l) => l.startsWith('| ') && !l.startsWith('| ---'))
    .map((l) =>
      l
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim()),
    );
  const states = rows.filter((r) => r.length === 4);
  const events = rows.filter((r) => r.length === 6);
  it('has a row for every state and every history event, and names every bus event type and old name', () => {
    const missing = [
      ...STATE_NAMES.filter((s) => !states.some((r) => r[0] === `\`${s}\``)),
      ...HISTORY_EVENT_TYPES.filter((t) => !events.some((r) => r[1]!.includes(`\`${t}\``))),
      ...EVENT_TYPES.map((t) => t.replace(/^instance_ha\./, '')).filter((t) => !events.some((r) => r[2]!.includes(`\`${t}\``))),
      ...[...Object.keys(LEGACY_EVENT_TYPES), ...Object.keys(LEGACY_STATE_NAMES)].filter((t) => !doc.includes(`\`${t}\``)),
    ];
    expect(missing).toEqual([]);
  });
});
