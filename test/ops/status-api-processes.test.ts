import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusSnapshot } from '../../src/core/status-snapshot.js';
import type { JournalEntry } from '../../src/status-api/event-journal.js';
import { isSecretName } from '../../src/status-api/scrub.js';
import { ensureBuilt } from '../helpers/build.js';
import { getJson, startOpsCluster, type OpsCluster } from '../helpers/ops-cluster.js';
import { daemonLogMessages } from '../helpers/logs.js';
import { CLI, hostState, waitForStatus } from '../helpers/processes.js';

/**
 * The status API, history and metrics of real monitors: three monitors, three beacons, fencing
 * through fence_fake. A beacon is killed; the API's long poll wakes with the failure, the host is
 * fenced, and the history, the `history` command and /metrics all tell the same story.
 */
const run = promisify(execFile);
let c: OpsCluster;

function secretKeys(v: unknown, path = ''): string[] {
  if (Array.isArray(v)) return v.flatMap((x, i) => secretKeys(x, `${path}[${i}]`));
  if (v === null || typeof v !== 'object') return [];
  return Object.entries(v as Record<string, unknown>).flatMap(([k, x]) => [
    ...(isSecretName(k) ? [`${path}.${k}`] : []),
    ...secretKeys(x, `${path}.${k}`),
  ]);
}

function metricValue(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line ? Number(line.split(' ').pop()) : undefined;
}

