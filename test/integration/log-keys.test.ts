import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { duplicateKeys } from '../helpers/logs.js';
import { hostState, waitForStatus } from '../helpers/processes.js';
import { startRecoveryCluster, type RecoveryCluster } from '../helpers/recovery-cluster.js';

/**
 * Every JSON log line of real monitor and beacon processes through a whole incident (detection,
 * fencing, recovery against the Nova simulator) names each key once: a log shipper that keeps the
 * last of two `component` keys loses which part of the daemon spoke (it did: recovery/openstack,
 * beacon/health). A component under a component is dotted instead (`recovery.openstack`).
 */
let c: RecoveryCluster | undefined;
afterEach(async () => {
  await c?.stop();
  c = undefined;
});

describe('daemon log lines', () => {
  it('carry no duplicate key, from monitors and beacons through an incident', async () => {
    c = await startRecoveryCluster({ hosts: ['compute-1', 'compute-2', 'compute-3'], victim: 'compute-1', servers: 2 });
    const { p, sim, layout } = c;
    p.kill('compute-1');
    sim.model.killCompute('compute-1');
    const done = await waitForStatus(layout.monitors[0]!.socket, (s) => hostState(s, 'compute-1') === 'evacuated', 30_000);
    expect(done.ok).toBe(true);
    await new Promise((r) => setTimeout(r, 300)); // the last lines reach the files

    const lines = readdirSync(p.dir)
      .filter((f) => f.endsWith('.log'))
      .flatMap((f) =>
        readFileSync(join(p.dir, f), 'utf8')
          .split('\n')
          .filter((l) => l.startsWith('{') && l.endsWith('}'))
          .map((l) => ({ f, l })),
      );
    const components = new Set(lines.map(({ l }) => (JSON.parse(l) as { component?: string }).component));
    // The incident was logged by the parts that used to repeat the key, monitors and beacons both.
    expect(lines.some(({ f }) => f.startsWith('compute-'))).toBe(true);
    expect([...components]).toEqual(expect.arrayContaining(['monitor', 'fence', 'recovery', 'recovery.openstack']));
    const bad = lines.flatMap(({ f, l }) => duplicateKeys(l).map((k) => `${f}: ${k} in ${l.slice(0, 200)}`));
    expect(bad).toEqual([]);
  });
});
