import { describe, expect, it } from 'vitest';
import { humanLine, humanLogger } from '../../src/cli/human-log.js';

describe('the one-shot commands logger', () => {
  it('turns a log record into one line of words, secrets still redacted', async () => {
    const lines: string[] = [];
    const log = humanLogger((l) => lines.push(l));
    log.warn({ host: 'cmp1', ok: false, password: 'hunter2', detail: 'x'.repeat(500) }, 'fence attempt');
    log.info('not shown: warnings and worse only');
    await new Promise((r) => setImmediate(r));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^warning: fence attempt \(host=cmp1 ok=false password=\[redacted\] detail=x{200}…\)$/);
  });

  it('passes a line that is not JSON through unchanged', () => {
    expect(humanLine('plain words')).toBe('plain words');
  });
});
