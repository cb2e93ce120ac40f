import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeClusterFiles } from '../../src/demo/cluster-files.js';
import { startDemoBmcs, type DemoBmcs } from '../../src/fence/index.js';
import { SIM_ADMIN, startNovaSim, type NovaSim } from '../../src/nova-sim/server.js';
import { Processes, hostState, randomBasePort, status, waitForStatus } from '../helpers/processes.js';

/**
 * The coordinator SIGKILLed after each step of its recovery journal in turn: the next coordinator
 * (another monitor, with no copy of that journal) must finish the recovery from Nova's own state,
 * with every selected server evacuated exactly once and no other server touched.
 */
const hosts = ['compute-1', 'compute-2', 'compute-3'];
const victim = 'compute-1';
let p: Processes | undefined;
let sim: NovaSim | undefined;
let bmcs: DemoBmcs | undefined;

afterEach(async () => {
  p?.cleanup();
  await sim?.stop();
  await bmcs?.stop();
});

async function crashAfterStep(step: number): Promise<void> {
  p = new Processes();
  bmcs = await startDemoBmcs(hosts, { prefer: 'sim-bmc' });
  sim = await startNovaSim({
    hosts,
    servers: Array.from({ length: 8 }, (_, i) => ({ name: `vm-${i + 1}`, host: victim, tags: i % 2 === 0 ? ['automatic-recovery'] : [] })),
    claimMs: 100,
    rebuildMs: 1500,
  });
  const pw = join(p.dir, 'keystone.password');
  writeFileSync(pw, `${SIM_ADMIN.password}\n`, { mode: 0o600 });
  const devices: Record<string, unknown> = {};
  for (const [name, d] of bmcs.config.devices) devices[name] = { agent: d.agent, options: d.options, password: d.password };
  const layout = writeClusterFiles(p.dir, {
    monitors: 3,
    hosts,
    basePort: randomBasePort(),
    monitorExtra: (id) => ({
      fencing: { retries: 0, devices, hosts: Object.fromEntries(hosts.map((h) => [h, { levels: [[`bmc-${h}`]] }])) },
      compute: { auth: { auth_url: sim!.authUrl, username: 'admin', password_file: pw, project_name: 'admin', user_domain_name: 'Default', project_domain_name: 'Default' } },
      recovery: { journal_dir: join(p!.dir, `${id}-state`, 'recovery'), poll_interval: '200ms' },
      mass_failure: { max_failed_fraction: 1 },
    }),
  });
  for (const m of layout.monitors) p.start(m.id, ['monitor', '--config', m.config]);
  for (const h of layout.hosts) p.start(h.name, ['beacon', '--config', h.config]);
  const up = await waitForStatus(layout.monitors[0]!.socket, (s) => s.cluster.coordinator === 'mon1' && s.hosts.every((h) => h.lastHeartbeatAgeMs !== null), 15_000);
  expect(up.ok).toBe(true);

  p.kill(victim);
  sim.model.killCompute(victim);
  const journal = join(p.dir, 'mon1-state', 'recovery', `${victim}.jsonl`);
  const deadline = Date.now() + 30_000;
  let lines = 0;
  while (Date.now() < deadline) {
    lines = existsSync(journal) ? readFileSync(journal, 'utf8').split('\n').filter(Boolean).length : 0;
    if (lines >= step) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  expect(lines, 'the coordinator never got that far').toBeGreaterThanOrEqual(step);
  p.kill('mon1');

  const done = await waitForStatus(layout.monitors[1]!.socket, (s) => hostState(s, victim) === 'recovered', 40_000);
  expect(done.ok, JSON.stringify(done.snap?.hosts.find((h) => h.host === victim))).toBe(true);
  const servers = [...sim.model.servers.values()];
  for (const s of servers.filter((x) => x.tags.includes('automatic-recovery'))) {
    expect(sim.model.evacuateAccepted.get(s.id) ?? 0, `${s.name} accepted evacuations`).toBe(1);
    expect(s.host).not.toBe(victim);
    expect(s.status).toBe('ACTIVE');
  }
  for (const s of servers.filter((x) => !x.tags.includes('automatic-recovery'))) {
    expect(sim.model.evacuateCalls.get(s.id) ?? 0, `${s.name} must not be evacuated`).toBe(0);
    expect(s.host).toBe(victim);
  }
  const s2 = await status(layout.monitors[1]!.socket);
  expect(s2!.cluster.coordinator).not.toBe('mon1');
}

describe('coordinator SIGKILLed mid-recovery', () => {
  // Journal: begin, forced_down, disabled, selected, notified, intent…, accepted…, done…, finished.
  for (const step of [1, 3, 5, 7, 10, 13]) {
    it(`after journal step ${step}: the successor finishes, each selected server evacuated exactly once`, () => crashAfterStep(step));
  }
});
