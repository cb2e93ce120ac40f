import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultCoreSettings, detectionBoundMs } from '../../src/core/settings.js';
import { writeClusterFiles } from '../../src/testbed/demo/cluster-files.js';
import { CLI_PATH } from '../../src/testbed/demo/processes.js';
import { getJson, startOpsCluster, type OpsCluster } from '../helpers/ops-cluster.js';
import { clusterBasePort } from '../helpers/ports.js';
import { Processes, hostState, status, waitForStatus } from '../helpers/processes.js';

/**
 * Operator commands against real monitor processes, where a slip must not weaken a guard (issue #11):
 * an acknowledgement with nothing held, a maintenance mark for a host nobody knows, forgetting a
 * decommissioned host, and attesting that a host whose fence failed is off.
 */
const bound = detectionBoundMs(defaultCoreSettings('mon1', ['mon1']), 500);
let p: Processes | undefined;
let ops: OpsCluster | undefined;

afterEach(async () => {
  await p?.cleanup();
  await ops?.p.cleanup();
  p = undefined;
  ops = undefined;
});

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI_PATH, ...args], { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], input: '' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** One monitor with the default mass-failure guard (more than 30 % failing, from two hosts up). */
async function guarded(hosts: string[]): Promise<string> {
  p = new Processes();
  const layout = writeClusterFiles(p.dir, { monitors: 1, hosts, basePort: await clusterBasePort(1) });
  p.start('mon1', ['monitor', '--config', layout.monitors[0]!.config]);
  for (const h of layout.hosts) p.start(h.name, ['beacon', '--config', h.config]);
  const socket = layout.monitors[0]!.socket;
  const ok = await waitForStatus(
    socket,
    (s) => s.hosts.length === hosts.length && s.hosts.every((h) => h.lastHeartbeatAgeMs !== null),
    10_000,
  );
  expect(ok.ok).toBe(true);
  return socket;
}

