import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hostState, status, waitForStatus } from '../helpers/processes.js';
import { startRecoveryCluster, type RecoveryCluster } from '../helpers/recovery-cluster.js';

/**
 * The coordinator SIGKILLed after each step of its recovery journal in turn: the next coordinator
 * (another monitor, with no copy of that journal) must finish the recovery from Nova's own state,
 * with every selected server evacuated exactly once and no other server touched.
 */
const victim = 'compute-1';
let c: RecoveryCluster | undefined;

afterEach(async () => {
  await c?.stop();
  c = undefined;
});

async function crashAfterStep(step: number): Promise<void> {
  c = await startRecoveryCluster({ hosts: ['compute-1', 'compute-2', 'compute-3'], victim, servers: 8 });
  const { p, sim, layout, coordinator } = c;
  const successor = layout.monitors.find((m) => m.id !== coordinator)!;
  p.kill(victim);
  sim.model.killCompute(victim);
  const journal = join(p.dir, `${coordinator}-state`, 'recovery', `${victim}.jsonl`);
  const deadline = Date.now() + 30_000;
  let lines = 0;
  while (Date.now() < deadline) {
    lines = existsSync(journal) ? readFileSync(journal, 'utf8').split('\n').filter(Boolean).length : 0;
    if (lines >= step) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  expect(lines, 'the coordinator never got that far').toBeGreaterThanOrEqual(step);
  p.kill(coordinator);

  const done = await waitForStatus(successor.socket, (s) => hostState(s, victim) === 'evacuated', 40_000);
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
  const s2 = await status(successor.socket);
  expect(s2!.cluster.coordinator).not.toBe(coordinator);
}

describe('coordinator SIGKILLed mid-recovery', () => {
  // Journal: begin, forced_down, disabled, selected, notified, intent…, accepted…, done…, finished.
  for (const step of [1, 3, 5, 7, 10, 13]) {
    it(`after journal step ${step}: the successor finishes, each selected server evacuated exactly once`, () => crashAfterStep(step));
  }
});
