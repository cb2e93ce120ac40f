import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusSnapshot } from '../../src/core/status-snapshot.js';
import { ensureBuilt } from '../helpers/build.js';
import { daemonLogMessages } from '../helpers/logs.js';
import { getJson, startOpsCluster, type OpsCluster } from '../helpers/ops-cluster.js';
import { CLI, hostState, waitForStatus } from '../helpers/processes.js';
import { REQUIRE_SERVICES } from '../helpers/require.js';
import { Outbox } from '../../src/notify/outbox.js';
import { notificationAlarms } from '../../src/cli/notify-wiring.js';
import { silentLogger } from '../../src/log.js';

/**
 * A monitor whose state directory is a small tmpfs, filled up while a host dies: the alarm shows in
 * `instance-ha status` (exit 1) and the status API, the fence waits for its decision to reach the
 * disk (across a restart), runs once when space is freed, and the host is never fenced twice.
 */
function canMountTmpfs(): string | null {
  const probe = mkdtempSync(join(tmpdir(), 'iha-tmpfs-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], { stdio: 'pipe' });
    execFileSync('umount', [probe], { stdio: 'pipe' });
    return null;
  } catch (err) {
    return (err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message;
  } finally {
    rmdirSync(probe);
  }
}

const whyNot = canMountTmpfs();
if (whyNot) {
  const msg = `state-disk-full: cannot mount a tmpfs here (${whyNot}; needs root or CAP_SYS_ADMIN)`;
  if (REQUIRE_SERVICES) throw new Error(`${msg}; INSTANCE_HA_REQUIRE_SERVICES=1 forbids skipping`);
  console.warn(`SKIP ${msg}`);
}

let c: OpsCluster;
let mounted: string | null = null;
const filler = (): string => join(c.layout.monitors[0]!.stateDir, 'filler');
const statusCli = (): { code: number | null; out: string } => {
  const r = spawnSync(process.execPath, [CLI, 'status', '--socket', c.layout.monitors[0]!.socket], { encoding: 'utf8', timeout: 10_000 });
  return { code: r.status, out: r.stdout + r.stderr };
};
const kinds = (s: StatusSnapshot | null): string[] => s?.alarms.map((a) => a.kind) ?? [];
/** Successful fences, from every incarnation's log (each started under its own name). */
const fencesDone = (names: string[]): number =>
  names.flatMap((n) => daemonLogMessages(join(c.p.dir, `${n}.log`))).filter((m) => m === 'host fenced').length;

describe.runIf(!whyNot)('the state directory fills up (tmpfs)', () => {
  beforeAll(async () => {
    ensureBuilt();
    c = await startOpsCluster({
      monitors: 1,
      hosts: ['cmp1', 'cmp2', 'cmp3', 'cmp4'],
      beforeStart: (layout) => {
        const dir = layout.monitors[0]!.stateDir;
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0700', 'tmpfs', dir]);
        mounted = dir;
      },
    });
  }, 90_000);

  afterAll(async () => {
    // The monitor holds files on the tmpfs: stop it before unmounting, then remove the rest.
    await c?.p.killAll();
    if (mounted) {
      const u = spawnSync('umount', [mounted], { encoding: 'utf8' });
      if (u.status !== 0) console.warn(`umount ${mounted}: ${u.stderr}`);
      if (u.status !== 0) spawnSync('umount', ['-l', mounted]);
    }
    await c?.p.cleanup();
    // The cluster never came up (startOpsCluster cleaned up what it could): remove the rest.
    if (mounted && !c) rmSync(dirname(mounted), { recursive: true, force: true });
  });

  it('alarms, holds the fence across a restart, fences once when space is freed, and not again after another restart', async () => {
    const m = c.layout.monitors[0]!;
    // Fill the disk: dd stops at ENOSPC (non-zero exit, expected).
    spawnSync('dd', ['if=/dev/zero', `of=${filler()}`, 'bs=64k'], { stdio: 'ignore' });
    c.p.kill('cmp1');
    const held = await waitForStatus(m.socket, (s) => kinds(s).includes('action_held'), 20_000);
    expect(held.ok, JSON.stringify(held.snap?.alarms)).toBe(true);
    expect(kinds(held.snap)).toContain('state_write_failed');
    expect(held.snap!.alarms.find((a) => a.kind === 'action_held')!.message).toMatch(/^fencing cmp1: waits for the state write/);
    expect(held.snap!.alarms.find((a) => a.kind === 'state_write_failed')!.message).toContain('ENOSPC');
    expect(readFileSync(c.powerFile('cmp1'), 'utf8').trim(), 'no fence before its decision is on disk').toBe('on');
    // What an operator sees: `status` exits 1 naming the alarm; the status API carries it too.
    const cli = statusCli();
    expect(cli.code).toBe(1);
    expect(cli.out).toContain('state_write_failed');
    expect(cli.out).toContain('fencing cmp1: waits for the state write');
    const api = await getJson<StatusSnapshot>(`${c.api.mon1}/api/status`);
    expect(kinds(api.body)).toEqual(expect.arrayContaining(['state_write_failed', 'action_held']));
    const metrics = await (await fetch(c.metrics.mon1!)).text();
    expect(metrics).toMatch(/instance_ha_alarms\{kind="state_write_failed"\} 1/);

    // Restarted while the disk is still full: the decision was never written, and nothing acted on it.
    c.p.kill('mon1');
    await new Promise((r) => c.p.children.get('mon1')!.once('exit', r));
    c.p.start('mon1-2', ['monitor', '--config', m.config]);
    const heldAgain = await waitForStatus(m.socket, (s) => kinds(s).includes('action_held'), 20_000);
    expect(heldAgain.ok, JSON.stringify(heldAgain.snap?.alarms)).toBe(true);
    expect(readFileSync(c.powerFile('cmp1'), 'utf8').trim()).toBe('on');

    // Space freed: the retry (every second) writes the state, the alarm clears, the fence runs once.
    rmSync(filler());
    const fenced = await waitForStatus(m.socket, (s) => hostState(s, 'cmp1') === 'fenced' && kinds(s).length === 0, 20_000);
    expect(fenced.ok, JSON.stringify({ host: fenced.snap?.hosts.find((h) => h.host === 'cmp1'), alarms: fenced.snap?.alarms })).toBe(true);
    expect(readFileSync(c.powerFile('cmp1'), 'utf8').trim()).toBe('off');
    expect(statusCli().code).toBe(0);
    expect(JSON.parse(readFileSync(join(m.stateDir, 'monitor-state.json'), 'utf8'))).toMatchObject({
      format: 1,
      decisions: [expect.objectContaining({ host: 'cmp1', state: 'fenced' })],
    });

    // Another restart: the decision is on disk and carried on, not made again. Were cmp1 fenced a
    // second time, fence_fake would turn this back to off.
    writeFileSync(c.powerFile('cmp1'), 'on\n');
    c.p.kill('mon1-2', 'SIGTERM');
    await new Promise((r) => c.p.children.get('mon1-2')!.once('exit', r));
    c.p.start('mon1-3', ['monitor', '--config', m.config]);
    const back = await waitForStatus(m.socket, (s) => s.cluster.coordinator !== null && hostState(s, 'cmp1') === 'fenced', 20_000);
    expect(back.ok, JSON.stringify({ cluster: back.snap?.cluster, hosts: back.snap?.hosts.map((h) => [h.host, h.state]) })).toBe(true);
    // Longer than the detection bound at these settings (200 ms beacons): a new decision would be made by now.
    await new Promise((r) => setTimeout(r, 5000));
    expect(readFileSync(c.powerFile('cmp1'), 'utf8').trim()).toBe('on');
    expect(fencesDone(['mon1', 'mon1-2', 'mon1-3'])).toBe(1);
    const history = daemonLogMessages(join(c.p.dir, 'mon1-3.log'));
    expect(history.filter((msg) => msg === 'host.failed')).toEqual([]);
  }, 120_000);
});

describe.runIf(!whyNot)('the notification outbox on a full disk (tmpfs)', () => {
  let dir: string | null = null;
  afterAll(() => {
    if (!dir) return;
    spawnSync('umount', [dir]).status === 0 || spawnSync('umount', ['-l', dir]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('raises outbox_write_failed, keeps the notifications in memory, and writes them once space is freed', async () => {
    dir = mkdtempSync(join(tmpdir(), 'iha-outbox-full-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', dir]);
    const box = await Outbox.open({ dir: join(dir, 'outbox'), limits: { maxRecords: 1000, maxBytes: 1 << 20 }, log: silentLogger() });
    spawnSync('dd', ['if=/dev/zero', `of=${join(dir, 'filler')}`, 'bs=4k'], { stdio: 'ignore' });
    for (let i = 0; i < 5; i++) expect(box.enqueue({ id: `id-${i}`, priority: 'INFO', body: 'x'.repeat(2000) }).ok).toBe(true);
    await expect.poll(() => box.stats().writeFailure?.error ?? '', { timeout: 5000 }).toContain('ENOSPC');
    expect(box.peek(10)).toEqual([]); // not durable, so not sendable
    const status = {
      ...{ state: 'running' as const, broker: { url: 'amqp://x', exchange: 'e', connected: true }, backlog: 5, backlogBytes: 0 },
      ...{ full: false, refused: 0, corruptSkipped: 0, writeFailure: box.stats().writeFailure, confirmed: 0 },
      ...{ lastConfirmedAt: null, lastError: null, lastErrorAt: null },
    };
    expect(notificationAlarms(status).map((a) => a.kind)).toEqual(['outbox_write_failed']);
    rmSync(join(dir, 'filler'));
    await box.flushed();
    expect(box.stats().writeFailure).toBeNull();
    expect(box.peek(10).map((r) => r.id)).toEqual(['id-0', 'id-1', 'id-2', 'id-3', 'id-4']);
    await box.close();
  });
});
