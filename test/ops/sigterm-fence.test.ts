import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readHistory } from '../../src/status-api/history-file.js';
import { ensureBuilt } from '../helpers/build.js';
import { startOpsCluster, type OpsCluster } from '../helpers/ops-cluster.js';
import { hostState, waitForStatus } from '../helpers/processes.js';

/**
 * SIGTERM while a fence is in flight: the monitor lets the fence agent finish (within its grace),
 * records the outcome, and only then exits 0 — the power-off is neither cut short nor lost.
 */
let c: OpsCluster;

describe('SIGTERM during an in-flight fence', () => {
  beforeAll(async () => {
    ensureBuilt();
    c = await startOpsCluster({ monitors: 1, hosts: ['cmp1', 'cmp2'], fenceDelaySeconds: 2 });
  }, 60_000);
  afterAll(() => c?.p.cleanup());

  it('waits for the fence to finish, journals host.fenced, then exits 0', async () => {
    const m = c.layout.monitors[0]!;
    c.p.kill('cmp1');
    const fencing = await waitForStatus(m.socket, (s) => hostState(s, 'cmp1') === 'fencing', 15_000);
    expect(fencing.ok).toBe(true);
    const child = c.p.children.get('mon1')!;
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const t0 = Date.now();
    c.p.kill('mon1', 'SIGTERM');
    expect(await exited).toBe(0);
    // fence_fake waits 2 s before powering off: the monitor stayed for it, but not for the full grace.
    const waited = Date.now() - t0;
    expect(waited).toBeGreaterThan(500);
    expect(waited).toBeLessThan(9_000);
    expect(readFileSync(c.powerFile('cmp1'), 'utf8').trim()).toBe('off');
    const types = readHistory(m.stateDir, { host: 'cmp1' }).map((e) => e.event.type);
    expect(types.slice(-2)).toEqual(['host.fencing', 'host.fenced']);
    // And the decision is on disk for whoever coordinates next.
    expect(readFileSync(join(m.stateDir, 'monitor-state.json'), 'utf8')).toContain('fenced');
  });
});
