import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeClusterFiles } from '../../src/testbed/demo/cluster-files.js';
import { COMMANDS } from '../../src/cli/commands/index.js';
import { ensureBuilt, ROOT } from '../helpers/build.js';
import { clusterBasePort } from '../helpers/ports.js';
import { killedAfterEach } from '../helpers/processes.js';

/**
 * `npm pack` → `npm install -g --prefix <tmp> <tarball>` (dependencies from the npm cache) → the
 * installed commands work: help for every command, config check on the shipped examples, agents'
 * metadata, and an installed monitor serving the dashboard from the package's own files.
 */
const run = promisify(execFile);
let dir: string;
let bin: string;
let files: string[];
const track = killedAfterEach();

describe('npm package', () => {
  beforeAll(async () => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'iha-pack-'));
    await run('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT });
    const tgz = readdirSync(dir).find((f) => f.endsWith('.tgz'))!;
    files = (await run('tar', ['tzf', join(dir, tgz)])).stdout.trim().split('\n');
    await run('npm', ['install', '-g', '--prefix', join(dir, 'prefix'), '--prefer-offline', '--no-audit', '--no-fund', join(dir, tgz)], {
      cwd: dir,
    });
    bin = join(dir, 'prefix', 'bin');
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('ships compiled JS, launchers, dashboard, units and examples — no TypeScript, tests or maps', () => {
    for (const f of [
      'package/dist/src/cli/main.js',
      'package/agents/fence_ipmi',
      'package/agents/fence_fake',
      'package/dashboard/index.html',
      'package/dashboard/dashboard.js',
      'package/systemd/instance-ha-monitor.service',
      'package/examples/monitor.yaml',
    ])
      expect(files, f).toContain(f);
    expect(
      files.filter((f) => f.endsWith('.ts') || f.endsWith('.map') || f.startsWith('package/test/') || f.startsWith('package/src/')),
    ).toEqual(['package/src/testbed/bmc/ipmi-sim-chassis-control.sh']); // the demo's ipmi_sim BMCs run it
    // The demo's simulators ship (the demo runs from an installed package); the simulation's world does not.
    expect(files).toContain('package/dist/src/testbed/nova-sim/main.js');
    expect(files.filter((f) => /^package\/dist\/src\/testbed\/(sim|net|clock)\//.test(f))).toEqual([]);
  });

  it('installs instance-ha, fence_ipmi and fence_fake on PATH', async () => {
    for (const b of ['instance-ha', 'fence_ipmi', 'fence_fake']) expect(existsSync(join(bin, b)), b).toBe(true);
    const { stdout } = await run(join(bin, 'instance-ha'), ['--help']);
    expect(stdout).toMatch(/^Usage: instance-ha <command>/m);
    const meta = await run(join(bin, 'fence_ipmi'), ['-o', 'metadata']);
    expect(meta.stdout).toContain('<resource-agent name="fence_ipmi"');
  });

  it('answers --help on every command with the help text beside it, with examples', async () => {
    const loaded = await Promise.all([...COMMANDS].map(async ([name, load]) => [name, await load()] as const));
    const documented = loaded.filter(([, c]) => c.help !== undefined);
    expect(documented.map(([name]) => name).sort()).toEqual([
      'ack-mass-failure',
      'agents',
      'beacon',
      'config',
      'confirm-fenced',
      'demo',
      'events',
      'fence',
      'forget',
      'history',
      'keys',
      'maintenance',
      'monitor',
      'recover',
      'status',
      'unfence',
    ]);
    for (const [cmd, { help }] of documented) {
      const { stdout } = await run(join(bin, 'instance-ha'), [cmd, '--help']);
      expect(stdout, cmd).toBe(`${help}\n`);
      expect(stdout, cmd).toMatch(/^usage: instance-ha /i);
      // The demo's help is its option list: the command is its own example.
      if (cmd !== 'demo') expect(stdout, cmd).toMatch(/Examples?:?\n {2}instance-ha |Example\n {2}/);
    }
  });

  it('checks the shipped example configs', async () => {
    const etc = join(dir, 'etc');
    rmSync(etc, { recursive: true, force: true });
    (await import('node:fs')).mkdirSync(etc);
    for (const [f, text] of Object.entries({ 'monitor.key': 'm', 'beacon-master.key': 'b', 'host.key': 'h' })) {
      writeFileSync(join(etc, f), text.repeat(44) + '\n', { mode: 0o600 });
      chmodSync(join(etc, f), 0o600);
    }
    for (const pw of ['ipmi.pw', 'keystone.pw', 'rabbit.pw']) writeFileSync(join(etc, pw), 'secret\n', { mode: 0o600 });
    const pkg = join(dir, 'prefix', 'lib', 'node_modules', 'instance-ha');
    for (const kind of ['monitor', 'beacon']) {
      writeFileSync(
        join(etc, `${kind}.yaml`),
        readFileSync(join(pkg, 'examples', `${kind}.yaml`), 'utf8').replaceAll('/etc/instance-ha/', `${etc}/`),
      );
      const { stdout } = await run(join(bin, 'instance-ha'), ['config', 'check', join(etc, `${kind}.yaml`), '--kind', kind]);
      expect(stdout).toContain(`valid ${kind} configuration`);
    }
  });

  it('an installed monitor serves the dashboard and the status API', async () => {
    const basePort = await clusterBasePort(1);
    const layout = writeClusterFiles(join(dir, 'cluster'), { monitors: 1, hosts: ['cmp1'], basePort, logLevel: 'warn' });
    const api = `http://${layout.monitors[0]!.statusApi}`;
    const { spawn } = await import('node:child_process');
    const child = track(spawn(join(bin, 'instance-ha'), ['monitor', '--config', layout.monitors[0]!.config], { stdio: 'ignore' }));
    try {
      let page = '';
      for (let i = 0; i < 100 && !page; i++) {
        page = await fetch(`${api}/`).then(
          (r) => (r.ok ? r.text() : ''),
          () => '',
        );
        if (!page) await new Promise((r) => setTimeout(r, 100));
      }
      expect(page).toContain('<script type="module" src="/dashboard.js">');
      expect((await fetch(`${api}/dashboard.js`)).status).toBe(200);
      const snap = (await (await fetch(`${api}/api/status`)).json()) as { monitor: { id: string } };
      expect(snap.monitor.id).toBe('mon1');
    } finally {
      const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  });
});
