import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNovaSim, type NovaSim } from '../../src/testbed/nova-sim/server.js';
import { readRecords } from '../../src/recovery/journal.js';
import { killedAfterEach } from '../helpers/processes.js';
import { tempDirs } from '../helpers/temp-dirs.js';

/**
 * Crash at every step: a real child process runs the recovery and SIGKILLs itself right after its
 * N-th durable journal append; a fresh process then finishes. Against the Zed-mode simulator
 * (which accepts a second evacuate during a rebuild), so exactly-once is our guarantee, not Nova's.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const RUN_HOST = join(ROOT, 'dist', 'src', 'testbed', 'run-host.js');
const TAGGED = ['vm-1', 'vm-2', 'vm-3'];
const track = killedAfterEach();
const tempDir = tempDirs();

beforeAll(() => {
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', ROOT], { stdio: 'inherit' });
}, 120_000);

let sims: NovaSim[] = [];
afterAll(async () => {
  await Promise.all(sims.map((s) => s.stop()));
});

async function scenario(): Promise<{ sim: NovaSim; config: string; journalDir: string }> {
  const sim = await startNovaSim({
    hosts: ['compute-1', 'compute-2', 'compute-3'],
    mode: 'zed',
    claimMs: 20,
    rebuildMs: 150,
    servers: [...TAGGED.map((name) => ({ name, host: 'compute-1', tags: ['automatic-recovery'] })), { name: 'vm-4', host: 'compute-1' }],
  });
  sims.push(sim);
  sim.model.killCompute('compute-1');
  const dir = tempDir('iha-crash-');
  const clouds = join(dir, 'clouds.yaml');
  writeFileSync(
    clouds,
    `clouds:\n  sim:\n    auth:\n      auth_url: ${sim.authUrl}\n      username: admin\n      password: admin\n      project_name: admin\n      user_domain_name: Default\n      project_domain_name: Default\n    region_name: RegionOne\n`,
    { mode: 0o600 },
  );
  const journalDir = join(dir, 'journal');
  const config = join(dir, 'monitor.yaml');
  writeFileSync(
    config,
    [
      'id: m1',
      'monitors: [{ id: m1, address: 127.0.0.1:7400 }]',
      `monitor_key: ${'k'.repeat(32)}`,
      `beacon_master_key: ${'b'.repeat(32)}`,
      'fencing: {}',
      'compute:',
      '  cloud: sim',
      `  clouds_file: ${clouds}`,
      '  min_backoff: 10ms',
      '  max_backoff: 50ms',
      'recovery:',
      `  journal_dir: ${journalDir}`,
      '  poll_interval: 30ms',
      '  retry_backoff: 20ms',
      '  instance_timeout: 20s',
      '',
    ].join('\n'),
  );
  return { sim, config, journalDir };
}

function runHost(config: string, crashAfter: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }> {
  return new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = { ...process.env, INSTANCE_HA_LOG_LEVEL: 'warn', INSTANCE_HA_CRASH_AFTER_STEP: String(crashAfter) };
    const child = track(
      spawn(process.execPath, [RUN_HOST, '--config', config, '--host', 'compute-1'], { env, stdio: ['ignore', 'pipe', 'inherit'] }),
    );
    let stdout = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.on('exit', (code, signal) => resolve({ code, signal, stdout }));
  });
}

function expectExactlyOnce(sim: NovaSim): void {
  for (const s of sim.model.servers.values()) {
    if (TAGGED.includes(s.name)) {
      expect(sim.model.evacuateAccepted.get(s.id), s.name).toBe(1);
      expect(s.status, s.name).toBe('ACTIVE');
      expect(s.host, s.name).not.toBe('compute-1');
    } else {
      expect(sim.model.evacuateCalls.get(s.id) ?? 0).toBe(0);
    }
  }
}

describe('crash at every journal step (real processes, SIGKILL)', () => {
  let steps = 0;

  it('an uninterrupted run evacuates each tagged server once', async () => {
    const { sim, config, journalDir } = await scenario();
    const r = await runHost(config, 0);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('"evacuated":3');
    expectExactlyOnce(sim);
    const records = readRecords(join(journalDir, 'compute-1.jsonl'));
    steps = records.length;
    // begin, forced_down, disabled, selected, notified, 3 × (intent, accepted, done), finished
    expect(records.map((r) => r.t).filter((t) => t !== 'intent' && t !== 'accepted' && t !== 'done')).toEqual([
      'begin',
      'forced_down',
      'disabled',
      'selected',
      'notified',
      'finished',
    ]);
    expect(steps).toBe(15);
  });

  it('every crash point: the next coordinator finishes, each server evacuated exactly once', async () => {
    expect(steps).toBeGreaterThan(0);
    for (let k = 1; k < steps; k++) {
      const { sim, config } = await scenario();
      const first = await runHost(config, k);
      expect(first.signal, `crash after step ${k}`).toBe('SIGKILL');
      const second = await runHost(config, 0);
      expect(second.code, `resume after step ${k}`).toBe(0);
      expect(second.stdout).toContain('"evacuated":3');
      expectExactlyOnce(sim);
      await sim.stop();
      sims = sims.filter((s) => s !== sim);
    }
  }, 170_000);
});
