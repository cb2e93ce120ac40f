import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { NovaServicePoller, SERVICE_POLL_ALARM_AFTER } from '../../src/openstack/service-poller.js';
import { startNovaSim, type NovaSim } from '../../src/testbed/nova-sim/server.js';
import { simClient } from '../helpers/sim-client.js';

/** Nova's view of the compute services for `status`: read from the real simulator, cached, failures counted. */
let sim: NovaSim | null = null;
afterEach(async () => {
  await sim?.stop();
  sim = null;
});

describe('NovaServicePoller', () => {
  it("reads every nova-compute service in one call: a fenced host is down, forced_down, disabled with Nova's reason", async () => {
    sim = await startNovaSim({ hosts: ['c1', 'c2'] });
    const { compute } = simClient(sim);
    await compute.setForcedDown('c2', true);
    await compute.setServiceEnabled('c2', false, 'instance-ha: fenced by mon1');
    let calls = 0;
    const p = new NovaServicePoller({ list: (signal) => (calls++, compute.listComputeServices(signal)), log: silentLogger() });
    await p.poll();
    const s = p.status();
    expect(calls).toBe(1);
    expect(s.polledAt).not.toBeNull();
    expect(s.services.c1).toMatchObject({ state: 'up', status: 'enabled', forcedDown: false });
    expect(s.services.c2).toMatchObject({
      state: 'down',
      status: 'disabled',
      forcedDown: true,
      disabledReason: 'instance-ha: fenced by mon1',
    });
    // Reading the status is free: it never calls Nova.
    for (let i = 0; i < 100; i++) p.status();
    expect(calls).toBe(1);
  });

  it('keeps the last view when Nova stops answering, and raises an alarm only after several polls in a row fail', async () => {
    let fail = false;
    const p = new NovaServicePoller({
      list: async () => {
        if (fail) throw new Error('connect ECONNREFUSED 127.0.0.1:8774');
        return [{ id: '1', host: 'c1', binary: 'nova-compute', status: 'enabled', state: 'up', forcedDown: false, disabledReason: null }];
      },
      log: silentLogger(),
    });
    await p.poll();
    fail = true;
    for (let i = 1; i < SERVICE_POLL_ALARM_AFTER; i++) await p.poll();
    expect(p.alarms()).toEqual([]);
    expect(p.status()).toMatchObject({ error: 'connect ECONNREFUSED 127.0.0.1:8774', services: { c1: { state: 'up' } } });
    await p.poll();
    expect(p.alarms()).toEqual([expect.objectContaining({ kind: 'compute_services_unreadable' })]);
    expect(p.alarms()[0]!.message).toContain('ECONNREFUSED');
    fail = false;
    await p.poll();
    expect(p.alarms()).toEqual([]);
    expect(p.status().error).toBeNull();
  });

  it('abandons a poll Nova does not answer within its timeout', async () => {
    const p = new NovaServicePoller({
      list: (signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')))),
      log: silentLogger(),
      timeoutMs: 50,
    });
    await p.poll();
    expect(p.status().error).toMatch(/did not answer within/);
    expect(p.status().failures).toBe(1);
  });
});
