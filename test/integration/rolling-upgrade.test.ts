import { readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { StatusSnapshot } from '../../src/core/status-snapshot.js';
import { currentProtocol, otherBuild, type OtherBuild } from '../helpers/other-build.js';
import { exitOf, hostState, status, waitForStatus } from '../helpers/processes.js';
import { startRecoveryCluster, type RecoveryCluster } from '../helpers/recovery-cluster.js';

/**
 * Rolling upgrades (issue #15 item 4, docs/operations.md "Rolling upgrades"), on real processes:
 * three monitors restarted one at a time onto the next release (this build with its protocol minor
 * bumped, and a view entry kind this build does not know), a compute host failing mid-upgrade; and
 * an incompatible release (another major, a newer state format) refused plainly, then rolled back.
 */
const hosts = ['compute-1', 'compute-2', 'compute-3'];
const victim = 'compute-1';
let c: RecoveryCluster | undefined;
const builds: OtherBuild[] = [];

afterEach(async () => {
  await c?.stop();
  c = undefined;
  for (const b of builds.splice(0)) b.remove();
});

/** Every monitor counted, a coordinator named, and every live host heard within the last 2 s. */
function healthy(live: readonly string[]) {
  return (s: StatusSnapshot): boolean =>
    s.cluster.votes === 3 &&
    s.cluster.coordinator !== null &&
    live.every((h) => {
      const x = s.hosts.find((y) => y.host === h);
      return x?.state === 'up' && x.lastHeartbeatAgeMs !== null && x.lastHeartbeatAgeMs < 2000;
    });
}

/** systemctl stop: SIGTERM to whichever process runs monitor `id`, and wait for its exit. */
async function stopMonitor(cl: RecoveryCluster, id: string): Promise<void> {
  const child = [...cl.p.children.entries()].find(([n, ch]) => n.split('@')[0] === id && ch.exitCode === null && ch.signalCode === null);
  if (!child) return;
  cl.p.kill(child[0], 'SIGTERM');
  await exitOf(child[1], 10_000);
}

/** Restarted onto another build: stopped, then the other main.js started on the same config and state. */
async function restartOnto(cl: RecoveryCluster, id: string, cli: string, name: string): Promise<void> {
  await stopMonitor(cl, id);
  const m = cl.layout.monitors.find((x) => x.id === id)!;
  cl.p.start(`${id}@${name}`, ['monitor', '--config', m.config], {}, cli);
}

/** The victim's host.failed events in every monitor's history (each records what it emitted). */
function declarations(cl: RecoveryCluster): string[] {
  return cl.layout.monitors.flatMap((m) => {
    let text = '';
    try {
      text = readFileSync(join(m.stateDir, 'history.jsonl'), 'utf8');
    } catch {
      return [];
    }
    return text
      .split('\n')
      .filter((l) => l.includes('"host.failed"') && l.includes(`"${victim}"`))
      .map((l) => `${m.id}: ${l}`);
  });
}

describe('rolling upgrade', () => {
  it('three monitors restarted one at a time onto a newer minor: hosts stay watched, a host failing mid-upgrade is fenced and recovered once', async () => {
    const { major, minor } = currentProtocol();
    const next = otherBuild({ version: '99.0.0-next', protocolMinor: minor + 1, unknownViewEntry: true });
    builds.push(next);
    const offs = new Map<string, number>();
    c = await startRecoveryCluster({
      hosts,
      victim,
      servers: 4,
      onPower: (h, s) => s === 'off' && offs.set(h, (offs.get(h) ?? 0) + 1),
    });
    const cl = c;
    const live = hosts.filter((h) => h !== victim);
    // The coordinator last, as docs/operations.md says: one coordinator change for the whole upgrade.
    const order = [...cl.layout.monitors].sort((a, b) => Number(a.id === cl.coordinator) - Number(b.id === cl.coordinator));

    // 1. One monitor on the next release, two on this one.
    await restartOnto(cl, order[0]!.id, next.cli, 'next');
    let w = await waitForStatus(order[0]!.socket, healthy(hosts), 15_000);
    expect(w.ok, `upgraded ${order[0]!.id}: ${JSON.stringify(w.snap?.cluster)}`).toBe(true);
    for (const m of order.slice(1)) expect((await status(m.socket))!.counters.dropped.malformed, `${m.id} reads the newer minor`).toBe(0);

    // 2. A compute host dies with the cluster mixed.
    cl.p.kill(victim);
    cl.sim.model.killCompute(victim);
    w = await waitForStatus(order[0]!.socket, (s) => ['recovering', 'evacuated'].includes(hostState(s, victim) ?? ''), 30_000);
    expect(w.ok, `the upgraded monitor learns the fence: ${hostState(w.snap, victim)}`).toBe(true);

    // 3. The second monitor, while the recovery runs on the coordinator (still this release).
    await restartOnto(cl, order[1]!.id, next.cli, 'next');
    w = await waitForStatus(order[1]!.socket, (s) => healthy(live)(s) && hostState(s, victim) === 'evacuated', 40_000);
    expect(w.ok, `recovered, seen from ${order[1]!.id}: ${JSON.stringify(w.snap?.hosts)}`).toBe(true);

    // 4. The coordinator last: whoever acts next (a peer, or the same monitor back on the next
    // release with the state file this one wrote) takes over the decisions in a new epoch.
    const epochBefore = (await status(order[1]!.socket))!.cluster.epoch;
    await restartOnto(cl, order[2]!.id, next.cli, 'next');
    for (const m of order) {
      w = await waitForStatus(m.socket, (s) => healthy(live)(s) && s.cluster.epoch > epochBefore, 15_000);
      expect(w.ok, `${m.id} after the upgrade: ${JSON.stringify(w.snap?.cluster)}`).toBe(true);
      expect(hostState(w.snap, victim)).toBe('evacuated');
    }
    // A successor that had lost the decision would declare the silent host again within seconds.
    await new Promise((r) => setTimeout(r, 4000));
    for (const m of order) {
      const s = (await status(m.socket))!;
      expect(hostState(s, victim), `${m.id}`).toBe('evacuated');
      expect(s.monitor.version, `${m.id} runs the next release`).toBe('99.0.0-next');
      expect(s.counters.dropped.malformed + s.counters.dropped.incompatible, `${m.id} drops nothing of its peers`).toBe(0);
    }

    // Fenced once (at the BMC), each tagged server evacuated once, nothing else touched.
    expect(Object.fromEntries(offs)).toEqual({ [victim]: 1 });
    const servers = [...cl.sim.model.servers.values()];
    for (const s of servers.filter((x) => x.tags.includes('automatic-recovery'))) {
      expect(cl.sim.model.evacuateAccepted.get(s.id) ?? 0, `${s.name} accepted evacuations`).toBe(1);
      expect(s.status).toBe('ACTIVE');
    }
    for (const s of servers.filter((x) => !x.tags.includes('automatic-recovery')))
      expect(cl.sim.model.evacuateCalls.get(s.id) ?? 0).toBe(0);
    // Declared failed once, by one coordinator, in the whole cluster's history.
    expect(declarations(cl)).toHaveLength(1);
    expect(major).toBeGreaterThan(0);
  }, 180_000);

  it('a monitor of another major is refused plainly, its newer state file too; the documented rollback works', async () => {
    const { major, minor } = currentProtocol();
    const incompatible = otherBuild({ version: '99.0.0-major', protocolMajor: major + 1, protocolMinor: 0, stateFormat: 99 });
    builds.push(incompatible);
    c = await startRecoveryCluster({ hosts, victim, servers: 2 });
    const cl = c;
    const [odd, ...rest] = [...cl.layout.monitors].sort((a, b) => Number(a.id === cl.coordinator) - Number(b.id === cl.coordinator));
    await restartOnto(cl, odd!.id, incompatible.cli, 'major');

    // The two on this release keep quorum and the coordinator, and say why they do not count it.
    for (const m of rest) {
      const w = await waitForStatus(
        m.socket,
        (s) => s.counters.dropped.incompatible > 0 && s.cluster.votes === 2 && s.cluster.coordinator !== null,
        15_000,
      );
      expect(w.ok, `${m.id}: ${JSON.stringify(w.snap?.cluster)} ${JSON.stringify(w.snap?.counters.dropped)}`).toBe(true);
      const alarm = w.snap!.alarms.find((a) => a.kind === 'peer_incompatible');
      expect(alarm?.message, `${m.id}: ${JSON.stringify(w.snap!.alarms)}`).toContain(
        `speaks protocol ${major + 1}.0, this one ${major}.${minor}`,
      );
      const log = readFileSync(join(cl.p.dir, `${m.id}.log`), 'utf8');
      expect(log).toContain('monitor datagram of another protocol major dropped');
      expect(log).toContain(`protocol ${major + 1}.0`);
      expect(log).toContain(`${major}.${minor}`);
    }
    // Nor does it crash: it runs on, alone, without quorum (declaring nothing).
    const w = await waitForStatus(odd!.socket, (s) => s.counters.dropped.incompatible > 0 && s.cluster.votes === 1, 15_000);
    expect(w.ok, JSON.stringify(w.snap?.cluster)).toBe(true);
    expect(w.snap!.cluster.coordinator).toBeNull();

    // Rolled back onto this release: its state file, written in format 99, is refused, not misread.
    await stopMonitor(cl, odd!.id);
    const stateFile = join(odd!.stateDir, 'monitor-state.json');
    expect(JSON.parse(readFileSync(stateFile, 'utf8')).format).toBe(99);
    const back = cl.p.start(`${odd!.id}@back`, ['monitor', '--config', odd!.config]);
    await exitOf(back, 15_000);
    expect(back.exitCode).toBe(65);
    const refused = readFileSync(join(cl.p.dir, `${odd!.id}@back.log`), 'utf8');
    expect(refused).toContain(`${stateFile}: written by instance-ha state format 99, this build reads up to format 1`);
    expect(refused).toContain('docs/operations.md');

    // The documented way back: with the others holding quorum, move the state aside and start.
    renameSync(stateFile, `${stateFile}.from-99.0.0`);
    cl.p.start(`${odd!.id}@again`, ['monitor', '--config', odd!.config]);
    const again = await waitForStatus(odd!.socket, healthy(hosts), 15_000);
    expect(again.ok, JSON.stringify(again.snap?.cluster)).toBe(true);
  }, 180_000);
});
