import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeClusterFiles, type ClusterLayout } from '../../src/testbed/demo/cluster-files.js';
import { ensureBuilt, ROOT } from '../helpers/build.js';
import { NotifySocket } from '../helpers/notify-socket.js';
import { clusterBasePort } from '../helpers/ports.js';
import { CLI, Processes } from '../helpers/processes.js';
import { haveTools } from '../helpers/require.js';

const run = promisify(execFile);
const UNITS = ['instance-ha-monitor.service', 'instance-ha-beacon.service'];

function unitText(name: string): string {
  return readFileSync(join(ROOT, 'systemd', name), 'utf8');
}

function directives(text: string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const x = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (x) m.set(x[1]!, [...(m.get(x[1]!) ?? []), x[2]!]);
  }
  return m;
}

describe('systemd units', () => {
  it.each(UNITS)('%s: notify + watchdog, restart on failure, dedicated user, hardened', (name) => {
    const d = directives(unitText(name));
    const one = (k: string): string | undefined => d.get(k)?.[0];
    expect(one('Type')).toBe('notify');
    expect(one('NotifyAccess')).toBe('all');
    expect(Number(one('WatchdogSec')?.replace(/s$/, ''))).toBeGreaterThan(0);
    expect(one('Restart')).toBe('on-failure');
    expect(one('User')).toBe('instance-ha');
    expect(one('EnvironmentFile')).toMatch(/^-\/etc\/default\//);
    for (const k of ['NoNewPrivileges', 'ProtectHome', 'PrivateTmp']) expect(one(k), k).toBe('yes');
    expect(one('ProtectSystem')).toBe('strict');
    expect(one('CapabilityBoundingSet')).toBe('');
    expect(one('ExecStart')).toMatch(/^\/usr\/bin\/instance-ha (monitor|beacon) --config /);
  });

  it('the monitor may write its state dir and nothing else', () => {
    const d = directives(unitText('instance-ha-monitor.service'));
    expect(d.get('ReadWritePaths')).toEqual(['/var/lib/instance-ha']);
    expect(d.get('StateDirectory')).toEqual(['instance-ha']);
    expect(directives(unitText('instance-ha-beacon.service')).get('ReadWritePaths')).toBeUndefined();
  });

  describe.runIf(haveTools('systemd-analyze', ['systemd-analyze'], 'apt-get install -y systemd'))('systemd-analyze', () => {
    let dir: string;
    beforeAll(() => {
      // The units name /usr/bin/instance-ha, which the package install provides; verify copies whose
      // ExecStart runs this checkout's CLI with this node instead (everything else unchanged).
      dir = mkdtempSync(join(tmpdir(), 'iha-units-'));
      for (const u of UNITS)
        writeFileSync(join(dir, u), unitText(u).replace('ExecStart=/usr/bin/instance-ha ', `ExecStart=${process.execPath} ${CLI} `));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('verify passes on both units', async () => {
      const res = await run('systemd-analyze', ['verify', ...UNITS.map((u) => join(dir, u))], { cwd: dir }).catch(
        (e: { code: number; stderr: string }) => e,
      );
      const stderr = 'stderr' in res ? res.stderr : '';
      expect(stderr.split('\n').filter((l) => l.includes('instance-ha'))).toEqual([]);
      expect('code' in res ? res.code : 0).toBe(0);
    });

    it.each(UNITS)('%s: security exposure rated OK (≤ 4)', async (u) => {
      const { stdout } = await run('systemd-analyze', ['security', '--offline=true', '--no-pager', join(dir, u)]);
      const score = Number(/Overall exposure level for \S+: ([\d.]+)/.exec(stdout)?.[1]);
      expect(score).toBeLessThanOrEqual(4);
    });
  });
});

function httpOk(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(url, { timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}

function socketAnswers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/status', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}

const haveNotifyTools = haveTools('sd_notify', ['python3', 'systemd-notify'], 'apt-get install -y python3 systemd');
describe.runIf(haveNotifyTools)('sd_notify from real daemons', () => {
  let p: Processes;
  let layout: ClusterLayout;

  beforeAll(async () => {
    ensureBuilt();
    p = new Processes('iha-notify-');
    layout = writeClusterFiles(p.dir, { monitors: 1, hosts: ['cmp1'], basePort: await clusterBasePort(1) });
  });
  afterAll(() => p?.cleanup());

  it('monitor: READY=1 only once the control socket and status API answer, WATCHDOG=1 pings, STOPPING=1 and exit 0 on SIGTERM', async () => {
    const ns = await NotifySocket.open(join(p.dir, 'notify-mon.sock'));
    try {
      const m = layout.monitors[0]!;
      const child = p.start('mon1', ['monitor', '--config', m.config], { NOTIFY_SOCKET: ns.path, WATCHDOG_USEC: '300000' });
      const ready = await ns.waitFor((t) => t.includes('READY=1'), 15_000);
      // At the moment READY=1 arrived, everything the unit promises is serving.
      const [control, api] = await Promise.all([socketAnswers(m.socket), httpOk(`http://${m.statusApi}/api/status`)]);
      expect(control).toBe(true);
      expect(api).toBe(true);
      expect(ready.text).toMatch(/STATUS=monitoring/);
      // Pings every 150 ms (half of 300 ms): several within a second of READY.
      await new Promise((r) => setTimeout(r, 1000));
      const pings = ns.messages.filter((x) => x.text === 'WATCHDOG=1' && x.at >= ready.at);
      expect(pings.length).toBeGreaterThanOrEqual(3);
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      p.kill('mon1', 'SIGTERM');
      await ns.waitFor((t) => t === 'STOPPING=1', 5000);
      expect(await exited).toBe(0);
    } finally {
      await ns.close();
    }
  });

  it('beacon: READY=1, exit 0 on SIGTERM right after it, and no watchdog pings unless systemd asked (WATCHDOG_USEC)', async () => {
    const ns = await NotifySocket.open(join(p.dir, 'notify-beacon.sock'));
    try {
      const child = p.start('cmp1', ['beacon', '--config', layout.hosts[0]!.config], { NOTIFY_SOCKET: ns.path });
      await ns.waitFor((t) => t.includes('READY=1'), 10_000);
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      p.kill('cmp1', 'SIGTERM');
      expect(await exited).toBe(0);
      // Without WATCHDOG_USEC no pings were sent.
      expect(ns.messages.some((x) => x.text === 'WATCHDOG=1')).toBe(false);
    } finally {
      await ns.close();
    }
  });
});

describe('example configurations', () => {
  it.each(['monitor', 'beacon'])('examples/%s.yaml passes config check once its key files exist', async (kind) => {
    ensureBuilt();
    const dir = mkdtempSync(join(tmpdir(), 'iha-examples-'));
    try {
      // The examples point at /etc/instance-ha/; the same files under a temp dir, mode 0600.
      for (const f of ['cluster.key', 'ipmi.pw', 'keystone.pw', 'rabbit.pw']) {
        writeFileSync(join(dir, f), f === 'cluster.key' ? 'x'.repeat(44) + '\n' : 'secret\n');
        chmodSync(join(dir, f), 0o600);
      }
      const text = readFileSync(join(ROOT, 'examples', `${kind}.yaml`), 'utf8').replaceAll('/etc/instance-ha/', `${dir}/`);
      writeFileSync(join(dir, `${kind}.yaml`), text);
      const { stdout } = await run(process.execPath, [CLI, 'config', 'check', join(dir, `${kind}.yaml`), '--kind', kind]);
      expect(stdout).toContain(`valid ${kind} configuration`);
      // And the check is real: the same file with a typo fails.
      writeFileSync(join(dir, 'bad.yaml'), text.replace('log_level: info', 'log_levle: info'));
      const bad = await run(process.execPath, [CLI, 'config', 'check', join(dir, 'bad.yaml'), '--kind', kind]).catch(
        (e: { code: number; stderr: string }) => e,
      );
      expect('code' in bad ? bad.code : 0).toBe(1);
      expect(existsSync(join(dir, 'bad.yaml'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
