import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { writeClusterFiles } from '../../src/testbed/demo/cluster-files.js';
import { defaultCoreSettings, detectionBoundMs } from '../../src/core/settings.js';
import { CLI_PATH } from '../../src/testbed/demo/processes.js';
import { clusterBasePort } from '../helpers/ports.js';
import { Processes, hostState, status, waitForStatus } from '../helpers/processes.js';

/**
 * Operator-facing guards on real processes: maintenance keeps a dead host from being declared; a
 * monitor whose process was frozen convicts nobody for the gap it caused itself; IPv6 heartbeats.
 */
const bound = detectionBoundMs(defaultCoreSettings('mon1', ['mon1']), 500);
let p: Processes;

afterEach(() => p?.cleanup());

async function up(hosts: string[], edit?: (dir: string) => void) {
  p = new Processes();
  const layout = writeClusterFiles(p.dir, { monitors: 1, hosts, basePort: await clusterBasePort(1) });
  edit?.(p.dir);
  p.start('mon1', ['monitor', '--config', layout.monitors[0]!.config]);
  for (const h of layout.hosts) p.start(h.name, ['beacon', '--config', h.config]);
  const ok = await waitForStatus(
    layout.monitors[0]!.socket,
    (s) => s.hosts.length === hosts.length && s.hosts.every((h) => h.state === 'up' && h.lastHeartbeatAgeMs !== null),
    10_000,
  );
  expect(ok.ok).toBe(true);
  return layout;
}

describe('guards on real processes', () => {
  it('never declares a host in maintenance failed, and declares it again once maintenance is off', async () => {
    const layout = await up(['cmp1', 'cmp2']);
    const socket = layout.monitors[0]!.socket;
    const out = execFileSync(process.execPath, [CLI_PATH, 'maintenance', 'cmp1', 'on', '--socket', socket], { encoding: 'utf8' });
    expect(out).toMatch(/maintenance on/);
    p.kill('cmp1');
    await new Promise((r) => setTimeout(r, bound + 1000));
    const s = await status(socket);
    expect(s!.hosts.find((h) => h.host === 'cmp1')).toMatchObject({ state: 'maintenance', localLevel: 'dead', maintenance: true });
    expect(s!.recentEvents.some((e) => e.type === 'host.failed')).toBe(false);
    execFileSync(process.execPath, [CLI_PATH, 'maintenance', 'cmp1', 'off', '--socket', socket]);
    const failed = await waitForStatus(socket, (x) => hostState(x, 'cmp1') === 'failed', bound + 3000);
    expect(failed.ok).toBe(true);
    expect(hostState(failed.snap, 'cmp2')).toBe('up');
  });

  it('a monitor frozen for 3 s convicts nobody for its own silence', async () => {
    const layout = await up(['cmp1', 'cmp2', 'cmp3']);
    const socket = layout.monitors[0]!.socket;
    p.kill('mon1', 'SIGSTOP');
    await new Promise((r) => setTimeout(r, 3000));
    p.kill('mon1', 'SIGCONT');
    const paused = await waitForStatus(socket, (s) => s.alarms.some((a) => a.kind === 'local_pause'), 3000);
    expect(paused.ok).toBe(true);
    await new Promise((r) => setTimeout(r, 3000));
    const s = await status(socket);
    expect(s!.hosts.map((h) => h.state)).toEqual(['up', 'up', 'up']);
    expect(s!.recentEvents.filter((e) => e.type === 'host.failed' || e.type === 'host.suspect')).toEqual([]);
  });

  it('takes heartbeats over IPv6', async () => {
    const layout = await up(['cmp6'], (dir) => {
      const monFile = `${dir}/mon1.yaml`;
      const mon = parse(readFileSync(monFile, 'utf8')) as { listen: string[]; monitors: Array<{ address: string }> };
      const port = Number(mon.listen[0]!.split(':')[1]);
      mon.listen = [`[::1]:${port}`];
      mon.monitors[0]!.address = `[::1]:${port}`;
      writeFileSync(monFile, stringify(mon));
      const beaconFile = `${dir}/beacon-cmp6.yaml`;
      const b = parse(readFileSync(beaconFile, 'utf8')) as { monitors: string[] };
      b.monitors = [`[::1]:${port}`];
      writeFileSync(beaconFile, stringify(b));
    });
    const s = await status(layout.monitors[0]!.socket);
    expect(s!.counters.accepted).toBeGreaterThan(0);
    expect(s!.hosts[0]).toMatchObject({ host: 'cmp6', state: 'up' });
  });
});
