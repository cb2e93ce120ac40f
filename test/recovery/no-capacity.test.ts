import { afterEach, describe, expect, it } from 'vitest';
import type { FenceRecord } from '../../src/core/events.js';
import { hopelessFault } from '../../src/core/evacuation-step.js';
import { silentLogger } from '../../src/log.js';
import type { RecoveryConfig } from '../../src/recovery/config.js';
import { NovaRecoverer } from '../../src/recovery/workflow.js';
import { startNovaSim, type NovaSim } from '../../src/testbed/nova-sim/server.js';
import { EventLog, fastRecoveryConfig, simClient } from '../helpers/sim-client.js';
import { tempDirs } from '../helpers/temp-dirs.js';

/**
 * "No capacity" is an outcome, not a retry loop: when Nova's scheduler finds no valid host (all
 * computes disabled or full, or the reserved target host disabled), the server fails at once with
 * Nova's reason, after ONE evacuate, even with attempts to spare; the host ends in recovery_failed.
 */
const FENCE: FenceRecord = { ok: true, durationMs: 1, attempts: [], by: 'ctl1' };
const tempDir = tempDirs();
let sim: NovaSim | null = null;
afterEach(async () => {
  await sim?.stop();
  sim = null;
});

async function run(cfg: Partial<RecoveryConfig>, disable: string[]) {
  sim = await startNovaSim({
    hosts: ['compute-1', 'compute-2', 'compute-3'],
    servers: [{ name: 'vm-1', host: 'compute-1', tags: ['automatic-recovery'] }],
    claimMs: 10,
    rebuildMs: 30,
  });
  sim.model.killCompute('compute-1');
  for (const h of disable) sim.model.services.get(h)!.status = 'disabled';
  const events = new EventLog();
  const r = new NovaRecoverer({
    compute: simClient(sim).compute,
    events,
    log: silentLogger(),
    cfg: fastRecoveryConfig(tempDir('iha-nc-'), { maxAttempts: 3, ...cfg }),
  });
  const summary = await r.recover('compute-1', FENCE, new AbortController().signal);
  const id = [...sim.model.servers.values()][0]!.id;
  return { summary, events, calls: sim.model.evacuateCalls.get(id) ?? 0 };
}

describe('no capacity (NoValidHost) on the simulator', () => {
  it('every other compute disabled: one evacuate, failed with Nova’s reason, not retried', async () => {
    const { summary, events, calls } = await run({}, ['compute-2', 'compute-3']);
    expect(calls).toBe(1);
    expect(summary).toMatchObject({ selected: 1, evacuated: 0, failed: 1 });
    expect(summary.failedServers![0]!.reason).toMatch(/^no capacity: Nova says "No valid host was found\..*not retried$/);
    const errs = events.ofType('instance.evacuate_error');
    expect(errs.map((e) => e.final)).toEqual([true]);
  });

  it('the reserved target host disabled: the scheduler refuses it, the same clear outcome', async () => {
    const { summary, calls } = await run({ targetHosts: ['compute-2'] }, ['compute-2']);
    expect(calls).toBe(1);
    expect(summary.failedServers![0]!.reason).toMatch(/^no capacity/);
  });

  it('a rebuild failure that is not about capacity is still retried up to max_attempts', async () => {
    sim = null;
    const s = await startNovaSim({
      hosts: ['compute-1', 'compute-2'],
      servers: [{ name: 'vm-1', host: 'compute-1', tags: ['automatic-recovery'] }],
      claimMs: 5,
      rebuildMs: 10,
    });
    sim = s;
    s.model.killCompute('compute-1');
    const id = [...s.model.servers.values()][0]!.id;
    s.model.failRebuilds.set(id, 1);
    const r = new NovaRecoverer({
      compute: simClient(s).compute,
      events: new EventLog(),
      log: silentLogger(),
      cfg: fastRecoveryConfig(tempDir('iha-nc-'), { maxAttempts: 3 }),
    });
    expect(await r.recover('compute-1', FENCE, new AbortController().signal)).toMatchObject({ evacuated: 1, failed: 0 });
    expect(s.model.evacuateCalls.get(id)).toBe(2);
  });

  it('hopelessFault reads Nova’s messages', () => {
    expect(hopelessFault('No valid host was found. There are not enough hosts available.')).toMatch(/^no capacity/);
    expect(hopelessFault('Anti-affinity instance group policy was violated.')).toMatch(/^server group policy/);
    expect(hopelessFault('Build of instance aborted: disk full')).toBeNull();
    expect(hopelessFault(null)).toBeNull();
  });
});
