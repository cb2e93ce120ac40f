/**
 * The whole path on real processes: a failed host carrying 50 servers (25 tagged), 3 monitors with
 * default settings, ipmi_sim as its BMC (the simulated BMC when ipmi_sim is missing), the Nova
 * simulator adding 50 ms to every compute call and 2 s to every rebuild. From the beacon's last
 * heartbeat to all 25 evacuations accepted by the API, and to all 25 ACTIVE elsewhere.
 *   npm run bench:recovery [-- --runs 3]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { controlRequest } from '../src/control/client.js';
import type { ClusterEvent } from '../src/core/events.js';
import type { StatusSnapshot } from '../src/core/status-snapshot.js';
import { clusterBasePort, writeClusterFiles } from '../src/testbed/demo/cluster-files.js';
import { ProcessGroup } from '../src/testbed/demo/processes.js';
import { startDemoBmcs } from '../src/testbed/demo/bmcs.js';
import { SIM_ADMIN, startNovaSim } from '../src/testbed/nova-sim/server.js';
import { arg, percentile } from './stats.js';

const SERVERS = 50;
const TAGGED = 25;
const hosts = ['compute-1', 'compute-2', 'compute-3', 'compute-4'];
const victim = 'compute-1';

async function once(): Promise<{ acceptedMs: number; activeMs: number; bmc: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'iha-bench-recovery-'));
  const procs = new ProcessGroup(dir);
  const bmcs = await startDemoBmcs(hosts, { prefer: 'ipmi_sim' });
  const sim = await startNovaSim({
    hosts,
    servers: Array.from({ length: SERVERS }, (_, i) => ({
      name: `vm-${String(i + 1).padStart(2, '0')}`,
      host: victim,
      tags: i % 2 === 0 ? ['automatic-recovery'] : [],
    })),
    computeLatencyMs: 50,
    rebuildMs: 2_000,
  });
  try {
    const pw = join(dir, 'keystone.password');
    writeFileSync(pw, `${SIM_ADMIN.password}\n`, { mode: 0o600 });
    const devices: Record<string, unknown> = {};
    for (const [name, d] of bmcs.config.devices) {
      const f = join(dir, `${name}.password`);
      writeFileSync(f, `${d.password}\n`, { mode: 0o600 });
      devices[name] = { agent: d.agent, options: d.options, password_file: f };
    }
    const layout = writeClusterFiles(dir, {
      monitors: 3,
      hosts,
      basePort: await clusterBasePort(3),
      logLevel: 'warn',
      monitorExtra: (id) => ({
        fencing: { devices, hosts: Object.fromEntries(hosts.map((h) => [h, { levels: [[`bmc-${h}`]] }])) },
        compute: {
          auth: {
            auth_url: sim.authUrl,
            username: SIM_ADMIN.name,
            password_file: pw,
            project_name: 'admin',
            user_domain_name: 'Default',
            project_domain_name: 'Default',
          },
        },
        recovery: { journal_dir: join(dir, `${id}-state`, 'recovery') },
      }),
    });
    for (const m of layout.monitors) procs.start(m.id, ['monitor', '--config', m.config]);
    for (const h of layout.hosts) procs.start(h.name, ['beacon', '--config', h.config]);
    // Warm up as a long-running cluster would be: enough heartbeats for the loss estimate to settle a little.
    await waitUntil(async () => {
      const s = await status(layout.monitors[0]!.socket);
      return !!s && s.cluster.coordinator !== null && s.hosts.every((h) => h.lastHeartbeatAgeMs !== null);
    }, 20_000);
    await new Promise((r) => setTimeout(r, 5000));
    procs.signal(victim, 'SIGKILL');
    sim.model.killCompute(victim);
    const tagged = new Set(
      [...sim.model.servers.values()].filter((s) => s.host === victim && s.tags.includes('automatic-recovery')).map((s) => s.id),
    );
    let acceptedAt = 0;
    let activeAt = 0;
    const end = Date.now() + 60_000;
    while ((!acceptedAt || !activeAt) && Date.now() < end) {
      const migrated = new Set(sim.model.migrations.filter((m) => m.sourceCompute === victim).map((m) => m.instanceUuid));
      if (!acceptedAt && [...tagged].every((id) => migrated.has(id))) acceptedAt = Date.now();
      if (
        !activeAt &&
        [...tagged].every((id) => {
          const s = sim.model.servers.get(id)!;
          return s.status === 'ACTIVE' && s.host !== victim;
        })
      )
        activeAt = Date.now();
      await new Promise((r) => setTimeout(r, 10));
    }
    if (!acceptedAt || !activeAt) throw new Error(`not all ${TAGGED} servers recovered within 60 s; logs in ${dir}`);
    // The last heartbeat as the monitors received it (loopback: sent a fraction of a millisecond earlier).
    const events = (await Promise.all(layout.monitors.map((m) => status(m.socket)))).flatMap((s) => s?.recentEvents ?? []);
    const failed = events.find((e): e is Extract<ClusterEvent, { type: 'host.failed' }> => e.type === 'host.failed' && e.host === victim);
    if (!failed?.lastHeardAt) throw new Error('no host.failed event with a last heartbeat time');
    return { acceptedMs: acceptedAt - failed.lastHeardAt, activeMs: activeAt - failed.lastHeardAt, bmc: bmcs.kind };
  } finally {
    procs.killAll();
    await bmcs.stop();
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function status(socket: string): Promise<StatusSnapshot | null> {
  try {
    return (await controlRequest(socket, 'GET', '/status', undefined, 2000)).body as unknown as StatusSnapshot;
  } catch {
    return null;
  }
}

async function waitUntil(pred: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await pred()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('cluster did not come up');
}

const runs = arg('runs', 3);
const accepted: number[] = [];
const active: number[] = [];
for (let i = 0; i < runs; i++) {
  const r = await once();
  accepted.push(r.acceptedMs);
  active.push(r.activeMs);
  console.log(
    `run ${i + 1}/${runs} (${r.bmc}): accepted ${Math.round(r.acceptedMs)} ms, active ${Math.round(r.activeMs)} ms after the last heartbeat`,
  );
}
console.log(
  `recovery instances=${TAGGED} accepted_ms=${Math.round(percentile(accepted, 50))} active_ms=${Math.round(percentile(active, 50))}`,
);