describe('operator slips on real processes', () => {
  it('ack-mass-failure with nothing held is refused and changes nothing; an ack then releases only the hosts it names', async () => {
    const socket = await guarded(['cmp1', 'cmp2', 'cmp3']);
    const early = cli('ack-mass-failure', '--socket', socket);
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(/refused: nothing is held by the mass-failure guard/);
    // Two of three hosts die after that slip: the guard still holds them.
    p!.kill('cmp1');
    p!.kill('cmp2');
    const held = await waitForStatus(socket, (s) => s.alarms.some((a) => a.kind === 'mass_failure'), bound + 5000);
    expect(held.ok).toBe(true);
    expect(held.snap!.recentEvents.filter((e) => e.type === 'host.failed')).toEqual([]);
    const ack = cli('ack-mass-failure', 'cmp1', '--socket', socket);
    expect(ack.code, ack.stderr).toBe(0);
    expect(ack.stdout).toMatch(/mass failure acknowledged: cmp1 will be declared failed/);
    expect(ack.stdout).toMatch(/still held \(not acknowledged\): cmp2/);
    const failed = await waitForStatus(socket, (s) => hostState(s, 'cmp1') === 'failed', 5000);
    expect(failed.ok).toBe(true);
    await new Promise((r) => setTimeout(r, 1000));
    const s = await status(socket);
    expect(hostState(s, 'cmp2')).toBe('suspect');
    expect(s!.alarms.find((a) => a.kind === 'mass_failure')?.message).toMatch(/cmp2/);
    const cleared = s!.recentEvents.find((e) => e.type === 'cluster.mass_failure_cleared');
    expect(cleared).toMatchObject({ how: 'acknowledged', hosts: ['cmp1'] });
  }, 60_000);

  it('maintenance of an unknown host is refused naming it; --force registers it; forget removes it', async () => {
    const socket = await guarded(['cmp1', 'cmp2']);
    const typo = cli('maintenance', 'compute-99', 'on', '--socket', socket);
    expect(typo.code).toBe(1);
    expect(typo.stderr).toMatch(/unknown host 'compute-99'.*--force/);
    expect((await status(socket))!.hosts.map((h) => h.host)).toEqual(['cmp1', 'cmp2']);
    const forced = cli('maintenance', 'compute-99', 'on', '--force', '--socket', socket);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toMatch(/registered/);
    expect(hostState(await status(socket), 'compute-99')).toBe('maintenance');
    const forget = cli('forget', 'compute-99', '--socket', socket);
    expect(forget.code, forget.stderr).toBe(0);
    expect(forget.stderr).toBe('');
    const after = await status(socket);
    expect(after!.hosts.map((h) => h.host)).toEqual(['cmp1', 'cmp2']);
    expect(after!.alarms).toEqual([]);
    const again = cli('forget', 'compute-99', '--socket', socket);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/unknown host 'compute-99'/);
    // A configured host can be forgotten, with a warning that the config brings it back on restart.
    const configured = cli('forget', 'cmp2', '--socket', socket);
    expect(configured.code).toBe(0);
    expect(configured.stderr).toMatch(/listed under hosts:/);
  }, 60_000);

  it('forget asked of one monitor is carried to the others: every monitor forgets the host', async () => {
    ops = await startOpsCluster({ monitors: 3, hosts: ['cmp1', 'cmp2'], fencing: false });
    const [m1, m2, m3] = ops.layout.monitors.map((m) => m.socket) as [string, string, string];
    expect(cli('maintenance', 'cmp-old', 'on', '--force', '--socket', m2).code).toBe(0);
    for (const socket of [m1, m2, m3])
      expect((await waitForStatus(socket, (s) => hostState(s, 'cmp-old') === 'maintenance', 5000)).ok, socket).toBe(true);
    const forget = cli('forget', 'cmp-old', '--socket', m3);
    expect(forget.code, forget.stderr).toBe(0);
    for (const socket of [m1, m2, m3])
      expect((await waitForStatus(socket, (s) => !s.hosts.some((h) => h.host === 'cmp-old'), 5000)).ok, socket).toBe(true);
    // And it stays forgotten: no peer brings it back with its old mark.
    await new Promise((r) => setTimeout(r, 2000));
    for (const socket of [m1, m2, m3]) expect(hostState(await status(socket), 'cmp-old'), socket).toBeUndefined();
    // A command only the coordinator takes, asked of another monitor, says which monitor to ask and where.
    const snap = (await status(m1))!;
    const coordinator = snap.cluster.members.find((m) => m.id === snap.cluster.coordinator)!;
    const other = ops.layout.monitors.find((m) => m.id !== coordinator.id)!;
    const ack = cli('ack-mass-failure', '--socket', other.socket);
    expect(ack.code).toBe(1);
    expect(ack.stderr).toContain(`this monitor (${other.id}) is not the acting coordinator`);
    expect(ack.stderr).toContain(`run it on the coordinator, ${coordinator.id}`);
    expect(ack.stderr).toContain(`${coordinator.id} listens at ${coordinator.address}`);
  }, 60_000);

  it('confirm-fenced: only with the host name typed again, only for fence_failed; then fenced, confirmed by the operator', async () => {
    ops = await startOpsCluster({ monitors: 1, hosts: ['cmp1', 'cmp2'], unfenceable: ['cmp2'] });
    const socket = ops.layout.monitors[0]!.socket;
    const notFailed = cli('confirm-fenced', 'cmp1', '--yes-i-checked', 'cmp1', '--socket', socket);
    expect(notFailed.code).toBe(1);
    expect(notFailed.stderr).toMatch(/cmp1 is not decided failed/);
    ops.p.kill('cmp2');
    const stuck = await waitForStatus(socket, (s) => hostState(s, 'cmp2') === 'fence_failed', 15_000);
    expect(stuck.ok).toBe(true);
    const noTty = cli('confirm-fenced', 'cmp2', '--socket', socket);
    expect(noTty.code).toBe(64);
    expect(noTty.stderr).toMatch(/--yes-i-checked cmp2/);
    const wrong = cli('confirm-fenced', 'cmp2', '--yes-i-checked', 'cmp1', '--socket', socket);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/not confirmed/);
    expect(hostState(await status(socket), 'cmp2')).toBe('fence_failed');
    const ok = cli('confirm-fenced', 'cmp2', '--yes-i-checked', 'cmp2', '--socket', socket);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/cmp2: confirmed powered off by/);
    const s = await status(socket);
    const h = s!.hosts.find((x) => x.host === 'cmp2')!;
    expect(h.state).toBe('fenced');
    expect(h.fence).toMatchObject({ ok: true, confirmedBy: expect.any(String) });
    const history = await getJson<{ entries: Array<{ event: { type: string; host?: string; record?: { confirmedBy?: string } } }> }>(
      `${ops.api.mon1}/api/history?host=cmp2`,
    );
    const fenced = history.body.entries.find((e) => e.event.type === 'host.fenced');
    expect(fenced?.event.record?.confirmedBy).toBe(h.fence && (h.fence as { confirmedBy: string }).confirmedBy);
  }, 60_000);
});
