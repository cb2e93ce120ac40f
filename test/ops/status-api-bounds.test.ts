import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterEvent } from '../../src/core/events.js';
import type { StatusSnapshot } from '../../src/core/status-snapshot.js';
import { silentLogger } from '../../src/log.js';
import { MetricsServer } from '../../src/metrics/server.js';
import { MonitorMetrics } from '../../src/metrics/metrics.js';
import { EventJournal } from '../../src/status-api/event-journal.js';
import { API_LIMITS, HTTP_LIMITS } from '../../src/status-api/limits.js';
import { StatusApiServer } from '../../src/status-api/server.js';

/**
 * The status API's bounds on a real loopback socket: every query parameter validated (400 naming
 * it), long polls counted and capped, hosts paged, /api/status capped, connections capped, and the
 * live event feed never skipping an event published while an answer is being written.
 */
type Host = StatusSnapshot['hosts'][number];
const mkHost = (name: string, state: Host['state']): Host => ({
  host: name,
  state,
  localLevel: state === 'up' ? 'up' : 'dead',
  maintenance: false,
  lastHeartbeatAgeMs: 100,
  bootId: 'b',
  novaCompute: 'up',
  lossPct: 0,
  deadAfterMs: 1600,
  decisionSinceMs: null,
  fence: null,
});
let hosts: Host[] = [];
const snapshot = (): StatusSnapshot =>
  ({ cluster: { quorate: true }, hosts, alarms: [], recentEvents: [], counters: {} }) as unknown as StatusSnapshot;
const ev = (host: string): ClusterEvent => ({ type: 'host.suspect', at: 1, host, silentMs: 1 });

let journal: EventJournal;
let srv: StatusApiServer;
let base: string;
beforeAll(async () => {
  journal = new EventJournal({ monitorId: 'm1', stateDir: null, log: silentLogger() });
  srv = new StatusApiServer({
    listen: { host: '127.0.0.1', port: 0 },
    token: null,
    snapshot,
    journal,
    stateDir: null,
    log: silentLogger(),
  });
  const a = await srv.start();
  base = `http://127.0.0.1:${a.port}`;
});
afterAll(() => srv.stop());

const get = async (path: string): Promise<{ status: number; body: Record<string, unknown> }> => {
  const r = await fetch(base + path);
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
};

describe('status API query parameters', () => {
  it.each([
    ['/api/history?since=-1', 'since'],
    ['/api/history?since=yesterday', 'since'],
    ['/api/history?limit=0', 'limit'],
    ['/api/history?limit=10001', 'limit'],
    ['/api/history?limit=abc', 'limit'],
    ['/api/history?host=../../etc/passwd', 'host'],
    ['/api/history?hosts=cmp1', 'hosts'],
    ['/api/history?limit=5&limit=6', 'limit'],
    ['/api/events?since=-1', 'since'],
    ['/api/events?since=1.5', 'since'],
    ['/api/events?wait=30001', 'wait'],
    ['/api/events?wait=-5', 'wait'],
    ['/api/status?x=1', 'x'],
    ['/api/hosts?limit=1001', 'limit'],
    ['/api/hosts?offset=-1', 'offset'],
    ['/api/hosts?state=Up%20or%201', 'state'],
  ])('%s is a 400 naming %s', async (path, parameter) => {
    const r = await get(path);
    expect(r.status).toBe(400);
    expect(r.body.parameter).toBe(parameter);
    expect(String(r.body.error)).toContain(parameter);
  });

  it('accepts the documented forms', async () => {
    for (const p of [
      '/api/history?since=2h',
      '/api/history?since=2026-11-21T03:00:00Z&limit=10000',
      '/api/events?since=0&wait=0',
      '/api/hosts',
    ])
      expect((await get(p)).status, p).toBe(200);
  });
});

describe('hosts at scale', () => {
  it('pages /api/hosts by state, with counts over the whole cluster', async () => {
    hosts = [
      ...Array.from({ length: 30 }, (_, i) => mkHost(`cmp${String(i).padStart(3, '0')}`, 'suspect')),
      ...Array.from({ length: 70 }, (_, i) => mkHost(`up${String(i).padStart(3, '0')}`, 'up')),
    ];
    const p1 = await get('/api/hosts?state=suspect&limit=20');
    expect(p1.body.total).toBe(30);
    expect(p1.body.counts).toEqual({ suspect: 30, up: 70 });
    expect((p1.body.hosts as Host[]).map((h) => h.host)).toEqual(hosts.slice(0, 20).map((h) => h.host));
    expect(p1.body.next).toBe(20);
    const p2 = await get('/api/hosts?state=suspect&limit=20&offset=20');
    expect((p2.body.hosts as Host[]).length).toBe(10);
    expect(p2.body.next).toBeNull();
    expect(((await get('/api/hosts?host=up005')).body.hosts as Host[]).map((h) => h.host)).toEqual(['up005']);
    // No filter: the hosts needing attention first, capped at the default page.
    const all = await get('/api/hosts');
    expect((all.body.hosts as Host[]).length).toBe(API_LIMITS.hostsDefaultLimit);
    expect((all.body.hosts as Host[])[0]!.state).toBe('suspect');
  });

  it('caps the hosts in /api/status, not-up ones first, and says so', async () => {
    hosts = [
      ...Array.from({ length: 2000 }, (_, i) => mkHost(`up${String(i).padStart(5, '0')}`, 'up')),
      ...Array.from({ length: 10 }, (_, i) => mkHost(`zz${i}`, 'suspect')),
    ];
    await new Promise((r) => setTimeout(r, 300)); // past the 250 ms shared cache
    const s = await get('/api/status');
    expect((s.body.hosts as Host[]).length).toBe(API_LIMITS.statusMaxHosts);
    expect((s.body.hosts as Host[]).slice(0, 10).every((h) => h.state === 'suspect')).toBe(true);
    expect(s.body).toMatchObject({ hostsTotal: 2010, hostsTruncated: true, hostCounts: { up: 2000, suspect: 10 } });
  });
});

