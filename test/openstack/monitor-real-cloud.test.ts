import { execSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { COMPUTE_DEFAULTS } from '../../src/openstack/config.js';
import { createComputeClient } from '../../src/openstack/factory.js';
import { writeClusterFiles } from '../../src/testbed/demo/cluster-files.js';
import { clusterBasePort } from '../helpers/ports.js';
import { CLI, Processes, hostState, waitForStatus } from '../helpers/processes.js';
import { agentPath } from '../helpers/build.js';

/**
 * The whole daemon against a real cloud: `OS_CLOUD=name npm run test:openstack` with
 *   IHA_E2E_HOSTS       every compute host (beacons are run for them here), e.g. compute-1,compute-2,compute-3
 *   IHA_E2E_HOST        the host to lose (its tagged servers get evacuated!)
 *   IHA_E2E_KILL_CMD    cuts its power (e.g. shared/openstack/kill-host.sh compute-1)
 *   IHA_E2E_REVIVE_CMD  brings it back (then `instance-ha unfence` is exercised too)
 * Three monitor processes with fence_fake devices (the power cut is IHA_E2E_KILL_CMD's), recovery
 * through the cloud's compute API: beacon and compute killed → failed by quorum → fenced → forced
 * down → tagged servers ACTIVE elsewhere, untagged left in place → revived → unfenced.
 */
const env = process.env;
const hosts = (env.IHA_E2E_HOSTS ?? '').split(',').filter(Boolean);
const victim = env.IHA_E2E_HOST ?? '';
const enabled = env.IHA_REAL_CLOUD === '1' && !!env.OS_CLOUD && hosts.includes(victim) && !!env.IHA_E2E_KILL_CMD;
if (!enabled)
  console.log(
    'test:openstack (monitors) skipped: needs OS_CLOUD, IHA_E2E_HOSTS, IHA_E2E_HOST and IHA_E2E_KILL_CMD, through `npm run test:openstack`',
  );

describe.skipIf(!enabled)('the monitors against a real cloud (OS_CLOUD)', () => {
  it('a lost host is fenced and its tagged servers come back elsewhere; unfence returns it', async () => {
    const log = createLogger({ level: 'warn', destination: process.stderr });
    const compute = createComputeClient({ cloud: env.OS_CLOUD, ...COMPUTE_DEFAULTS }, { log });
    const before = await compute.listServers({ host: victim });
    const tagged = before.filter((s) => s.tags.includes('automatic-recovery') && s.status === 'ACTIVE');
    const untagged = before.filter((s) => !s.tags.includes('automatic-recovery'));
    const p = new Processes('iha-real-cloud-');
    try {
      const devices = Object.fromEntries(
        hosts.map((h) => [`fake-${h}`, { agent: agentPath('fence_fake'), options: { state_file: `${p.dir}/${h}.power` } }]),
      );
      const layout = writeClusterFiles(p.dir, {
        monitors: 3,
        hosts,
        basePort: await clusterBasePort(3),
        monitorExtra: (id) => ({
          fencing: { devices, hosts: Object.fromEntries(hosts.map((h) => [h, { levels: [[`fake-${h}`]] }])) },
          compute: { cloud: env.OS_CLOUD },
          // local_disk: rebuild: the check is that every tagged server comes back, whatever its root disk.
          recovery: {
            journal_dir: `${p.dir}/${id}-state/recovery`,
            local_disk: 'rebuild',
            unfence: { retry_interval: '2s', timeout: '5m' },
          },
          mass_failure: { max_failed_fraction: 1 },
        }),
      });
      for (const m of layout.monitors) p.start(m.id, ['monitor', '--config', m.config]);
      for (const h of layout.hosts) p.start(h.name, ['beacon', '--config', h.config]);
      const up = await waitForStatus(
        layout.monitors[0]!.socket,
        (s) => s.cluster.coordinator !== null && s.hosts.every((h) => h.lastHeartbeatAgeMs !== null),
        20_000,
      );
      expect(up.ok).toBe(true);

      const started = Date.now();
      p.kill(victim);
      execSync(env.IHA_E2E_KILL_CMD!, { stdio: 'inherit' });
      const done = await waitForStatus(layout.monitors[0]!.socket, (s) => hostState(s, victim) === 'evacuated', 300_000);
      expect(done.ok, JSON.stringify(done.snap?.hosts.find((h) => h.host === victim))).toBe(true);
      console.log(`${victim}: lost → recovered by the monitors in ${Date.now() - started} ms`);
      expect(await compute.findService(victim)).toMatchObject({ forcedDown: true, status: 'disabled' });
      for (const s of tagged) expect(await compute.getServer(s.id)).toMatchObject({ status: 'ACTIVE' });
      for (const s of tagged) expect((await compute.getServer(s.id))!.host).not.toBe(victim);
      for (const s of untagged) expect((await compute.getServer(s.id))!.host).toBe(victim);

      if (env.IHA_E2E_REVIVE_CMD) {
        execSync(env.IHA_E2E_REVIVE_CMD, { stdio: 'inherit' });
        const beacon = layout.hosts.find((h) => h.name === victim)!;
        p.start(`${victim}-again`, ['beacon', '--config', beacon.config]);
        const run = spawnSync(process.execPath, [CLI, 'unfence', victim, '--config', layout.monitors[0]!.config], {
          encoding: 'utf8',
          env: process.env,
        });
        expect(run.status, `unfence: ${run.stdout}\n${run.stderr}`).toBe(0);
        expect(run.stdout).toMatch(/forced_down cleared/);
        expect(await compute.findService(victim)).toMatchObject({ forcedDown: false, status: 'enabled' });
        const back = await waitForStatus(layout.monitors[0]!.socket, (s) => hostState(s, victim) === 'up', 10_000);
        expect(back.ok).toBe(true);
      }
    } finally {
      await p.cleanup();
    }
  }, 600_000);
});
