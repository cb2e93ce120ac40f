import { createServer, type Server } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { writeClusterFiles } from '../../src/testbed/demo/cluster-files.js';
import { clusterBasePort } from '../helpers/ports.js';
import { Processes, waitForStatus } from '../helpers/processes.js';

/**
 * A real monitor whose status API port is already taken (another service, a typo in status_api.listen):
 * it watches hosts regardless, and `instance-ha status`, which reads the control socket, shows
 * listener_not_started with the address, so the failure is not only a line in the journal.
 */
let p: Processes | undefined;
let taken: Server | undefined;
afterAll(async () => {
  await p?.cleanup();
  taken?.close();
});

describe('a monitor whose status API cannot bind', () => {
  it('runs, and its status shows listener_not_started naming the address', async () => {
    taken = createServer();
    await new Promise<void>((r) => taken!.listen(0, '127.0.0.1', r));
    const port = (taken.address() as { port: number }).port;
    p = new Processes();
    const layout = writeClusterFiles(p.dir, {
      monitors: 1,
      hosts: ['cmp1'],
      basePort: await clusterBasePort(1),
      monitorExtra: () => ({ status_api: { listen: `127.0.0.1:${port}` } }),
    });
    p.start('mon1', ['monitor', '--config', layout.monitors[0]!.config]);
    p.start('cmp1', ['beacon', '--config', layout.hosts[0]!.config]);
    const seen = await waitForStatus(
      layout.monitors[0]!.socket,
      (s) => s.hosts.some((h) => h.host === 'cmp1' && h.state === 'up') && s.alarms.some((a) => a.kind === 'listener_not_started'),
      20_000,
    );
    expect(seen.ok, JSON.stringify(seen.snap?.alarms)).toBe(true);
    const alarm = seen.snap!.alarms.find((a) => a.kind === 'listener_not_started')!;
    expect(alarm.message).toContain(`status API not started: cannot bind 127.0.0.1:${port}`);
  });
});
