import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, ROOT } from '../helpers/build.js';
import { REQUIRE_SERVICES, haveTools } from '../helpers/require.js';
import { tempDirs } from '../helpers/temp-dirs.js';

/**
 * `npm run package:deb` → inspect the .deb (control fields, every entry's owner and mode, what
 * ships and what must not) → lintian → `dpkg -i` on this machine → the installed commands, the
 * shipped examples under `config check`, the installed units under `systemd-analyze verify`, a
 * changed conffile surviving a reinstall → `dpkg --purge` leaves none of the package's files.
 *
 * Installing needs root and a dpkg whose database has `nodejs (>= 20)`: CI runs as root, and
 * node comes from a dpkg package there (checked below, so no --force-depends is ever needed).
 */
const run = promisify(execFile);
const tempDir = tempDirs();
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const UNITS = ['instance-ha-monitor.service', 'instance-ha-beacon.service'];

function dpkgInstalled(pkg: string): boolean {
  try {
    return (
      execFileSync('dpkg-query', ['-W', '-f=${db:Status-Status}', pkg], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }) ===
      'installed'
    );
  } catch {
    return false;
  }
}

/**
 * dpkg, waiting (up to a minute) while another apt or dpkg on this machine holds its lock: the
 * machine is shared, and a lock is somebody else's install, not a failure of ours.
 */