describe('status API, history and metrics on real processes', () => {
  beforeAll(async () => {
    ensureBuilt();
    c = await startOpsCluster({ monitors: 3, hosts: ['cmp1', 'cmp2', 'cmp3'] });
  }, 60_000);
  afterAll(() => c?.p.cleanup());

  it('serves the snapshot on loopback, without secrets, and refuses writes', async () => {
    const { status, body } = await getJson<StatusSnapshot>(`${c.api.mon1}/api/status`);
    expect(status).toBe(200);
    expect(body.monitor.id).toBe('mon1');
    expect(body.hosts.map((h) => h.host)).toEqual(['cmp1', 'cmp2', 'cmp3']);
    expect(secretKeys(body)).toEqual([]);
    for (const f of [c.layout.monitorKeyFile, c.layout.beaconMasterKeyFile, c.layout.hosts[0]!.keyFile])
      expect(JSON.stringify(body)).not.toContain(readFileSync(f, 'utf8').trim());
    const post = await fetch(`${c.api.mon1}/api/status`, { method: 'POST' });
    expect(post.status).toBe(405);
    const page = await fetch(`${c.api.mon1}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('/dashboard.js');
  });

  it('wakes a long poll with the failure, fences, and journals every step', async () => {
    const coord = (await getJson<StatusSnapshot>(`${c.api.mon1}/api/status`)).body.cluster.coordinator!;
    const first = await getJson<{ lastSeq: number }>(`${c.api[coord]}/api/events?since=0`);
    const poll = getJson<{ lastSeq: number; events: JournalEntry[] }>(`${c.api[coord]}/api/events?since=${first.body.lastSeq}&wait=20000`);
    const killedAt = Date.now();
    c.p.kill('cmp2');
    const woke = await poll;
    // Woken by the failure, not by the wait running out (which answers with no events).
    expect(woke.body.events.length).toBeGreaterThan(0);
    expect(woke.body.events[0]!.event).toMatchObject({ host: 'cmp2' });
    expect(woke.body.events[0]!.seq).toBe(first.body.lastSeq + 1);

    const sock = c.layout.monitors.find((m) => m.id === coord)!.socket;
    const res = await waitForStatus(sock, (s) => hostState(s, 'cmp2') === 'fenced', 20_000);
    expect(res.ok).toBe(true);
    expect(readFileSync(c.powerFile('cmp2'), 'utf8').trim()).toBe('off');

    // The history (API and file) has the decisions in order, for this host only.
    const h = await getJson<{ entries: JournalEntry[] }>(`${c.api[coord]}/api/history?host=cmp2`);
    const types = h.body.entries.map((e) => e.event.type);
    expect(types).toContain('host.failed');
    expect(types.indexOf('host.fencing')).toBeGreaterThan(types.indexOf('host.failed'));
    expect(types.indexOf('host.fenced')).toBeGreaterThan(types.indexOf('host.fencing'));
    expect(h.body.entries.every((e) => (e.event as { host?: string }).host === 'cmp2')).toBe(true);
    const stateDir = c.layout.monitors.find((m) => m.id === coord)!.stateDir;
    expect(existsSync(join(stateDir, 'history.jsonl'))).toBe(true);
    const fenced = h.body.entries.find((e) => e.event.type === 'host.fenced')!;
    expect(Date.parse(fenced.time)).toBeGreaterThanOrEqual(killedAt); // this incident's, not an older one
    const future = await getJson<{ entries: JournalEntry[] }>(
      `${c.api[coord]}/api/history?host=cmp2&since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`,
    );
    expect(future.body.entries).toEqual([]);
  });

  it('`instance-ha history HOST` prints the journal through the API and from the state dir', async () => {
    const coord = (await getJson<StatusSnapshot>(`${c.api.mon1}/api/status`)).body.cluster.coordinator!;
    const m = c.layout.monitors.find((x) => x.id === coord)!;
    const viaApi = await run(process.execPath, [CLI, 'history', 'cmp2', '--since', '10m', '--config', m.config]);
    const lines = viaApi.stdout.trim().split('\n');
    expect(lines.some((l) => /host\.failed\s+cmp2/.test(l))).toBe(true);
    expect(lines.some((l) => /host\.fenced\s+cmp2 .*record=ok\/level 1\/fence_fake/.test(l))).toBe(true);
    expect(lines.every((l) => l.includes('cmp2'))).toBe(true);
    const viaFile = await run(process.execPath, [CLI, 'history', 'cmp2', '--state-dir', m.stateDir, '--json']);
    const entries = viaFile.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as JournalEntry);
    expect(entries.map((e) => e.event.type)).toContain('host.fenced');
    const none = await run(process.execPath, [CLI, 'history', 'cmp1', '--state-dir', m.stateDir]);
    expect(none.stdout).toMatch(/no events for cmp1/);
  });

  it('exposes hosts by state, detection latency, fence outcome by agent, quorum and process metrics', async () => {
    const coord = (await getJson<StatusSnapshot>(`${c.api.mon1}/api/status`)).body.cluster.coordinator!;
    const text = await (await fetch(c.metrics[coord]!)).text();
    expect(metricValue(text, 'instance_ha_hosts', 'state="fenced"')).toBe(1);
    expect(metricValue(text, 'instance_ha_hosts', 'state="up"')).toBe(2);
    expect(metricValue(text, 'instance_ha_quorate')).toBe(1);
    expect(metricValue(text, 'instance_ha_acting')).toBe(1);
    expect(metricValue(text, 'instance_ha_coordinator', `monitor="${coord}"`)).toBe(1);
    expect(metricValue(text, 'instance_ha_fence_total', 'agent="fence_fake",outcome="success"')).toBe(1);
    expect(metricValue(text, 'instance_ha_detection_latency_seconds_count')).toBe(1);
    // 200 ms beacons: declared well within 5 s of the last heartbeat.
    expect(metricValue(text, 'instance_ha_detection_latency_seconds_bucket', 'le="5"')).toBe(1);
    expect(text).toMatch(/^instance_ha_process_resident_memory_bytes \d+/m);
    expect(text).not.toContain('cluster_key');
  });

  it('leaves cleanly on SIGTERM with exit code 0 (monitor and beacon)', async () => {
    for (const name of ['mon3', 'cmp1']) {
      const child = c.p.children.get(name)!;
      const exited = new Promise<{ code: number | null; signal: string | null }>((r) =>
        child.once('exit', (code, signal) => r({ code, signal })),
      );
      c.p.kill(name, 'SIGTERM');
      const res = await exited;
      expect(res, name).toEqual({ code: 0, signal: null });
      // It left on the signal at once: nothing in flight to wait for, no grace running out.
      const log = join(c.p.dir, `${name}.log`);
      await expect.poll(() => daemonLogMessages(log), { timeout: 5000 }).toContain('stopping');
      expect(
        daemonLogMessages(log).filter((m) => /^(waiting for in-flight work|grace over|second signal)/.test(m)),
        name,
      ).toEqual([]);
    }
    // The control socket is removed on the way out.
    expect(existsSync(c.layout.monitors[2]!.socket)).toBe(false);
  });
});
