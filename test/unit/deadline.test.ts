import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { withDeadline } from '../../src/deadline.js';
import { ensureBuilt, ROOT } from '../helpers/build.js';

const aborted = (s: AbortSignal): Promise<unknown> =>
  s.aborted ? Promise.resolve(s.reason) : new Promise((r) => s.addEventListener('abort', () => r(s.reason), { once: true }));

describe('withDeadline', () => {
  it('aborts the inner signal when the deadline passes, with a reason that names it', async () => {
    const started = Date.now();
    const reason = await withDeadline(new AbortController().signal, 50, aborted);
    expect(String(reason)).toContain('deadline of 50ms passed');
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  });

  it('aborts the inner signal when the outer one aborts, with its reason', async () => {
    const outer = new AbortController();
    setTimeout(() => outer.abort(new Error('stopping')), 10);
    expect(String(await withDeadline(outer.signal, 60_000, aborted))).toContain('stopping');
    const gone = new AbortController();
    gone.abort(new Error('already'));
    expect(String(await withDeadline(gone.signal, 60_000, aborted))).toContain('already');
  });

  it('returns what the work returns and leaves no timer or listener behind', async () => {
    const outer = new AbortController();
    let inner!: AbortSignal;
    expect(await withDeadline(outer.signal, 30, (s) => ((inner = s), Promise.resolve(7)))).toBe(7);
    await new Promise((r) => setTimeout(r, 60));
    expect(inner.aborted, 'the deadline was cleared when the work settled').toBe(false);
    outer.abort();
    expect(inner.aborted, 'the outer listener was removed').toBe(false);
  });

  it('keeps its deadline through garbage collection (where AbortSignal.any over AbortSignal.timeout lost it)', () => {
    ensureBuilt();
    // 200 deadlines of 100 ms, the work holding nothing but the inner signal; GC forced meanwhile.
    const script = `
      const { withDeadline } = await import(${JSON.stringify(pathToFileURL(join(ROOT, 'dist/src/deadline.js')).href)});
      let fired = 0;
      const runs = Array.from({ length: 200 }, () =>
        withDeadline(new AbortController().signal, 100, (s) => new Promise((r) => s.addEventListener('abort', () => { fired++; r(); }))));
      for (let i = 0; i < 5; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 10)); }
      await Promise.race([Promise.all(runs), new Promise((r) => setTimeout(r, 2000))]);
      console.log(fired);`;
    const out = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(Number(out.trim())).toBe(200);
  });
});
