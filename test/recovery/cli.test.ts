import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { tempDirs } from '../helpers/temp-dirs.js';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { returnToServiceInNova, runUnfenceCommand } from '../../src/cli/commands/unfence.js';
import { loadConfig, parseConfig } from '../../src/config/load.js';
import { readMonitorConfig } from '../../src/daemon/monitor-config.js';
import { ConfigError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { readComputeConfig, readRecoveryConfig } from '../../src/recovery/config.js';
import { startNovaSim, type NovaSim } from '../../src/testbed/nova-sim/server.js';
import { NovaRecoverer } from '../../src/recovery/workflow.js';
import { EventLog, fastRecoveryConfig, simClient } from '../helpers/sim-client.js';

/** The part of a monitor config every file here needs; the rest is what a test is about. */
const MONITOR = `id: m1\nmonitors: [{ id: m1, address: 127.0.0.1:7400 }]\nmonitor_key: ${'k'.repeat(32)}\nbeacon_master_key: ${'b'.repeat(32)}\n`;

let sim: NovaSim | null = null;
const newTempDir = tempDirs();
const tempDir = (): string => newTempDir('iha-cli-');
afterEach(async () => {
  await sim?.stop();
  sim = null;
});

function io(env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l), isTty: false, env, log: silentLogger() }, out, err };
}

const simEnv = (s: NovaSim): NodeJS.ProcessEnv => ({
  OS_AUTH_URL: s.authUrl,
  OS_USERNAME: 'admin',
  OS_PASSWORD: 'admin',
  OS_PROJECT_NAME: 'admin',
});

describe('instance-ha unfence HOST', () => {
  it('returns the host once Nova accepts, and closes the incident journal (settings from the monitor config)', async () => {
    const servers = [{ name: 'a', host: 'c1', tags: ['automatic-recovery'] }];
    sim = await startNovaSim({ hosts: ['c1', 'c2'], servers, claimMs: 5, rebuildMs: 20, initHostMs: 50 });
    sim.model.killCompute('c1');
    const dir = tempDir();
    const journalDir = join(dir, 'journal');
    const { compute } = simClient(sim);
    await new NovaRecoverer({ compute, events: new EventLog(), log: silentLogger(), cfg: fastRecoveryConfig(journalDir) }).recover(
      'c1',
      { ok: true, durationMs: 1, attempts: [], by: 'm1' },
      new AbortController().signal,
    );
    const config = join(dir, 'monitor.yaml');
    const recovery = `recovery:\n  journal_dir: ${journalDir}\n  unfence:\n    retry_interval: 30ms\n    timeout: 5s\n`;
    writeFileSync(config, `${MONITOR}fencing: {}\ncompute:\n  retries: 1\n${recovery}`);
    setTimeout(() => sim!.model.restartCompute('c1'), 100);
    const t = io(simEnv(sim));
    expect(await returnToServiceInNova('c1', {}, loadConfig(config, readMonitorConfig).recovery!, t.io)).toBe(0);
    // Progress first (what it waits for, each attempt, Nova's answers), then the outcome.
    expect(t.out[0]).toMatch(/^c1 \+0\.\ds: returning to service: /);
    expect(t.out).toContainEqual(expect.stringMatching(/^c1 \+[\d.]+s: attempt \d+: Nova cleared forced_down$/));
    expect(t.out[t.out.length - 1]).toMatch(/^c1: forced_down cleared and service enabled \(\d+ attempt\(s\)/);
    expect(sim.model.services.get('c1')).toMatchObject({ forcedDown: false, status: 'enabled' });
    expect(existsSync(join(journalDir, 'c1.jsonl'))).toBe(false);
    expect(readdirSync(journalDir).some((f) => /^c1\.\d+\.done\.jsonl$/.test(f))).toBe(true);
  });

  it('a bad recovery section is one ConfigError naming the key (the CLI exits 78); --power-on without a fence device refused', async () => {
    const dir = tempDir();
    const config = join(dir, 'monitor.yaml');
    writeFileSync(config, `${MONITOR}fencing: {}\ncompute: {}\nrecovery:\n  concurrency: lots\n`);
    const t = io();
    const refused = runUnfenceCommand(['c1', '--config', config], t.io);
    await expect(refused).rejects.toThrow(ConfigError);
    await expect(refused).rejects.toThrow("'recovery.concurrency' must be a whole number between 1 and 256, got 'lots'");
    sim = await startNovaSim({ hosts: ['c1'] });
    const defaults = parseConfig('{}', 'defaults', (r) => ({
      compute: readComputeConfig(r.object('compute')),
      recovery: readRecoveryConfig(r.object('recovery')),
    }));
    const u = io(simEnv(sim));
    expect(await returnToServiceInNova('c1', { powerOn: true }, defaults, u.io)).toBe(1);
    expect(u.err.join('\n')).toContain('no fence device can power this host on');
  });
});

describe('instance-ha unfence arguments', () => {
  it('usage errors exit 64, checked before the config file is read (like every command)', async () => {
    const config = join(tempDir(), 'monitor.yaml');
    writeFileSync(config, MONITOR);
    const t = io();
    expect(await runUnfenceCommand(['--config', config], t.io)).toBe(64);
    expect(await runUnfenceCommand(['a', 'b', '--config', config], t.io)).toBe(64);
    expect(await runUnfenceCommand(['a', '--bogus', '--config', config], t.io)).toBe(64);
    expect(t.err.every((l) => l.includes('Usage: instance-ha unfence HOST'))).toBe(true);
    // A slip is named as such even when the file is missing too; a right command line reaches the file.
    expect(await runUnfenceCommand(['a', 'b', '--config', join(tempDir(), 'none.yaml')], t.io)).toBe(64);
    await expect(runUnfenceCommand(['a', '--config', join(tempDir(), 'none.yaml')], t.io)).rejects.toThrow(ConfigError);
  });
});

describe('instance-ha recover HOST', () => {
  it('is a usage error without exactly one host (nothing sent)', async () => {
    const { runRecoverCommand } = await import('../../src/cli/commands/recover.js');
    const { UsageError } = await import('../../src/cli/args.js');
    await expect(runRecoverCommand([], io().io)).rejects.toBeInstanceOf(UsageError);
    await expect(runRecoverCommand(['a', 'b'], io().io)).rejects.toBeInstanceOf(UsageError);
  });
});
