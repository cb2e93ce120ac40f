import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { StatusSnapshot } from '../../src/core/status-snapshot.js';
import { writeClusterFiles, type ClusterLayout } from '../../src/testbed/demo/cluster-files.js';
import { startDemoBmcs, type DemoBmcs } from '../../src/testbed/demo/bmcs.js';
import { SIM_ADMIN, startNovaSim, type NovaSim } from '../../src/testbed/nova-sim/server.js';
import { clusterBasePort } from './ports.js';
import { Processes, waitForStatus } from './processes.js';

export interface RecoveryCluster {
  p: Processes;
  sim: NovaSim;
  bmcs: DemoBmcs;
  layout: ClusterLayout;
  /** The monitor acting as coordinator once the cluster is up (whoever acted first keeps it). */
  coordinator: string;
  stop(): Promise<void>;
}

/**
 * Three monitor processes with fencing (simulated BMCs), recovery against the Nova simulator, and a
 * beacon per host; `servers` on `victim`, the odd-numbered ones tagged automatic-recovery.
 */
export async function startRecoveryCluster(o: {
  hosts: string[];
  victim: string;
  servers: number;
  recovery?: Record<string, unknown>;
  /** How long the simulator's rebuild on the destination takes (1.5 s by default). */
  rebuildMs?: number;
  /** Publish notifications to this broker and exchange (each monitor's outbox in its state dir). */
  notifications?: { url: string; exchange: string };
  /** Told of every power change a simulated BMC makes (to count fences at the BMC). */
  onPower?: (host: string, state: 'on' | 'off') => void;
}): Promise<RecoveryCluster> {
  const p = new Processes();
  let bmcs: DemoBmcs | undefined;
  let sim: NovaSim | undefined;
  const stop = async (): Promise<void> => {
    await p.cleanup();
    await sim?.stop();
    await bmcs?.stop();
  };
  try {
    bmcs = await startDemoBmcs(o.hosts, { prefer: 'sim-bmc', ...(o.onPower ? { onPower: o.onPower } : {}) });
    sim = await startNovaSim({
      hosts: o.hosts,
      servers: Array.from({ length: o.servers }, (_, i) => ({
        name: `vm-${i + 1}`,
        host: o.victim,
        tags: i % 2 === 0 ? ['automatic-recovery'] : [],
      })),
      claimMs: 100,
      rebuildMs: o.rebuildMs ?? 1500,
    });
    const pw = join(p.dir, 'keystone.password');
    writeFileSync(pw, `${SIM_ADMIN.password}\n`, { mode: 0o600 });
    const devices: Record<string, unknown> = {};
    for (const [name, d] of bmcs.config.devices) devices[name] = { agent: d.agent, options: d.options, password: d.password };
    const authUrl = sim.authUrl;
    const layout = writeClusterFiles(p.dir, {
      monitors: 3,
      hosts: o.hosts,
      basePort: await clusterBasePort(3),
      monitorExtra: (id) => ({
        fencing: { retries: 0, devices, hosts: Object.fromEntries(o.hosts.map((h) => [h, { levels: [[`bmc-${h}`]] }])) },
        compute: {
          auth: {
            auth_url: authUrl,
            username: 'admin',
            password_file: pw,
            project_name: 'admin',
            user_domain_name: 'Default',
            project_domain_name: 'Default',
          },
        },
        recovery: { journal_dir: join(p.dir, `${id}-state`, 'recovery'), poll_interval: '200ms', ...o.recovery },
        mass_failure: { max_failed_fraction: 1 },
        ...(o.notifications
          ? { notifications: { enabled: true, ...o.notifications, outbox: { dir: join(p.dir, `${id}-state`, 'outbox') } } }
          : {}),
      }),
    });
    for (const m of layout.monitors) p.start(m.id, ['monitor', '--config', m.config]);
    for (const h of layout.hosts) p.start(h.name, ['beacon', '--config', h.config]);
    const allHeard = (s: StatusSnapshot): boolean =>
      s.cluster.coordinator !== null && s.cluster.votes === 3 && s.hosts.every((h) => h.lastHeartbeatAgeMs !== null);
    const up = await waitForStatus(layout.monitors[0]!.socket, allHeard, 15_000);
    expect(up.ok, JSON.stringify(up.snap?.cluster)).toBe(true);
    return { p, sim, bmcs, layout, coordinator: up.snap!.cluster.coordinator!, stop };
  } catch (err) {
    // The caller never gets a handle to stop: whatever did start is stopped here.
    await stop();
    throw err;
  }
}
