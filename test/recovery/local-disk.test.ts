import { describe, expect, it } from 'vitest';
import { ObjectReader, type ConfigProblem } from '../../src/config/reader.js';
import type { FenceRecord } from '../../src/core/events.js';
import { silentLogger } from '../../src/log.js';
import { readRecoveryConfig, RECOVERY_DEFAULTS, type RecoveryConfig } from '../../src/recovery/config.js';
import { NovaRecoverer } from '../../src/recovery/workflow.js';
import { EventLog, fastRecoveryConfig, simClient } from '../helpers/sim-client.js';
import { novaSimPerTest } from '../helpers/sim-per-test.js';
import { tempDirs } from '../helpers/temp-dirs.js';

/** The local-disk policy end to end on the Nova simulator: what is evacuated, what is held and said. */
const FENCE: FenceRecord = { ok: true, durationMs: 1, attempts: [], by: 'ctl1' };
const TAG = ['automatic-recovery'];
const tempDir = tempDirs();
const startSim = novaSimPerTest();

async function recoverWith(
  cfg: Partial<RecoveryConfig>,
  aggregates: Array<{ name: string; hosts: string[]; metadata: Record<string, string> }> = [],
) {
  const sim = await startSim({
    hosts: ['compute-1', 'compute-2'],
    servers: [
      { name: 'bfv', host: 'compute-1', tags: TAG, imageId: null },
      { name: 'local', host: 'compute-1', tags: TAG, imageId: 'img-cirros' },
      { name: 'cattle', host: 'compute-1', tags: TAG, imageId: 'img-cirros', metadata: { 'instance-ha:local-disk': 'rebuild' } },
    ],
    aggregates,
    claimMs: 10,
    rebuildMs: 40,
  });
  sim.model.killCompute('compute-1');
  const events = new EventLog();
  const recoverer = new NovaRecoverer({
    compute: simClient(sim).compute,
    events,
    log: silentLogger(),
    cfg: fastRecoveryConfig(tempDir('iha-ld-'), cfg),
  });
  const summary = await recoverer.recover('compute-1', FENCE, new AbortController().signal);
  const byName = (n: string) => [...sim.model.servers.values()].find((s) => s.name === n)!;
  return { summary, events, byName, sim };
}

describe('local-disk policy on the simulator', () => {
  it('by default: the local-root server is reported with the reason and left alone; the host is not green', async () => {
    const { summary, events, byName, sim } = await recoverWith({});
    const local = byName('local');
    expect(sim.model.evacuateCalls.get(local.id) ?? 0).toBe(0);
    expect(local.host).toBe('compute-1');
    for (const n of ['bfv', 'cattle']) expect(byName(n)).toMatchObject({ status: 'ACTIVE', host: 'compute-2' });
    const failed = events.ofType('instance.not_selected');
    expect(failed.map((e) => e.server.name)).toEqual(['local']);
    expect(failed[0]!.reason).toMatch(/^local root disk on compute-1 .*lose its data/);
    // Counted as not recovered: the coordinator puts the host in recovery_failed and the alarm names it.
    expect(summary).toMatchObject({ selected: 3, evacuated: 2, failed: 1, notified: 1 });
    expect(summary.failedServers).toEqual([{ id: local.id, name: 'local', reason: expect.stringMatching(/^held: local root disk/) }]);
  });

  it('shared storage declared for an aggregate of the host: every server is evacuated, nothing held', async () => {
    const { summary, events, byName } = await recoverWith({ sharedStorage: { hosts: [], aggregates: ['ceph-ephemeral'] } }, [
      { name: 'ceph-ephemeral', hosts: ['compute-1', 'compute-2'], metadata: {} },
    ]);
    expect(summary).toEqual({ selected: 3, evacuated: 3, failed: 0, notified: 0 });
    expect(byName('local')).toMatchObject({ status: 'ACTIVE', host: 'compute-2' });
    expect(events.ofType('instance.not_selected')).toHaveLength(0);
  });

  it('local_disk: rebuild for the host opts its local-root servers in', async () => {
    const localDisk = { ...RECOVERY_DEFAULTS.localDisk, hosts: { 'compute-1': 'rebuild' as const } };
    const { summary } = await recoverWith({ localDisk });
    expect(summary).toEqual({ selected: 3, evacuated: 3, failed: 0, notified: 0 });
  });
});

describe('recovery.local_disk / recovery.shared_storage config', () => {
  const read = (raw: unknown) => {
    const problems: ConfigProblem[] = [];
    const cfg = readRecoveryConfig(new ObjectReader(raw, 'recovery', problems));
    return { cfg, problems: problems.map((p) => `${p.path}: ${p.reason}`) };
  };

  it('reads the short and the long form', () => {
    expect(read({ local_disk: 'rebuild' }).cfg.localDisk.default).toBe('rebuild');
    const { cfg, problems } = read({
      shared_storage: { hosts: ['compute-1'], aggregates: ['ceph'] },
      local_disk: { default: 'notify', hosts: { 'scratch-1': 'rebuild' }, aggregates: { batch: 'rebuild' }, metadata_key: 'ha:disk' },
    });
    expect(problems).toEqual([]);
    expect(cfg.sharedStorage).toEqual({ hosts: ['compute-1'], aggregates: ['ceph'] });
    expect(cfg.localDisk).toEqual({
      default: 'notify',
      hosts: { 'scratch-1': 'rebuild' },
      aggregates: { batch: 'rebuild' },
      metadataKey: 'ha:disk',
    });
  });

  it('names every bad key', () => {
    expect(read({ local_disk: 'yes' }).problems).toEqual(["recovery.local_disk: must be one of notify, rebuild, got 'yes'"]);
    const { problems } = read({
      shared_storage: { hosts: ['bad host!'], aggregate: ['x'] },
      local_disk: { default: 'rebuild', hosts: { c1: 'destroy' }, extra: 1 },
    });
    expect(problems.map((p) => p.split(':')[0])).toEqual(
      expect.arrayContaining([
        'recovery.shared_storage.hosts[0]',
        'recovery.shared_storage.aggregate',
        'recovery.local_disk.hosts.c1',
        'recovery.local_disk.extra',
      ]),
    );
  });

  it('reads zones and the per-zone cap, refusing a host in two zones and an out-of-range cap', () => {
    const ok = read({ zones: { 'rack-a': ['cmp1', 'cmp2'], 'rack-b': ['cmp3'] }, max_recoveries_per_zone: 1 });
    expect(ok.problems).toEqual([]);
    expect(ok.cfg.zones).toEqual({ 'rack-a': ['cmp1', 'cmp2'], 'rack-b': ['cmp3'] });
    expect(ok.cfg.maxRecoveriesPerZone).toBe(1);
    expect(read({}).cfg.maxRecoveriesPerZone).toBe(2);
    const bad = read({ zones: { a: ['cmp1'], b: ['CMP1'] }, max_recoveries_per_zone: 0 }).problems;
    expect(bad).toEqual([
      'recovery.zones.b: host CMP1 is already in zone a: a host belongs to one zone',
      'recovery.max_recoveries_per_zone: must be a whole number between 1 and 1000, got 0',
    ]);
    expect(read({ zones: ['cmp1'] }).problems).toEqual(['recovery.zones: must be a mapping of zone names to lists of hosts']);
  });
});
