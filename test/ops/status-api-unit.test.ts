import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { readMonitorConfig } from '../../src/daemon/monitor-config.js';
import type { ClusterEvent } from '../../src/core/events.js';
import type { StatusSnapshot } from '../../src/core/status-snapshot.js';
import { ConfigError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { MonitorMetrics } from '../../src/metrics/metrics.js';
import { EventJournal } from '../../src/status-api/event-journal.js';
import { parseSince, readHistory, readHistoryAsync } from '../../src/status-api/history-file.js';
import { scrubSecrets } from '../../src/status-api/scrub.js';
import { StatusApiServer } from '../../src/status-api/server.js';

const BASE = `id: m1\nmonitors: [{ id: m1, address: 127.0.0.1:7400 }]\nmonitor_key: ${'k'.repeat(32)}\nbeacon_master_key: ${'b'.repeat(32)}\n`;
const read = (extra: string): ReturnType<typeof readMonitorConfig> => parseConfig(BASE + extra, 'monitor.yaml', readMonitorConfig);
const problems = (extra: string): string[] => {
  try {
    read(extra);
    return [];
  } catch (err) {
    return (err as ConfigError).message
      .split('\n')
      .slice(1)
      .map((l) => l.trim());
  }
};

describe('status_api / metrics config', () => {
  it('defaults to loopback on both', () => {
    const c = read('');
    expect(c.ops.statusApi).toMatchObject({ enabled: true, listen: { host: '127.0.0.1', port: 7411 }, token: null });
    expect(c.ops.metrics).toMatchObject({ enabled: true, listen: { host: '127.0.0.1', port: 9411 } });
  });

  it('refuses a non-loopback status API without a token, accepts it with one', () => {
    expect(problems('status_api: { listen: 0.0.0.0:7411 }').join('\n')).toMatch(
      /status_api\.listen.*not a loopback address: set token_file/,
    );
    expect(read(`status_api: { listen: 0.0.0.0:7411, token: ${'t'.repeat(20)} }`).ops.statusApi.token).toBe('t'.repeat(20));
    expect(problems('status_api: { listen: "[::1]:7411" }')).toEqual([]);
  });

  it('reports unknown keys and bad addresses', () => {
    expect(problems('metrics: { listn: 1 }').join('\n')).toMatch(/metrics\.listn.*not a known setting/);
    expect(problems('metrics: { listen: nowhere }').join('\n')).toMatch(/metrics\.listen.*host:port/);
  });
});

describe('scrubSecrets', () => {
  it('drops secret-named fields at any depth, keeps identifiers', () => {
    const out = scrubSecrets({
      a: { password: 'x', passwd: 'y', token: 'z', clusterKey: 'k', cluster_key: 'k', apiToken: 't', bootId: 'b', routingKey: 'r' },
      list: [{ secret: 's', host: 'h' }],
    });
    expect(out).toEqual({ a: { bootId: 'b', routingKey: 'r' }, list: [{ host: 'h' }] });
  });
});

describe('event journal and history file', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'iha-journal-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const ev = (host: string, type: 'host.suspect' | 'host.failed' = 'host.suspect'): ClusterEvent =>
    type === 'host.suspect' ? { type, at: 1, host, silentMs: 1000 } : { type, at: 1, host, bootId: 'b', votes: ['m1'], lastHeardAt: 0 };

  it('numbers events, appends them to history.jsonl, and survives a torn last line', () => {
    let t = Date.parse('2026-11-21T03:00:00Z');
    const j = new EventJournal({ monitorId: 'm1', stateDir: dir, log: silentLogger(), wallNow: () => (t += 1000) });
    j.publish(ev('a'));
    j.publish(ev('b'));
    j.publish({ type: 'cluster.mass_failure', at: 1, hosts: ['a', 'c'], limit: 'max_failed_hosts' });
    expect(j.since(1).map((e) => e.seq)).toEqual([2, 3]);
    writeFileSync(join(dir, 'history.jsonl'), readFileSync(join(dir, 'history.jsonl'), 'utf8') + '{"seq":4,"ti');
    expect(readHistory(dir).map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(readHistory(dir, { host: 'a' }).map((e) => e.seq)).toEqual([1, 3]);
    expect(readHistory(dir, { sinceMs: Date.parse('2026-11-21T03:00:02Z') }).map((e) => e.seq)).toEqual([2, 3]);
  });

  it('reads the same entries streamed (as the status API does), newest kept under a limit', async () => {
    expect((await readHistoryAsync(dir)).map((e) => e.seq)).toEqual([1, 2, 3]);
    expect((await readHistoryAsync(dir, { host: 'a' })).map((e) => e.seq)).toEqual([1, 3]);
    expect((await readHistoryAsync(dir, { limit: 2 })).map((e) => e.seq)).toEqual([2, 3]);
    expect(await readHistoryAsync(dir, { host: 'zz' })).toEqual([]);
  });

  it('rotates at max size, and reads the rotated file first', () => {
    const d2 = mkdtempSync(join(tmpdir(), 'iha-journal-'));
    try {
      const j = new EventJournal({ monitorId: 'm1', stateDir: d2, log: silentLogger(), maxBytes: 400 });
      for (let i = 0; i < 6; i++) j.publish(ev(`h${i}`));
      expect(readFileSync(join(d2, 'history.jsonl.1'), 'utf8').length).toBeGreaterThan(0);
      expect(
        readHistory(d2)
          .map((e) => e.seq)
          .slice(-3),
      ).toEqual([4, 5, 6]);
    } finally {
      rmSync(d2, { recursive: true, force: true });
    }
  });

  it('wakes a waiter on the next event, or times out empty', async () => {
    const j = new EventJournal({ monitorId: 'm1', stateDir: null, log: silentLogger() });
    const w = j.wait(0, 5000);
    setTimeout(() => j.publish(ev('x')), 20);
    expect((await w).map((e) => e.event.type)).toEqual(['host.suspect']);
    expect(await j.wait(1, 30)).toEqual([]);
  });

  it('parses --since as a duration or an ISO time', () => {
    const now = Date.parse('2026-11-21T12:00:00Z');
    expect(parseSince('2h', now)).toBe(now - 7_200_000);
    expect(parseSince('90s', now)).toBe(now - 90_000);
    expect(parseSince('2026-11-21T03:00:00Z', now)).toBe(Date.parse('2026-11-21T03:00:00Z'));
    expect(parseSince('yesterday', now)).toBeUndefined();
    // Date.parse alone reads '-1' as the year 1 BC: it meant "everything" in /api/history.
    expect(parseSince('-1', now)).toBeUndefined();
    expect(parseSince('2026-11-21', now)).toBe(Date.parse('2026-11-21'));
  });
});

describe('status API with a bearer token', () => {
  const token = 'a-long-enough-test-token';
  let srv: StatusApiServer;
  let base: string;
  beforeAll(async () => {
    const journal = new EventJournal({ monitorId: 'm1', stateDir: null, log: silentLogger() });
    srv = new StatusApiServer({
      listen: { host: '127.0.0.1', port: 0 },
      token,
      snapshot: () => ({ hosts: [], fence: { password: 'leak' } }),
      journal,
      stateDir: null,
      log: silentLogger(),
    });
    const a = await srv.start();
    base = `http://127.0.0.1:${a.port}`;
  });
  afterAll(() => srv.stop());

  it('refuses /api/* without the token or with a wrong one, serves with it, never echoes secrets', async () => {
    expect((await fetch(`${base}/api/status`)).status).toBe(401);
    expect((await fetch(`${base}/api/status`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    const ok = await fetch(`${base}/api/status`, { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ hosts: [], fence: {}, hostCounts: {}, hostsTotal: 0, hostsTruncated: false });
    // The page itself carries no data and loads without the token (it asks for it in #token=).
    expect((await fetch(`${base}/`)).status).toBe(200);
    expect((await fetch(`${base}/`)).headers.get('content-security-policy')).toContain("default-src 'self'");
  });
});

describe('metrics sink', () => {
  const snap = {
    cluster: { quorate: true, votes: 3, needed: 2, coordinator: 'm1', acting: true, members: [] },
    hosts: [{ state: 'up' }, { state: 'fenced' }],
    alarms: [{ kind: 'fence_failed' }],
    counters: {
      received: 7,
      accepted: 4,
      dropped: { oversized: 0, malformed: 0, bad_mac: 2, replay: 0, clock_skew: 1, unknown_sender: 0, forged: 0, incompatible: 0 },
      sent: 9,
      sendErrors: 0,
    },
  } as unknown as StatusSnapshot;
  it('turns events into detection, fencing and evacuation metrics without tenant labels', async () => {
    const m = new MonitorMetrics({
      snapshot: () => snap,
      processMetrics: false,
      notifier: () => ({ published: 5, confirmed: 4, outboxDepth: 1, connected: false }),
      clockOffset: () => ({ sender: 'cmp-9', offsetMs: -12_500 }),
    });
    const server = { id: 's1', name: 'tenant-db', projectId: 'p-secret', userId: 'u', tags: [], host: 'c1' };
    m.publish({ type: 'host.failed', at: 12_500, host: 'c1', bootId: 'b', votes: [], lastHeardAt: 10_000 });
    m.publish({
      type: 'host.fenced',
      at: 1,
      host: 'c1',
      record: { ok: true, level: 1, agent: '/opt/agents/fence_ipmi', durationMs: 800, attempts: [], by: 'm1' },
    });
    m.publish({
      type: 'host.fence_failed',
      at: 1,
      host: 'c2',
      record: {
        ok: false,
        durationMs: 30_000,
        attempts: [{ level: 1, device: 'd', agent: 'fence_apc', action: 'off', exitCode: 1, ok: false, durationMs: 30_000 }],
        by: 'm1',
      },
      retryInMs: 1000,
    });
    m.publish({ type: 'instance.evacuate_end', at: 1, host: 'c1', server, targetHost: 'c3', durationMs: 12_000 });
    m.publish({ type: 'instance.evacuate_error', at: 1, host: 'c1', server, reason: 'x', attempt: 3, final: true });
    const text = await m.text();
    expect(text).toContain('instance_ha_detection_latency_seconds_bucket{le="2.5"} 1');
    expect(text).toContain('instance_ha_detection_latency_seconds_bucket{le="2"} 0');
    expect(text).toContain('instance_ha_fence_total{agent="fence_ipmi",outcome="success"} 1');
    expect(text).toContain('instance_ha_fence_total{agent="fence_apc",outcome="failure"} 1');
    expect(text).toContain('instance_ha_evacuations_total{outcome="success"} 1');
    expect(text).toContain('instance_ha_evacuations_total{outcome="error"} 1');
    expect(text).toContain('instance_ha_evacuation_duration_seconds_sum 12');
    expect(text).toContain('instance_ha_hosts{state="fenced"} 1');
    expect(text).toContain('instance_ha_hosts{state="suspect"} 0');
    expect(text).toContain('instance_ha_alarms{kind="fence_failed"} 1');
    // Counts since start are counters (`_total`); what is now is a gauge (Prometheus conventions).
    expect(text).toContain('# TYPE instance_ha_notifications_published_total counter\ninstance_ha_notifications_published_total 5');
    expect(text).toContain('# TYPE instance_ha_notifications_confirmed_total counter\ninstance_ha_notifications_confirmed_total 4');
    expect(text).toContain('# TYPE instance_ha_notification_outbox_depth gauge\ninstance_ha_notification_outbox_depth 1');
    expect(text).toContain('instance_ha_notification_broker_connected 0');
    expect(text).toContain('# TYPE instance_ha_datagrams_received_total counter\ninstance_ha_datagrams_received_total 7');
    expect(text).toContain('instance_ha_datagrams_accepted_total 4');
    expect(text).toContain('instance_ha_datagrams_dropped_total{reason="bad_mac"} 2');
    expect(text).toContain('instance_ha_datagrams_dropped_total{reason="clock_skew"} 1');
    expect(text).toContain('instance_ha_datagrams_dropped_total{reason="replay"} 0');
    expect(text).toContain('instance_ha_datagrams_sent_total 9');
    expect(text).toContain('instance_ha_datagram_send_errors_total 0');
    expect(text).toContain('instance_ha_clock_offset_max_seconds{sender="cmp-9"} -12.5');
    expect(text).toMatch(/^instance_ha_build_info\{version="\d+\.\d+\.\d+[^"]*",nodejs="\d+\.\d+\.\d+"\} 1$/m);
    // Alarm kinds and the event types the alert rules count are there at 0 before they happen.
    expect(text).toContain('instance_ha_alarms{kind="state_write_failed"} 0');
    expect(text).toContain('instance_ha_events_total{type="cluster.coordinator_changed"} 0');
    // No count is held in a gauge any more.
    for (const m of text.matchAll(/^# TYPE (\S+) gauge$/gm)) expect(m[1]).not.toMatch(/_total$|datagrams|published|confirmed/);
    expect(text).toContain('instance_ha_events_total{type="host.failed"} 1');
    for (const leak of ['tenant-db', 'p-secret', 's1']) expect(text).not.toContain(leak);
  });
});
