import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ensureBuilt, ROOT } from '../helpers/build.js';
import { tempDirs } from '../helpers/temp-dirs.js';

/**
 * The README's promise that examples/ pass `config check`, kept on a fresh machine: the README's
 * own shell block (after its `readme-example-check` marker) runs in a fresh copy of examples/,
 * with /etc/instance-ha moved into a temporary directory (in the block and in the examples alike)
 * so that the test never touches this machine's /etc.
 */
const run = promisify(execFile);
const tempDir = tempDirs();

function readmeBlock(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const m = /<!-- readme-example-check[^>]*-->\n```sh\n([\s\S]*?)\n```/.exec(readme);
  if (!m) throw new Error('README.md has no ```sh block after <!-- readme-example-check --> ');
  return m[1]!;
}

/** A fresh checkout's view: the examples copied, the build and dependencies of this one linked. */
function freshCopy(etc: string): string {
  const repo = tempDir('iha-examples-');
  cpSync(join(ROOT, 'examples'), join(repo, 'examples'), { recursive: true });
  for (const f of readdirSync(join(repo, 'examples')))
    writeFileSync(join(repo, 'examples', f), readFileSync(join(repo, 'examples', f), 'utf8').replaceAll('/etc/instance-ha', etc));
  symlinkSync(join(ROOT, 'dist'), join(repo, 'dist'));
  symlinkSync(join(ROOT, 'node_modules'), join(repo, 'node_modules'));
  return repo;
}

describe("README's example check", () => {
  it('fails on a fresh machine without the key and password files, as the README warns', async () => {
    ensureBuilt();
    const etc = join(tempDir('iha-examples-etc-'), 'etc-instance-ha');
    const repo = freshCopy(etc);
    const checkOnly = readmeBlock()
      .split('\n')
      .filter((l) => l.startsWith('for f in examples/'))
      .join('\n');
    expect(checkOnly).toContain('config check');
    const r = await run('bash', ['-c', checkOnly], { cwd: repo }).catch((e: { code: number; stderr: string }) => e);
    expect('code' in r && r.code).not.toBe(0);
    expect('code' in r && r.stderr).toContain(`${etc}/cluster.key`);
  });

  it('passes `config check` on every examples/*.yaml after exactly the README steps', async () => {
    ensureBuilt();
    const etc = join(tempDir('iha-examples-etc-'), 'etc-instance-ha');
    mkdirSync(join(etc, '..'), { recursive: true });
    const repo = freshCopy(etc);
    const script = readmeBlock().replaceAll('/etc/instance-ha', etc);
    const { stdout } = await run('bash', ['-e', '-c', script], { cwd: repo });
    const yamls = readdirSync(join(repo, 'examples')).filter((f) => f.endsWith('.yaml'));
    expect(yamls.length).toBeGreaterThanOrEqual(2);
    for (const f of yamls) expect(stdout, f).toMatch(new RegExp(`examples/${f.replace('.', '\\.')}: valid (monitor|beacon) configuration`));
    // The example is complete: copying it gives evacuation and notifications, not fencing alone.
    const monitor = readFileSync(join(ROOT, 'examples/monitor.yaml'), 'utf8');
    for (const section of ['fencing:', 'compute:', 'recovery:', 'notifications:', 'metrics:'])
      expect(monitor).toMatch(new RegExp(`^${section}`, 'm'));
  });
});
