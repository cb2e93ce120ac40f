import { afterEach, describe, expect, it } from 'vitest';
import type { StatusSnapshot } from '../../src/core/status-snapshot.js';
import { silentLogger } from '../../src/log.js';
import { MonitorMetrics } from '../../src/metrics/metrics.js';
import { MetricsServer } from '../../src/metrics/server.js';

const snap = {
  cluster: { quorate: true, votes: 3, needed: 2, coordinator: 'm1', acting: true, members: [] },
  hosts: [],
  alarms: [],
  counters: { received: 0, accepted: 0, dropped: {} },
} as unknown as StatusSnapshot;

let server: MetricsServer | null = null;
afterEach(() => server?.stop());

describe('metrics with a bearer token (what the config requires off loopback)', () => {
  it('refuses /metrics without the token or with a wrong one, serves it with the token', async () => {
    const token = 'metrics-token-0123456789';
    server = new MetricsServer(
      { host: '127.0.0.1', port: 0 },
      new MonitorMetrics({ snapshot: () => snap, processMetrics: false }),
      silentLogger(),
      token,
    );
    const a = await server.start();
    const url = `http://127.0.0.1:${a.port}/metrics`;
    const bare = await fetch(url);
    expect(bare.status).toBe(401);
    expect(bare.headers.get('www-authenticate')).toBe('Bearer');
    expect((await fetch(url, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    const ok = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('instance_ha_');
  });

  it('without a token (loopback only, by config) serves as before', async () => {
    server = new MetricsServer(
      { host: '127.0.0.1', port: 0 },
      new MonitorMetrics({ snapshot: () => snap, processMetrics: false }),
      silentLogger(),
    );
    const a = await server.start();
    expect((await fetch(`http://127.0.0.1:${a.port}/metrics`)).status).toBe(200);
  });
});
