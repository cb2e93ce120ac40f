import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FenceRecord } from '../../src/core/events.js';
import { createLogger } from '../../src/log.js';
import type { ComputeClient } from '../../src/openstack/compute.js';
import { COMPUTE_DEFAULTS } from '../../src/openstack/config.js';
import { createComputeClient } from '../../src/openstack/factory.js';
import { RECOVERY_DEFAULTS } from '../../src/recovery/config.js';
import { NovaRecoverer } from '../../src/recovery/workflow.js';
import { EventLog } from '../helpers/sim-client.js';
import { tempDirs } from '../helpers/temp-dirs.js';
import { CLOUD_NAME, CLOUDS_YAML, evacuationsFrom, harnessBaseline, harnessCloudUp, harnessPower } from './harness-cloud.js';

/**
 * The local-disk policy against the real Nova of the harness (Zed, fake driver). Its servers boot
 * from an image, so their root disk is local to their host. compute-1 and compute-2 lose power;
 * compute-1 is recovered under the defaults: its tagged server is NOT evacuated (Nova has no
 * evacuation record of it, it stays on compute-1) and gets instance.failed with the reason.
 * compute-2's instance storage is declared shared (recovery.shared_storage.hosts): its tagged
 * server is evacuated and ACTIVE on compute-3. Run by hand under `flock /tmp/iha-cloud.lock`.
 */
const run = await harnessCloudUp('real cloud (local-disk policy)');
const tempDir = tempDirs();
const FENCE: FenceRecord = { ok: true, durationMs: 0, attempts: [], by: 'local-disk-cloud' };
const log = createLogger({ level: 'warn', destination: process.stderr });
let compute: ComputeClient;

describe.runIf(run)('local-disk policy on the harness cloud (real Nova)', () => {
  beforeAll(() => {
    harnessBaseline();
    compute = createComputeClient({ cloud: CLOUD_NAME, cloudsFile: CLOUDS_YAML, ...COMPUTE_DEFAULTS }, { log });
  });
  afterAll(() => {
    // Back to the baseline for the next suite: power on, forced_down cleared, servers at home.
    harnessPower('on', 'compute-1');
    harnessPower('on', 'compute-2');
    harnessBaseline();
  }, 300_000);

  it('a local-root server is notified, not evacuated; one on declared shared storage is evacuated', async () => {
    const since = new Date(Date.now() - 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const tagged = async (h: string) => (await compute.listServers({ host: h })).filter((s) => s.tags.includes('automatic-recovery'));
    const [local] = await tagged('compute-1');
    const [shared] = await tagged('compute-2');
    expect(local?.imageId, 'harness servers boot from an image').toBeTruthy();
    expect(shared?.imageId).toBeTruthy();
    harnessPower('off', 'compute-1');
    harnessPower('off', 'compute-2');

    const events = new EventLog();
    const cfg = { ...RECOVERY_DEFAULTS, pollIntervalMs: 250, instanceTimeoutMs: 240_000 };
    const byDefault = new NovaRecoverer({ compute, events, log, cfg: { ...cfg, journalDir: tempDir('iha-ld-1-') } });
    const s1 = await byDefault.recover('compute-1', FENCE, new AbortController().signal);
    expect(s1).toMatchObject({ evacuated: 0, failed: 1 });
    const failed = events.ofType('instance.not_selected').filter((e) => e.server.id === local!.id);
    expect(failed).toHaveLength(1);
    expect(failed[0]!.reason).toMatch(/^local root disk on compute-1 .*lose its data/);
    expect(s1.failedServers?.map((f) => f.id)).toEqual([local!.id]);
    expect(await evacuationsFrom('compute-1', since)).toEqual([]);
    expect((await compute.getServer(local!.id))!.host).toBe('compute-1');

    const sharedCfg = { ...cfg, journalDir: tempDir('iha-ld-2-'), sharedStorage: { hosts: ['compute-2'], aggregates: [] } };
    const declared = new NovaRecoverer({ compute, events, log, cfg: sharedCfg });
    const s2 = await declared.recover('compute-2', FENCE, new AbortController().signal);
    expect(s2).toMatchObject({ selected: 1, evacuated: 1, failed: 0 });
    const moved = await compute.getServer(shared!.id);
    expect(moved).toMatchObject({ status: 'ACTIVE', taskState: null, host: 'compute-3' });
    expect((await evacuationsFrom('compute-2', since)).map((m) => m.instance_uuid)).toEqual([shared!.id]);
  }, 600_000);
});
