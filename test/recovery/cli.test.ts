import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { startNovaSim, type NovaSim } from '../../src/testbed/nova-sim/server.js';
import { runUnfenceCli, unfenceCommand } from '../../src/recovery/cli.js';
import { NovaRecoverer } from '../../src/recovery/workflow.js';
import { EventLog, fastRecoveryConfig, simClient } from '../helpers/sim-client.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const tempDir = tempDirs();
let sim: NovaSim | null = null;
afterEach(async () => {
  await sim?.stop();
  sim = null;
});

function io(env: NodeJS.ProcessEnv) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (b: Buffer) => (out += b.toString()));
  stderr.on('data', (b: Buffer) => (err += b.toString()));
  return { io: { stdout, stderr, env, log: silentLogger() }, out: () => out, err: () => err };
}

describe('instance-ha unfence HOST', () => {
  it('returns the host once Nova accepts, and closes the incident journal', async () => {
    sim = await startNovaSim({ hosts: ['c1', 'c2'], servers: [{ name: 'a', host: 'c1', tags: ['automatic-recovery'] }], claimMs: 5, rebuildMs: 20, initHostMs: 50 });
    sim.model.killCompute('c1');
    const dir = tempDir('iha-cli-');
    const journalDir = join(dir, 'journal');
    const { compute } = simClient(sim);
    await new NovaRecoverer({ compute, events: new EventLog(), log: silentLogger(), cfg: fastRecoveryConfig(journalDir) })
      .recover('c1', { ok: true, durationMs: 1, attempts: [], by: 'm1' }, new AbortController().signal);
    const config = join(dir, 'monitor.yaml');
    writeFileSync(config, `compute:\n  retries: 1\nrecovery:\n  journal_dir: ${journalDir}\n  unfence:\n    retry_interval: 30ms\n    timeout: 5s\n`);
    const env = { OS_AUTH_URL: sim.authUrl, OS_USERNAME: 'admin', OS_PASSWORD: 'admin', OS_PROJECT_NAME: 'admin' };
    setTimeout(() => sim!.model.restartCompute('c1'), 100);
    const t = io(env);
    expect(await unfenceCommand({ host: 'c1', configPath: config }, t.io)).toBe(0);
    expect(t.out()).toMatch(/^c1: forced_down cleared and service enabled \(\d+ attempt\(s\)/);
    expect(sim.model.services.get('c1')).toMatchObject({ forcedDown: false, status: 'enabled' });
    expect(existsSync(join(journalDir, 'c1.jsonl'))).toBe(false);
    expect(readdirSync(journalDir).some((f) => /^c1\.\d+\.done\.jsonl$/.test(f))).toBe(true);
  });

  it('exit 2 with the key path on a bad config; --power-on without a fence device refused', async () => {
    const dir = tempDir('iha-cli-');
    const config = join(dir, 'monitor.yaml');
    writeFileSync(config, 'recovery:\n  concurrency: lots\n');
    const t = io({});
    expect(await unfenceCommand({ host: 'c1', configPath: config }, t.io)).toBe(2);
    expect(t.err()).toContain("'recovery.concurrency' must be a number");
    sim = await startNovaSim({ hosts: ['c1'] });
    writeFileSync(config, 'recovery: {}\n');
    const u = io({ OS_AUTH_URL: sim.authUrl, OS_USERNAME: 'admin', OS_PASSWORD: 'admin', OS_PROJECT_NAME: 'admin' });
    expect(await unfenceCommand({ host: 'c1', configPath: config, powerOn: true }, u.io)).toBe(1);
    expect(u.err()).toContain('no fence device can power this host on');
  });
});

describe('runUnfenceCli argv', () => {
  it('usage errors exit 64', async () => {
    const t = io({});
    expect(await runUnfenceCli([], { ...t.io, defaultConfigPath: '/nonexistent' })).toBe(64);
    expect(await runUnfenceCli(['a', 'b'], { ...t.io, defaultConfigPath: '/nonexistent' })).toBe(64);
    expect(await runUnfenceCli(['a', '--bogus'], { ...t.io, defaultConfigPath: '/nonexistent' })).toBe(64);
    expect(t.err()).toContain('usage: instance-ha unfence HOST');
    expect(await runUnfenceCli(['a', '--power-on'], { ...t.io, defaultConfigPath: '/nonexistent' })).toBe(2);
  });
});
