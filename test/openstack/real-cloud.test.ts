import { execSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { COMPUTE_DEFAULTS } from '../../src/openstack/config.js';
import { createComputeClient } from '../../src/openstack/factory.js';
import { RECOVERY_DEFAULTS } from '../../src/recovery/config.js';
import { unfenceHost } from '../../src/recovery/unfence.js';
import { NovaRecoverer } from '../../src/recovery/workflow.js';
import { EventLog } from '../helpers/sim-client.js';
import { tempDirs } from '../helpers/temp-dirs.js';

/**
 * End-to-end against a real cloud: `OS_CLOUD=name npm run test:openstack` (the script sets
 * IHA_REAL_CLOUD=1 so a stray OS_CLOUD never runs this from the ordinary suite).
 *   IHA_E2E_HOST        compute host to recover (its tagged servers get evacuated!)
 *   IHA_E2E_KILL_CMD    command that cuts the host's power (e.g. shared/openstack/kill-host.sh compute-1);
 *                       absent: the host is assumed already dead
 *   IHA_E2E_REVIVE_CMD  command that brings it back (then `unfence` is exercised too)
 */
const tempDir = tempDirs();
const env = process.env;
const enabled = env.IHA_REAL_CLOUD === '1' && !!env.OS_CLOUD;
if (!enabled) {
  console.log('test:openstack skipped: set OS_CLOUD (clouds.yaml cloud name) and run it through `npm run test:openstack`');
}
const host = env.IHA_E2E_HOST;
const log = createLogger({ level: (env.INSTANCE_HA_LOG_LEVEL as 'info') ?? 'info', destination: process.stderr });

describe.skipIf(!enabled)('real cloud (OS_CLOUD)', () => {
  const compute = enabled ? createComputeClient({ cloud: env.OS_CLOUD, ...COMPUTE_DEFAULTS }, { log }) : null!;

  it('authenticates, negotiates microversions and reads the compute services', async () => {
    const v = await compute.versions();
    expect(Number(v.max.split('.')[1])).toBeGreaterThanOrEqual(26);
    if (host) expect(await compute.findService(host)).not.toBeNull();
  });

  it.skipIf(!host)(
    'recovers a failed host: force-down, disable, tagged servers ACTIVE elsewhere, others reported',
    async () => {
      const before = await compute.listServers({ host: host! });
      const tagged = before.filter((s) => s.tags.includes('automatic-recovery') && s.status === 'ACTIVE');
      const untagged = before.filter((s) => !s.tags.includes('automatic-recovery'));
      if (env.IHA_E2E_KILL_CMD) execSync(env.IHA_E2E_KILL_CMD, { stdio: 'inherit' });
      const events = new EventLog();
      const started = Date.now();
      const recoverer = new NovaRecoverer({
        compute,
        events,
        log,
        // localDisk rebuild: the check is that every tagged server comes back, whatever its root disk.
        cfg: {
          ...RECOVERY_DEFAULTS,
          journalDir: tempDir('iha-e2e-'),
          pollIntervalMs: 500,
          instanceTimeoutMs: 300_000,
          localDisk: { ...RECOVERY_DEFAULTS.localDisk, default: 'rebuild' },
        },
      });
      const summary = await recoverer.recover(
        host!,
        { ok: true, durationMs: 0, attempts: [], by: 'test:openstack' },
        new AbortController().signal,
      );
      console.log(`recovered ${host} in ${Date.now() - started} ms: ${JSON.stringify(summary)}`);
      expect(summary).toMatchObject({ selected: tagged.length, evacuated: tagged.length, failed: 0 });
      const svc = await compute.findService(host!);
      expect(svc).toMatchObject({ forcedDown: true, status: 'disabled', state: 'down' });
      expect(svc!.disabledReason).toMatch(/^instance-ha: fenced/);
      for (const s of tagged) {
        const now = await compute.getServer(s.id);
        expect(now).toMatchObject({ status: 'ACTIVE', taskState: null });
        expect(now!.host).not.toBe(host);
      }
      const reported = events
        .ofType('instance.not_selected')
        .map((e) => e.server.id)
        .sort();
      expect(reported).toEqual(untagged.map((s) => s.id).sort());
      for (const s of untagged) expect((await compute.getServer(s.id))!.host).toBe(host);
    },
    600_000,
  );

  it.skipIf(!host || !env.IHA_E2E_REVIVE_CMD)(
    'returns the host: unfence retries until Nova clears forced_down, then enables',
    async () => {
      execSync(env.IHA_E2E_REVIVE_CMD!, { stdio: 'inherit' });
      const res = await unfenceHost(
        host!,
        {},
        { compute, log, cfg: { ...RECOVERY_DEFAULTS.unfence, retryIntervalMs: 1_000, timeoutMs: 180_000 } },
        new AbortController().signal,
      );
      console.log(`unfence ${host}: ${JSON.stringify(res)}`);
      expect(res.ok).toBe(true);
      expect(await compute.findService(host!)).toMatchObject({ forcedDown: false, status: 'enabled' });
    },
    240_000,
  );
});
