import { execFileSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterEvent } from '../../src/core/events.js';
import type { StatusSnapshot } from '../../src/core/status-snapshot.js';
import { startOpsCluster, type OpsCluster } from '../helpers/ops-cluster.js';
import { writeClusterFiles } from '../../src/testbed/demo/cluster-files.js';
import { clusterBasePort } from '../helpers/ports.js';
import { CLI, Processes, exitOf, status, waitForStatus } from '../helpers/processes.js';

/**
 * Both keys rolled on a running cluster of three monitors and three beacons, by the procedure of
 * docs/operations.md ("Rotating the keys"), one process restarted at a time: no host is suspected
 * (let alone declared failed) at any point, and status shows which key each host seals with.
 */
const hosts = ['cmp1', 'cmp2', 'cmp3'];
let c: OpsCluster;
const events: ClusterEvent[] = [];

const cli = (...args: string[]): string => execFileSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

function editYaml(file: string, edit: (doc: Record<string, unknown>) => void): void {
  const doc = parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  edit(doc);
  writeFileSync(file, stringify(doc));
}

const settled = (s: StatusSnapshot): boolean =>
  s.cluster.quorate &&
  s.cluster.votes === 3 &&
  s.hosts.length === hosts.length &&
  s.hosts.every((h) => h.state === 'up' && h.lastHeartbeatAgeMs !== null && h.lastHeartbeatAgeMs < 1000);

async function collect(socket: string): Promise<void> {
  const s = await status(socket);
  for (const e of s?.recentEvents ?? []) if (!events.some((x) => JSON.stringify(x) === JSON.stringify(e))) events.push(e);
}

async function restart(name: string, args: string[], socket: string): Promise<void> {
  await collect(socket);
  c.p.kill(name, 'SIGTERM');
  await exitOf(c.p.children.get(name)!, 15_000);
  c.p.start(name, args);
  for (const m of c.layout.monitors) {
    const ok = await waitForStatus(m.socket, settled, 15_000);
    expect(ok.ok, `${m.id} after restarting ${name}: ${JSON.stringify(ok.snap?.hosts)} ${JSON.stringify(ok.snap?.cluster)}`).toBe(true);
  }
}

async function rollMonitors(edit: (doc: Record<string, unknown>) => void): Promise<void> {
  for (const m of c.layout.monitors) {
    editYaml(m.config, edit);
    await restart(m.id, ['monitor', '--config', m.config], m.socket);
  }
}

async function keysOfHosts(): Promise<string[]> {
  const s = (await status(c.layout.monitors[0]!.socket))!;
  return s.hosts.map((h) => `${h.host}:${h.sealedWith}`);
}

describe('key rotation on a running cluster', () => {
  beforeAll(async () => {
    c = await startOpsCluster({ monitors: 3, hosts, beaconIntervalMs: 500, fencing: false });
  });
  afterAll(async () => {
    await c?.p.cleanup();
  });

  it('rolls the monitor key and the master beacon key with no host suspected', async () => {
    const dir = c.p.dir;
    const m2 = join(dir, 'monitor-2.key');
    const b2 = join(dir, 'beacon-master-2.key');
    cli('keys', 'generate', '--out', m2);
    cli('keys', 'generate', '--out', b2);
    expect(statSync(m2).mode & 0o777).toBe(0o600);
    expect(await keysOfHosts()).toEqual(['cmp1:current', 'cmp2:current', 'cmp3:current']);

    // 1. Every monitor accepts the next keys too (still sealing with the current one).
    await rollMonitors((d) => {
      d.monitor_key_next_file = m2;
      d.beacon_master_key_next_file = b2;
    });
    // 2. Every monitor seals with the next monitor key (both still accepted everywhere).
    await rollMonitors((d) => {
      d.monitor_key_seal = 'next';
    });
    const mid = (await status(c.layout.monitors[0]!.socket))!;
    expect(mid.keys).toMatchObject({ sealsWith: 'next', accepts: ['current', 'next'], monitorsSealing: { mon2: 'next', mon3: 'next' } });
    // 3. Each beacon gets its key derived from the next master key, and switches to it on reload.
    for (const h of c.layout.hosts) {
      const file = join(dir, `host-${h.name}-2.key`);
      cli('keys', 'host', h.name, '--next', '--config', c.layout.monitors[0]!.config, '--out', file);
      editYaml(h.config, (d) => {
        d.host_key_file = file;
      });
      // SIGHUP (systemctl reload): the beacon seals with the new key from its next heartbeat, no gap.
      c.p.kill(h.name, 'SIGHUP');
      for (const m of c.layout.monitors) {
        const ok = await waitForStatus(
          m.socket,
          (s) => settled(s) && s.hosts.find((x) => x.host === h.name)?.sealedWith === 'next',
          10_000,
        );
        expect(ok.ok, `${m.id} sees ${h.name} on the next key: ${JSON.stringify(ok.snap?.hosts)}`).toBe(true);
      }
    }
    expect(await keysOfHosts()).toEqual(['cmp1:next', 'cmp2:next', 'cmp3:next']);
    // 4. The next keys become the current ones; the old ones are accepted no more.
    await rollMonitors((d) => {
      d.monitor_key_file = m2;
      d.beacon_master_key_file = b2;
      delete d.monitor_key_next_file;
      delete d.beacon_master_key_next_file;
      delete d.monitor_key_seal;
    });
    for (const m of c.layout.monitors) await collect(m.socket);
    expect(await keysOfHosts()).toEqual(['cmp1:current', 'cmp2:current', 'cmp3:current']);
    const end = (await status(c.layout.monitors[0]!.socket))!;
    expect(end.keys).toMatchObject({ sealsWith: 'current', accepts: ['current'], legacyAccepted: false });
    expect(end.counters.dropped.forged).toBe(0);

    const trouble = events.filter((e) => e.type === 'host.suspect' || e.type === 'host.failed');
    expect(trouble).toEqual([]);
  }, 240_000);
});

