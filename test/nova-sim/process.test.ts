import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { beforeAll, describe, expect, it } from 'vitest';
import { killedAfterEach } from '../helpers/processes.js';

/** The simulator as a process (what the demo and the end-to-end tests start). */
const ROOT = join(import.meta.dirname, '..', '..');
const track = killedAfterEach();

beforeAll(() => {
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', ROOT], { stdio: 'inherit' });
}, 120_000);

describe('nova-sim process', () => {
  it('prints its URLs, serves, is controlled over /_sim/ and stops on SIGTERM', async () => {
    const child = track(
      spawn(
        process.execPath,
        [join(ROOT, 'dist/src/testbed/nova-sim/main.js'), '--port', '0', '--hosts', 'c1,c2', '--servers', 'c1:4:2', '--rebuild-ms', '50'],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      ),
    );
    const first = await new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once('line', resolve));
    const info = JSON.parse(first) as { url: string; authUrl: string };
    expect(info.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const state = await (await fetch(`${info.url}/_sim/state`)).json();
    expect(state.servers).toHaveLength(4);
    expect(state.servers.filter((s: { tags: string[] }) => s.tags.includes('automatic-recovery'))).toHaveLength(2);
    expect((await fetch(`${info.url}/_sim/kill-compute`, { method: 'POST', body: JSON.stringify({ host: 'c1' }) })).status).toBe(204);
    expect((await (await fetch(`${info.url}/_sim/state`)).json()).services.find((s: { host: string }) => s.host === 'c1').alive).toBe(
      false,
    );
    const doc = await (await fetch(`${info.url}/compute/v2.1/`)).json();
    expect(doc.version.version).toBe('2.96');
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