describe('long polls', () => {
  it('never skips an event published while the answer is being made (the live view lost rows)', async () => {
    const seen: number[] = [];
    let since = journal.lastSeq;
    const first = journal.lastSeq + 1;
    const poll = fetch(`${base}/api/events?since=${since}&wait=5000`).then(
      (r) => r.json() as Promise<{ lastSeq: number; events: Array<{ seq: number }> }>,
    );
    await new Promise((r) => setTimeout(r, 100));
    // A recovery publishes several events in one turn of the event loop, from promise callbacks.
    journal.publish(ev('a'));
    queueMicrotask(() => journal.publish(ev('b')));
    queueMicrotask(() => queueMicrotask(() => journal.publish(ev('c'))));
    const r1 = await poll;
    seen.push(...r1.events.map((e) => e.seq));
    since = r1.lastSeq;
    const r2 = (await (await fetch(`${base}/api/events?since=${since}&wait=0`)).json()) as { events: Array<{ seq: number }> };
    seen.push(...r2.events.map((e) => e.seq));
    expect(seen).toEqual([first, first + 1, first + 2]);
  });

  it(`holds at most ${API_LIMITS.maxLongPolls} long polls at once; the next is a 429`, async () => {
    const ctl = new AbortController();
    const held = Array.from({ length: API_LIMITS.maxLongPolls }, () =>
      fetch(`${base}/api/events?since=${journal.lastSeq}&wait=30000`, { signal: ctl.signal }).catch(() => null),
    );
    // Until the server holds them all (a loaded machine may take a while to connect 64 sockets).
    const heldNow = (): number => (srv as unknown as { longPolls: number }).longPolls;
    for (const end = Date.now() + 10_000; heldNow() < API_LIMITS.maxLongPolls && Date.now() < end;)
      await new Promise((r) => setTimeout(r, 50));
    expect(heldNow()).toBe(API_LIMITS.maxLongPolls);
    const over = await get(`/api/events?since=${journal.lastSeq}&wait=1000`);
    expect(over.status).toBe(429);
    expect(over.body.parameter).toBe('wait');
    // A poll that does not wait is still answered.
    expect((await get(`/api/events?since=0`)).status).toBe(200);
    ctl.abort();
    await Promise.all(held);
    await new Promise((r) => setTimeout(r, 200));
    expect((await get(`/api/events?since=${journal.lastSeq}&wait=10`)).status).toBe(200);
  });
});

/** Opens n raw TCP connections that send nothing; resolves with how many the server closed. */
async function idleSockets(port: number, n: number): Promise<{ closed: () => number; destroy: () => void }> {
  const socks: Socket[] = [];
  let closed = 0;
  await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<void>((resolve) => {
          const s = connect(port, '127.0.0.1', () => resolve());
          s.on('error', () => resolve());
          s.on('close', () => closed++);
          socks.push(s);
        }),
    ),
  );
  await new Promise((r) => setTimeout(r, 500));
  return { closed: () => closed, destroy: () => socks.forEach((s) => s.destroy()) };
}

describe('connection bounds', () => {
  it(`status API: at most ${HTTP_LIMITS.maxConnections} connections held; the rest closed at once`, async () => {
    const port = Number(new URL(base).port);
    const idle = await idleSockets(port, HTTP_LIMITS.maxConnections + 100);
    expect(idle.closed()).toBeGreaterThanOrEqual(100);
    idle.destroy();
    await new Promise((r) => setTimeout(r, 300));
    expect((await get('/api/hosts?limit=1')).status).toBe(200);
  });

  it('metrics: the same connection cap and request deadlines', async () => {
    const m = new MetricsServer(
      { host: '127.0.0.1', port: 0 },
      new MonitorMetrics({ snapshot, processMetrics: false, notifier: () => null }),
      silentLogger(),
    );
    const a = await m.start();
    try {
      const idle = await idleSockets(a.port, HTTP_LIMITS.maxConnections + 50);
      expect(idle.closed()).toBeGreaterThanOrEqual(50);
      idle.destroy();
      const server = (m as unknown as { server: import('node:http').Server }).server;
      expect(server.headersTimeout).toBe(HTTP_LIMITS.headersTimeoutMs);
      expect(server.requestTimeout).toBe(HTTP_LIMITS.requestTimeoutMs);
      expect(server.keepAliveTimeout).toBe(HTTP_LIMITS.keepAliveTimeoutMs);
      expect(server.timeout).toBe(HTTP_LIMITS.idleSocketTimeoutMs);
    } finally {
      m.stop();
    }
  });
});
