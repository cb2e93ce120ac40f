import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { StatusSnapshot } from '../../src/core/status-snapshot.js';
import { silentLogger } from '../../src/log.js';
import { createMonitorOps, type MonitorOps } from '../../src/ops/monitor-ops.js';

/**
 * A status API or metrics port already taken (another monitor on the machine, a typo) must not stop
 * the monitor, and must not be only a log line either: it is an alarm the other surfaces show.
 */
const snap = {
  cluster: { quorate: true, votes: 1, needed: 1, coordinator: 'm1', acting: true, members: [] },
  hosts: [],
  alarms: [],
  counters: { received: 0, accepted: 0, dropped: {} },
} as unknown as StatusSnapshot;

let ops: MonitorOps | null = null;
let taken: Server | null = null;
let dir = '';
afterEach(() => {
  ops?.stop();
  taken?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('an operator endpoint that cannot bind', () => {
  it('starts the others, and raises listener_not_started naming the endpoint and its address', async () => {
    taken = createServer();
    await new Promise<void>((r) => taken!.listen(0, '127.0.0.1', r));
    const port = (taken.address() as { port: number }).port;
    dir = mkdtempSync(join(tmpdir(), 'iha-ops-'));
    ops = createMonitorOps(
      {
        id: 'm1',
        stateDir: dir,
        ops: {
          statusApi: { enabled: true, listen: { host: '127.0.0.1', port }, token: null, tls: null, historyMaxBytes: 1 << 20 },
          metrics: { enabled: true, listen: { host: '127.0.0.1', port: 0 }, token: null },
        },
      },
      silentLogger(),
    );
    expect(ops.alarms()).toEqual([]);
    const bound = await ops.start(() => snap);
    expect(bound.statusApi).toBeNull();
    expect(bound.metrics).toMatch(/^127\.0\.0\.1:\d+$/);
    const alarms = ops.alarms();
    expect(alarms).toHaveLength(1);
    expect(alarms[0]).toMatchObject({ kind: 'listener_not_started' });
    expect(alarms[0]!.message).toMatch(new RegExp(`^status API not started: cannot bind 127\\.0\\.0\\.1:${port} \\(.*EADDRINUSE`));
    // The endpoint that did bind serves, and counts the alarm kind (at 0 here: the snapshot is the test's).
    const text = await (await fetch(`http://${bound.metrics}/metrics`)).text();
    expect(text).toContain('instance_ha_alarms{kind="listener_not_started"} 0');
  });
});
