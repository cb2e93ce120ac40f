import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readHistory } from '../../src/status-api/history-file.js';
import { ensureBuilt } from '../helpers/build.js';
import { startOpsCluster, type OpsCluster } from '../helpers/ops-cluster.js';
import { daemonLogMessages } from '../helpers/logs.js';
import { hostState, waitForStatus } from '../helpers/processes.js';

/**
 * SIGTERM while a fence is in flight: the monitor lets the fence agent finish (within its grace),
 * records the outcome, and only then exits 0 — the power-off is neither cut short nor lost.
 */
let c: OpsCluster;

describe('SIGTERM during an in-flight fence', () => {
  beforeAll(async () => {
    ensureBuilt();
    c = await startOpsCluster({ monitors: 1, hosts: ['cmp1', 'cmp2'], fenceDelaySeconds: 2 });
  }, 60_000);
  afterAll(() => c?.p.cleanup());

  it('waits for the fence to finish, journals host.fenced, then exits 0', async () => {
    const m = c.layout.monitors[0]!;
    c.p.kill('cmp1');
    const fencing = await waitForStatus(m.socket, (s) => hostState(s, 'cmp1') === 'fencing', 15_000);
    expect(fencing.ok).toBe(true);
    const child = c.p.children.get('mon1')!;
    // The power state at the moment the monitor exits: the fence must have finished by then.
    const power = (): string => readFileSync(c.powerFile('cmp1'), 'utf8').trim();
    const exited = new Promise<{ code: number | null; power: string }>((r) => child.once('exit', (code) => r({ code, power: power() })));
    c.p.kill('mon1', 'SIGTERM');
    expect(await exited).toEqual({ code: 0, power: 'off' });
    // In its log, in this order: the signal, a wait for the fence in flight, the fence's success;
    // and no grace running out (fence_fake's 2 s delay is well within it) nor a second signal.
    const messages = (): string[] => daemonLogMessages(join(c.p.dir, 'mon1.log'));
    await expect.poll(messages, { timeout: 5000 }).toContain('host fenced'); // the log is written behind the exit
    const msgs = messages();
    const steps = ['stopping', 'waiting for in-flight work before stopping', 'host fenced'].map((m) => msgs.indexOf(m));
    expect(
      steps.every((i) => i >= 0),
      msgs.slice(-10).join(' | '),
    ).toBe(true);
    expect(steps).toEqual([...steps].sort((a, b) => a - b));
    expect(msgs.filter((m) => m.startsWith('grace over') || m.startsWith('second signal'))).toEqual([]);
    const types = readHistory(m.stateDir, { host: 'cmp1' }).map((e) => e.event.type);
    expect(types.slice(-2)).toEqual(['host.fencing', 'host.fenced']);
    // And the decision is on disk for whoever coordinates next.
    expect(readFileSync(join(m.stateDir, 'monitor-state.json'), 'utf8')).toContain('fenced');
  });
});