async function dpkg(...args: string[]): Promise<void> {
  for (let waited = 0; ; waited += 2) {
    try {
      await run('dpkg', args);
      return;
    } catch (err) {
      if (waited >= 60 || !/lock/i.test((err as { stderr?: string }).stderr ?? '')) throw err;
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}

function userExists(name: string): boolean {
  try {
    execFileSync('getent', ['passwd', name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Why this machine cannot take a real install, or null. Never touches an operator's own install. */
function whyNoInstall(): string | null {
  if (process.getuid?.() !== 0) return 'dpkg -i needs root';
  if (dpkgInstalled('instance-ha')) return 'instance-ha is already installed here; refusing to replace and purge it';
  if (existsSync('/etc/instance-ha') || existsSync('/var/lib/instance-ha'))
    return '/etc/instance-ha or /var/lib/instance-ha exists; purge would remove it';
  if (!dpkgInstalled('nodejs')) return "node does not come from a dpkg package here (dpkg -s nodejs), so Depends: nodejs can't be met";
  return null;
}

const tools = haveTools('Debian package', ['dpkg-deb', 'dpkg', 'systemd-analyze'], 'apt-get install dpkg-dev systemd, or ./setup.sh');
const noInstall = tools ? whyNoInstall() : 'no dpkg';
if (tools && noInstall) {
  if (REQUIRE_SERVICES) throw new Error(`Debian package install test: ${noInstall}; INSTANCE_HA_REQUIRE_SERVICES=1 forbids skipping`);
  console.warn(`SKIP installing the Debian package: ${noInstall}`);
}
const haveLintian = tools && haveTools('lintian', ['lintian'], 'apt-get install lintian, or ./setup.sh');

interface Entry {
  mode: string;
  owner: string;
  path: string;
}

describe.runIf(tools)('Debian package', () => {
  let deb = '';
  let entries: Entry[] = [];
  let installedFiles: string[] = [];
  const userBefore = userExists('instance-ha');

  beforeAll(async () => {
    ensureBuilt();
    const out = tempDir('iha-deb-');
    const { stdout } = await run('bash', [join(ROOT, 'packaging/build-deb.sh'), '--no-build', '--out', out], { cwd: ROOT });
    deb = stdout.trim().split('\n').pop()!;
    entries = (await run('dpkg-deb', ['-c', deb], { maxBuffer: 16 << 20 })).stdout
      .trim()
      .split('\n')
      .map((l) => {
        const [mode, owner, , , , ...rest] = l.split(/\s+/);
        return {
          mode: mode!,
          owner: owner!,
          path: rest
            .join(' ')
            .replace(/^\.\//, '/')
            .replace(/ -> .*$/, ''),
        };
      });
  }, 120_000);

  afterAll(async () => {
    // Whatever happened above, this machine is left as it was found.
    if (noInstall === null && dpkgInstalled('instance-ha')) await dpkg('--purge', 'instance-ha');
    if (noInstall === null && !userBefore && userExists('instance-ha')) execFileSync('userdel', ['instance-ha'], { stdio: 'ignore' });
  });

  it('is named instance-ha_<version>_all.deb and declares its dependencies and conffiles', async () => {
    expect(deb.endsWith(`/instance-ha_${VERSION}_all.deb`)).toBe(true);
    const info = (await run('dpkg-deb', ['-I', deb])).stdout;
    expect(info).toMatch(/^ Package: instance-ha$/m);
    expect(info).toMatch(new RegExp(`^ Version: ${VERSION.replaceAll('.', '\\.')}$`, 'm'));
    expect(info).toMatch(/^ Architecture: all$/m);
    expect(info).toMatch(/^ Depends: nodejs \(>= 20\), adduser$/m);
    for (const script of ['postinst', 'prerm', 'postrm', 'conffiles', 'md5sums']) expect(info, script).toMatch(new RegExp(` ${script}\\b`));
    const control = tempDir('iha-deb-control-');
    await run('dpkg-deb', ['-e', deb, control]);
    expect(readFileSync(join(control, 'conffiles'), 'utf8').trim().split('\n')).toEqual([
      '/etc/default/instance-ha-monitor',
      '/etc/default/instance-ha-beacon',
    ]);
    // postinst never starts or enables a daemon: no systemctl enable/start, no deb-systemd-invoke start.
    const postinst = readFileSync(join(control, 'postinst'), 'utf8');
    expect(postinst).not.toMatch(/systemctl (--system )?(enable|start|restart)|deb-systemd-(invoke|helper) (start|enable|restart)/);
  });

  it('ships root-owned files with sane modes: the product, its dependencies, agents, units, docs', () => {
    const paths = entries.map((e) => e.path);
    for (const f of [
      '/usr/bin/instance-ha',
      '/usr/sbin/fence_ipmi',
      '/usr/sbin/fence_redfish_native',
      '/usr/lib/instance-ha/package.json',
      '/usr/lib/instance-ha/dist/src/cli/main.js',
      '/usr/lib/instance-ha/dist/agents/fence_ipmi.js',
      '/usr/lib/instance-ha/dashboard/index.html',
      '/usr/lib/instance-ha/node_modules/pino/package.json',
      '/usr/lib/instance-ha/node_modules/prom-client/package.json',
      '/usr/lib/instance-ha/dist/src/testbed/nova-sim/main.js', // the demo is a user feature
      '/lib/systemd/system/instance-ha-monitor.service',
      '/lib/systemd/system/instance-ha-beacon.service',
      '/etc/default/instance-ha-monitor',
      '/etc/default/instance-ha-beacon',
      '/usr/share/doc/instance-ha/copyright',
      '/usr/share/doc/instance-ha/changelog.gz',
      '/usr/share/doc/instance-ha/operations.md.gz',
      '/usr/share/doc/instance-ha/examples/monitor.yaml',
      '/usr/share/doc/instance-ha/examples/beacon.yaml',
      '/usr/share/man/man1/instance-ha.1.gz',
      '/usr/share/man/man8/fence_ipmi.8.gz',
      '/usr/share/man/man8/fence_redfish_native.8.gz',
      '/usr/share/instance-ha/prometheus/instance-ha.rules.yml',
      '/usr/share/instance-ha/grafana/instance-ha.json',
    ])
      expect(paths, f).toContain(f);
    for (const e of entries) {
      expect(e.owner, e.path).toBe('root/root');
      expect(e.mode, e.path).toMatch(/^(drwxr-xr-x|-rw-r--r--|-rwxr-xr-x)$/);
    }
    const executables = entries.filter((e) => e.mode === '-rwxr-xr-x').map((e) => e.path);
    // The demo's ipmi_sim BMCs run this script (found by the sources' layout): without it `instance-ha demo` fails.
    expect(executables).toEqual(
      expect.arrayContaining([
        '/usr/bin/instance-ha',
        '/usr/sbin/fence_ipmi',
        '/usr/sbin/fence_redfish_native',
        '/usr/lib/instance-ha/src/testbed/bmc/ipmi-sim-chassis-control.sh',
      ]),
    );
    // Nothing a developer has but an operator must not: tests, benches, sources, maps, the simulation.
    expect(paths.filter((p) => /\/(test|tests|bench)\//.test(p) || /\.(ts|map)$/.test(p))).toEqual([]);
    expect(paths.filter((p) => /\/testbed\/(sim|net|clock)\//.test(p))).toEqual([]);
    expect(
      paths.filter((p) => p.includes('/node_modules/') && /\/(typescript|vitest|prettier|@stryker-mutator|fast-check)\//.test(p)),
    ).toEqual([]);
    // fence_fake is a test agent: beside the demo, never on a controller's PATH.
    expect(paths).toContain('/usr/lib/instance-ha/agents/fence_fake');
    expect(paths.filter((p) => /^\/(usr\/)?s?bin\//.test(p) && p.includes('fence_fake'))).toEqual([]);
    // Nothing in /etc/instance-ha or /var: postinst creates them for the service user.
    expect(paths.filter((p) => p.startsWith('/etc/instance-ha') || p.startsWith('/var/'))).toEqual([]);
  });

  it.runIf(haveLintian)(
    'is lintian clean (every remaining tag is overridden with its reason in packaging/lintian-overrides)',
    async () => {
      const r = await run('lintian', ['--pedantic', '--display-info', '--fail-on', 'error,warning,info,pedantic', deb]).then(
        (ok) => ({ code: 0, stdout: ok.stdout }),
        (err: { stdout: string; code: number }) => ({ code: err.code, stdout: err.stdout }),
      );
      // No tag at all, at any level (lintian prints nothing for a tag it was told to override).
      expect(r).toEqual({ code: 0, stdout: '' });
    },
    120_000,
  );

  describe.runIf(noInstall === null)('installed with dpkg -i on this machine', () => {
    beforeAll(async () => {
      await dpkg('-i', deb);
      installedFiles = (await run('dpkg', ['-L', 'instance-ha'])).stdout.trim().split('\n');
    }, 120_000);

    it('creates the service user and its directories, and starts or enables nothing', () => {
      expect(userExists('instance-ha')).toBe(true);
      const uid = Number(execFileSync('id', ['-u', 'instance-ha'], { encoding: 'utf8' }));
      const gid = Number(execFileSync('id', ['-g', 'instance-ha'], { encoding: 'utf8' }));
      const etc = statSync('/etc/instance-ha');
      expect([etc.mode & 0o7777, etc.uid, etc.gid]).toEqual([0o750, 0, gid]);
      const state = statSync('/var/lib/instance-ha');
      expect([state.mode & 0o7777, state.uid, state.gid]).toEqual([0o750, uid, gid]);
      expect(readFileSync('/etc/passwd', 'utf8')).toMatch(/^instance-ha:x:\d+:\d+:[^:]*:\/var\/lib\/instance-ha:\/usr\/sbin\/nologin$/m);
      for (const u of UNITS) expect(existsSync(`/etc/systemd/system/multi-user.target.wants/${u}`), u).toBe(false);
    });

    it('runs instance-ha --version and the fence agents from PATH; fence_fake is not on PATH', async () => {
      expect((await run('instance-ha', ['--version'])).stdout.trim()).toBe(VERSION);
      expect((await run('/usr/sbin/fence_ipmi', ['-o', 'metadata'])).stdout).toContain('<resource-agent name="fence_ipmi"');
      const redfish = await run('/usr/sbin/fence_redfish_native', ['-o', 'metadata']);
      expect(redfish.stdout).toContain('<resource-agent name="fence_redfish_native"');
      const onPath = await run('sh', ['-c', 'command -v fence_fake || true'], {
        env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' },
      });
      expect(onPath.stdout.trim()).toBe('');
    });

    it('checks the shipped examples once their key and password files exist', async () => {
      const examples = '/usr/share/doc/instance-ha/examples';
      // Without the files they name, the examples are refused (naming the file): the steps matter.
      const before = await run('instance-ha', ['config', 'check', `${examples}/monitor.yaml`]).catch(
        (e: { stderr: string; code: number }) => e,
      );
      expect('code' in before && before.code).toBe(1);
      expect('code' in before && before.stderr).toContain('/etc/instance-ha/monitor.key');
      // The steps of docs/operations.md "Keys and secrets" (the secrets' values are made up here).
      await run('sh', [
        '-ec',
        `cd /etc/instance-ha
         instance-ha keys generate --out monitor.key
         instance-ha keys generate --out beacon-master.key
         for f in ipmi.pw keystone.pw rabbit.pw; do echo change-me > "$f"; chmod 600 "$f"; done
         instance-ha keys host "$(hostname -s)" --config /usr/share/doc/instance-ha/examples/monitor.yaml --out host.key
         chown instance-ha:instance-ha monitor.key beacon-master.key host.key ipmi.pw keystone.pw rabbit.pw
         chmod 600 monitor.key beacon-master.key host.key ipmi.pw keystone.pw rabbit.pw`,
      ]);
      const yamls = readdirSync(examples).filter((f) => f.endsWith('.yaml'));
      expect(yamls.sort()).toEqual(['beacon.yaml', 'monitor.yaml']);
      for (const f of yamls) {
        const { stdout } = await run('runuser', ['-u', 'instance-ha', '--', 'instance-ha', 'config', 'check', `${examples}/${f}`]);
        expect(stdout, f).toMatch(/valid (monitor|beacon) configuration/);
      }
    });

    it('passes systemd-analyze verify on the installed units', async () => {
      const r = await run('systemd-analyze', ['verify', ...UNITS.map((u) => `/lib/systemd/system/${u}`)]);
      expect(r.stderr.split('\n').filter((l) => l.includes('instance-ha'))).toEqual([]);
    });

    it('keeps a changed conffile when the package is installed again', async () => {
      const f = '/etc/default/instance-ha-monitor';
      writeFileSync(f, `${readFileSync(f, 'utf8')}INSTANCE_HA_LOG_LEVEL=debug\n`);
      await dpkg('-i', '--force-confold', deb);
      expect(readFileSync(f, 'utf8')).toContain('INSTANCE_HA_LOG_LEVEL=debug');
    }, 60_000);

    it('is purged leaving none of its files, its configuration or its state', async () => {
      await dpkg('--purge', 'instance-ha');
      expect(dpkgInstalled('instance-ha')).toBe(false);
      // Directories other packages share (/usr/bin, /lib/systemd/system, …) stay, rightly.
      const left = installedFiles.filter((p) => existsSync(p) && !statSync(p).isDirectory());
      expect(left).toEqual([]);
      const ownDirs = installedFiles.filter(
        (p) => p.startsWith('/usr/lib/instance-ha') || p.startsWith('/usr/share/doc/instance-ha') || p.startsWith('/usr/share/instance-ha'),
      );
      expect(ownDirs.filter((p) => existsSync(p))).toEqual([]);
      expect(existsSync('/etc/instance-ha')).toBe(false);
      expect(existsSync('/var/lib/instance-ha')).toBe(false);
      // The system user stays (Debian practice: its uid may still own files elsewhere).
      expect(userExists('instance-ha')).toBe(true);
    }, 60_000);
  });
});