describe('a cluster still configured with the one cluster_key', () => {
  it('keeps working with a loud warning, and moves to the new keys by the documented steps with no host suspected', async () => {
    const p = new Processes('iha-legacy-');
    try {
      const layout = writeClusterFiles(p.dir, { monitors: 1, hosts: ['cmp1'], basePort: await clusterBasePort(1), legacyClusterKey: true });
      const mon = layout.monitors[0]!;
      const host = layout.hosts[0]!;
      p.start(mon.id, ['monitor', '--config', mon.config]);
      p.start(host.name, ['beacon', '--config', host.config]);
      const up = (s: StatusSnapshot): boolean =>
        s.hosts.length === 1 && s.hosts[0]!.state === 'up' && s.hosts[0]!.lastHeartbeatAgeMs !== null;
      const old = await waitForStatus(mon.socket, (s) => up(s) && s.hosts[0]!.sealedWith === 'legacy', 15_000);
      expect(old.ok, JSON.stringify(old.snap?.hosts)).toBe(true);
      expect(old.snap!.alarms.find((a) => a.kind === 'legacy_cluster_key')?.message).toContain("'cluster_key' is deprecated");
      expect(old.snap!.keys).toMatchObject({ sealsWith: 'legacy', legacyAccepted: true });
      expect(readFileSync(join(p.dir, `${mon.id}.log`), 'utf8')).toContain('CONFIGURATION WARNING');
      expect(readFileSync(join(p.dir, `${host.name}.log`), 'utf8')).toContain('CONFIGURATION WARNING');
      const seen: ClusterEvent[] = [...old.snap!.recentEvents];
      const restartMonitor = async (): Promise<void> => {
        seen.push(...((await status(mon.socket))?.recentEvents ?? []));
        p.kill(mon.id, 'SIGTERM');
        await exitOf(p.children.get(mon.id)!, 15_000);
        p.start(mon.id, ['monitor', '--config', mon.config]);
        expect((await waitForStatus(mon.socket, up, 15_000)).ok).toBe(true);
      };
      // 1. Monitors: the new keys beside the old one, still sealing with the old one.
      editYaml(mon.config, (d) => {
        d.monitor_key_file = layout.monitorKeyFile;
        d.beacon_master_key_file = layout.beaconMasterKeyFile;
        d.monitor_key_seal = 'legacy';
      });
      await restartMonitor();
      // 2. Monitors seal with the monitor key.
      editYaml(mon.config, (d) => void delete d.monitor_key_seal);
      await restartMonitor();
      // 3. Each beacon: its own key in place of the cluster key, then reload.
      const hostKey = join(p.dir, 'cmp1-own.key');
      cli('keys', 'host', 'cmp1', '--config', mon.config, '--out', hostKey);
      editYaml(host.config, (d) => {
        delete d.cluster_key_file;
        d.host_key_file = hostKey;
      });
      p.kill(host.name, 'SIGHUP');
      expect((await waitForStatus(mon.socket, (s) => up(s) && s.hosts[0]!.sealedWith === 'current', 10_000)).ok).toBe(true);
      // 4. Monitors: the cluster key removed; the warning with it.
      editYaml(mon.config, (d) => void delete d.cluster_key_file);
      await restartMonitor();
      const end = (await status(mon.socket))!;
      seen.push(...end.recentEvents);
      expect(end.alarms.filter((a) => a.kind === 'legacy_cluster_key')).toEqual([]);
      expect(end.keys).toMatchObject({ sealsWith: 'current', accepts: ['current'], legacyAccepted: false });
      expect(seen.filter((e) => e.type === 'host.suspect' || e.type === 'host.failed')).toEqual([]);
    } finally {
      await p.cleanup();
    }
  }, 120_000);
});
