import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { startNovaSim, type NovaSim, type NovaSimOptions } from '../../src/testbed/nova-sim/server.js';
import type { FenceRecord } from '../../src/core/events.js';
import type { RecoveryConfig } from '../../src/recovery/config.js';
import { NovaRecoverer } from '../../src/recovery/workflow.js';
import { unfenceHost } from '../../src/recovery/unfence.js';
import { EventLog, fastRecoveryConfig, simClient } from '../helpers/sim-client.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const FENCE: FenceRecord = { ok: true, durationMs: 1, attempts: [], by: 'ctl1' };
const HOSTS = ['compute-1', 'compute-2', 'compute-3'];

const tempDir = tempDirs();
let sim: NovaSim | null = null;
afterEach(async () => {
  await sim?.stop();
  sim = null;
});

async function setup(opts: Partial<NovaSimOptions> = {}, cfg: Partial<RecoveryConfig> = {}, tagged = 4, untagged = 2) {
  const servers = [];
  for (let i = 1; i <= tagged + untagged; i++) {
    servers.push({ name: `vm-${i}`, host: 'compute-1', tags: i <= tagged ? ['automatic-recovery'] : [] });
  }
  sim = await startNovaSim({ hosts: HOSTS, servers, claimMs: 10, rebuildMs: 60, ...opts });
  sim.model.killCompute('compute-1');
  const events = new EventLog();
  const { compute } = simClient(sim);
  const journalDir = tempDir('iha-wf-');
  const recoverer = new NovaRecoverer({ compute, events, log: silentLogger(), cfg: fastRecoveryConfig(journalDir, cfg) });
  return { sim, events, compute, recoverer, journalDir };
}

function expectExactlyOnce(s: NovaSim, tagged: string[]): void {
  for (const srv of s.model.servers.values()) {
    if (tagged.includes(srv.name)) {
      expect(s.model.evacuateAccepted.get(srv.id), srv.name).toBe(1);
      expect(srv.host).not.toBe('compute-1');
      expect(srv.status).toBe('ACTIVE');
    } else {
      expect(s.model.evacuateCalls.get(srv.id) ?? 0, srv.name).toBe(0);
      expect(srv.host).toBe('compute-1');
    }
  }
}

describe('NovaRecoverer against the simulator', () => {
  it('forces down then disables, evacuates tagged servers, notifies the rest', async () => {
    const { sim, events, recoverer } = await setup();
    const summary = await recoverer.recover('compute-1', FENCE, new AbortController().signal);
    expect(summary).toEqual({ selected: 4, evacuated: 4, failed: 0, notified: 2 });
    const svc = sim.model.services.get('compute-1')!;
    expect(svc.forcedDown).toBe(true);
    expect(svc.status).toBe('disabled');
    expect(svc.disabledReason).toMatch(/^instance-ha: fenced by ctl1 at \d{4}-/);
    const puts = sim.requests.filter((r) => r.startsWith('PUT /compute/v2.1/os-services/'));
    expect(puts).toHaveLength(2); // forced_down first, then status (bodies checked by the model state)
    expectExactlyOnce(sim, ['vm-1', 'vm-2', 'vm-3', 'vm-4']);
    expect(events.ofType('instance.evacuate_end')).toHaveLength(4);
    expect(
      events
        .ofType('instance.not_selected')
        .map((e) => e.server.name)
        .sort(),
    ).toEqual(['vm-5', 'vm-6']);
    expect(events.ofType('instance.not_selected')[0]!.reason).toMatch(/not selected/);
  });

  it.each([['2.60'], ['2.40'], ['2.26']])('works on an older cloud (max microversion %s)', async (maxVersion) => {
    const { sim, recoverer } = await setup({ maxVersion }, {}, 2, 1);
    const s = await recoverer.recover('compute-1', FENCE, new AbortController().signal);
    expect(s).toEqual({ selected: 2, evacuated: 2, failed: 0, notified: 1 });
    expectExactlyOnce(sim, ['vm-1', 'vm-2']);
    if (maxVersion !== '2.60') expect(sim.requests).toContain('PUT /compute/v2.1/os-services/force-down');
  });

  it('refuses to recover a host whose fence was not verified', async () => {
    const { sim, recoverer } = await setup();
    const s = await recoverer.recover('compute-1', { ...FENCE, ok: false, error: 'bmc timeout' }, new AbortController().signal);
    expect(s.error).toBe('fence not verified');
    expect(sim.requests.some((r) => r.includes('os-services'))).toBe(false);
  });

  it('does not start without a writable journal: raises journal_write_failed, waits, and recovers once it can write', async () => {
    const { sim, compute, journalDir } = await setup();
    const notADir = join(journalDir, 'file');
    writeFileSync(notADir, '');
    const r = new NovaRecoverer({
      compute,
      events: new EventLog(),
      log: silentLogger(),
      cfg: fastRecoveryConfig(join(notADir, 'journal')),
    });
    const done = r.recover('compute-1', FENCE, new AbortController().signal);
    await expect.poll(() => r.alarms().map((a) => a.kind), { timeout: 5000 }).toEqual(['journal_write_failed']);
    expect(r.alarms()[0]!.message).toMatch(/^recovery of compute-1 waits: cannot write its journal .*file\/journal\/compute-1\.jsonl/);
    expect(sim.requests.some((q) => q.includes('os-services'))).toBe(false);
    // The disk is fixed: the retry (1 s, then 2 s) finds a writable journal and the recovery runs.
    rmSync(notADir);
    const s = await done;
    expect(s.error).toBeUndefined();
    expect(s.evacuated).toBe(4);
    expect(r.alarms()).toEqual([]);
  }, 20_000);

  it('stops waiting for the journal when the recovery is aborted (this monitor no longer acts)', async () => {
    const { compute, journalDir } = await setup();
    const notADir = join(journalDir, 'file');
    writeFileSync(notADir, '');
    const r = new NovaRecoverer({
      compute,
      events: new EventLog(),
      log: silentLogger(),
      cfg: fastRecoveryConfig(join(notADir, 'journal')),
    });
    const ac = new AbortController();
    const done = r.recover('compute-1', FENCE, ac.signal);
    await expect.poll(() => r.alarms().length, { timeout: 5000 }).toBe(1);
    ac.abort();
    expect((await done).error).toBe('aborted');
    expect(r.alarms()).toEqual([]);
  });

  it('host mode notify: force-down only, every server reported', async () => {
    const { sim, events, recoverer } = await setup({}, { hostModes: { 'compute-1': 'notify' } });
    const s = await recoverer.recover('compute-1', FENCE, new AbortController().signal);
    expect(s).toEqual({ selected: 0, evacuated: 0, failed: 0, notified: 6 });
    expect(sim.model.services.get('compute-1')!.forcedDown).toBe(true);
    expect([...sim.model.evacuateCalls.values()]).toEqual([]);
    const reasons = events
      .ofType('instance.not_selected')
      .map((e) => `${e.server.name}: ${e.reason}`)
      .sort();
    expect(reasons.filter((r) => /mode is notify/.test(r))).toHaveLength(4);
    expect(reasons.filter((r) => /not selected/.test(r))).toHaveLength(2);
  });

  it('bounds evacuations in flight and starts them in priority order', async () => {
    const { sim, events, recoverer } = await setup({ rebuildMs: 40 }, { maxInFlight: 2 }, 6, 0);
    const byName = new Map([...sim.model.servers.values()].map((s) => [s.name, s]));
    byName.get('vm-6')!.metadata['instance-ha:priority'] = '10';
    byName.get('vm-3')!.metadata['instance-ha:priority'] = '5';
    await recoverer.recover('compute-1', FENCE, new AbortController().signal);
    let open = 0;
    let peak = 0;
    for (const e of events.events) {
      if (e.type === 'instance.evacuate_start') peak = Math.max(peak, ++open);
      if (e.type === 'instance.evacuate_end') open--;
    }
    expect(peak).toBe(2);
    expect(events.ofType('instance.evacuate_start').map((e) => e.server.name)).toEqual(['vm-6', 'vm-3', 'vm-1', 'vm-2', 'vm-4', 'vm-5']);
  });

  it('sends evacuate requests in priority order even when many are ready at once', async () => {
    const { sim, events, recoverer } = await setup({}, { concurrency: 1, maxInFlight: 32 }, 8, 0);
    const byName = new Map([...sim.model.servers.values()].map((s) => [s.name, s]));
    byName.get('vm-8')!.metadata['instance-ha:priority'] = '9';
    byName.get('vm-5')!.metadata['instance-ha:priority'] = '3';
    sim.injectFault({ kind: 'delay', delayMs: 40, method: 'POST', path: '/action', count: 2 }); // slow answers queue the rest
    await recoverer.recover('compute-1', FENCE, new AbortController().signal);
    const posts = sim.requests
      .filter((r) => r.startsWith('POST') && r.endsWith('/action'))
      .map((r) => [...sim.model.servers.values()].find((s) => r.includes(s.id))!.name);
    expect(posts).toEqual(['vm-8', 'vm-5', 'vm-1', 'vm-2', 'vm-3', 'vm-4', 'vm-6', 'vm-7']);
    expect(events.ofType('instance.evacuate_end')).toHaveLength(8);
  });

  it('evacuates onto configured target hosts', async () => {
    const { sim, recoverer } = await setup({}, { targetHosts: ['compute-3'] });
    await recoverer.recover('compute-1', FENCE, new AbortController().signal);
    const moved = [...sim.model.servers.values()].filter((s) => s.tags.length);
    expect(moved.every((s) => s.host === 'compute-3')).toBe(true);
  });

  it('retries a failed rebuild (resetting the error state first), then gives up after max_attempts', async () => {
    const { sim, events, recoverer } = await setup({}, { maxAttempts: 2 }, 2, 0);
    const [a, b] = [...sim.model.servers.values()];
    sim.model.failRebuilds.set(a!.id, 1);
    sim.model.failRebuilds.set(b!.id, 5);
    const s = await recoverer.recover('compute-1', FENCE, new AbortController().signal);
    expect(s).toMatchObject({ selected: 2, evacuated: 1, failed: 1 });
    expect(sim.model.evacuateAccepted.get(a!.id)).toBe(2);
    expect(sim.model.evacuateAccepted.get(b!.id)).toBe(2);
    expect(sim.requests.filter((r) => r.includes('/action')).length).toBeGreaterThanOrEqual(4 + 2); // evacuates + resets
    const errs = events.ofType('instance.evacuate_error');
    expect(errs.filter((e) => e.final).map((e) => e.server.id)).toEqual([b!.id]);
  });

  it('treats 409 conflictingRequest as "already in flight" and tracks it', async () => {
    // A rebuild long enough to still be in flight when the recovery looks, even on a loaded machine.
    const { sim, recoverer, compute } = await setup({ rebuildMs: 1_000 }, {}, 1, 0);
    const srv = [...sim.model.servers.values()][0]!;
    sim.model.services.get('compute-1')!.forcedDown = true;
    await compute.evacuate(srv.id, undefined); // someone else's evacuate, in flight
    const s = await recoverer.recover('compute-1', FENCE, new AbortController().signal);
    expect(s).toMatchObject({ evacuated: 1, failed: 0 });
    expect(sim.model.evacuateAccepted.get(srv.id)).toBe(1);
  });

  describe('faults injected at every call', () => {
    const calls: Array<[string, string, string | RegExp]> = [
      ['token issue', 'POST', '/auth/tokens'],
      ['version document', 'GET', /^\/compute\/v2\.1\/?$/],
      ['service lookup', 'GET', '/os-services'],
      ['service update', 'PUT', '/os-services/'],
      ['server listing', 'GET', '/servers/detail'],
      ['migrations', 'GET', '/os-migrations'],
      ['server show', 'GET', /\/servers\/[0-9a-f-]{36}$/],
      ['evacuate', 'POST', '/action'],
    ];
    for (const mode of ['current', 'zed'] as const) {
      it.each(calls)(`%s (${mode} Nova): 503, dropped connections before and after handling, latency`, async (_n, method, path) => {
        const { sim, recoverer } = await setup({ mode }, {}, 3, 1);
        sim.injectFault({ kind: 'status', status: 503, method, path, count: 1 });
        sim.injectFault({ kind: 'drop_before', method, path, count: 1, skip: 1 });
        sim.injectFault({ kind: 'drop_after', method, path, count: 1, skip: 2 });
        sim.injectFault({ kind: 'delay', delayMs: 30, method, path, count: 3 });
        sim.injectFault({ kind: 'status', status: 500, method, path, count: 1, skip: 5 });
        const s = await recoverer.recover('compute-1', FENCE, new AbortController().signal);
        expect(s).toMatchObject({ selected: 3, evacuated: 3, failed: 0, notified: 1 });
        expectExactlyOnce(sim, ['vm-1', 'vm-2', 'vm-3']);
      });
    }
  });

  it('aborted mid-way, a new coordinator with the same journal finishes exactly once', async () => {
    const { sim, recoverer, compute, journalDir } = await setup({ rebuildMs: 200 }, {}, 4, 1);
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('coordinator stepping down')), 120);
    const first = await recoverer.recover('compute-1', FENCE, ac.signal);
    expect(first.error).toBe('aborted');
    const events = new EventLog();
    const next = new NovaRecoverer({ compute, events, log: silentLogger(), cfg: fastRecoveryConfig(journalDir) });
    const s = await next.recover('compute-1', FENCE, new AbortController().signal);
    expect(s).toMatchObject({ selected: 4, evacuated: 4, failed: 0, notified: 1 });
    expectExactlyOnce(sim, ['vm-1', 'vm-2', 'vm-3', 'vm-4']);
  });

  it('a slow token issue delays but does not break the recovery', async () => {
    const { sim, recoverer } = await setup({ tokenDelayMs: 300 }, {}, 2, 0);
    const s = await recoverer.recover('compute-1', FENCE, new AbortController().signal);
    expect(s.evacuated).toBe(2);
    expect(sim.keystone.issued).toBe(1);
  });

  it('a second recover() of the same host while running joins the first', async () => {
    const { sim, recoverer } = await setup({}, {}, 2, 0);
    const ac = new AbortController();
    const [a, b] = await Promise.all([recoverer.recover('compute-1', FENCE, ac.signal), recoverer.recover('compute-1', FENCE, ac.signal)]);
    expect(a).toEqual(b);
    expectExactlyOnce(sim, ['vm-1', 'vm-2']);
  });

  it("unfence: retries Nova's 400 while done records remain, until the compute restarts", async () => {
    const { sim, recoverer, compute } = await setup({ initHostMs: 50 }, {}, 2, 0);
    await recoverer.recover('compute-1', FENCE, new AbortController().signal);
    setTimeout(() => sim.model.restartCompute('compute-1'), 150);
    const progress: string[] = [];
    const res = await unfenceHost(
      'compute-1',
      {},
      {
        compute,
        log: silentLogger(),
        cfg: { auto: false, quietPeriodMs: 0, retryIntervalMs: 40, timeoutMs: 5_000 },
        progress: (l) => progress.push(l),
      },
      new AbortController().signal,
    );
    expect(res.ok).toBe(true);
    expect(res.attempts).toBeGreaterThan(1);
    // The operator sees each attempt, what Nova answered and what it waits for, not silence.
    expect(progress[0]).toMatch(/^compute-1 \+0\.\ds: returning to service: waits for no evacuation in flight, then clears forced_down/);
    expect(progress).toContainEqual(
      expect.stringMatching(/attempt 1: Nova answered 400 to clearing forced_down: 'done' evacuation records remain.*next try in 40 ms/),
    );
    expect(progress.slice(-2)).toEqual([
      expect.stringMatching(new RegExp(`attempt ${res.attempts}: Nova cleared forced_down$`)),
      expect.stringMatching(new RegExp(`attempt ${res.attempts}: Nova enabled the nova-compute service$`)),
    ]);
    const svc = sim.model.services.get('compute-1')!;
    expect(svc.forcedDown).toBe(false);
    expect(svc.status).toBe('enabled');
    expect(sim.model.migrations.every((m) => m.status === 'completed')).toBe(true);
  });

  it('unfence gives up after its timeout, leaving the host forced down', async () => {
    const { sim, recoverer, compute } = await setup({}, {}, 1, 0);
    await recoverer.recover('compute-1', FENCE, new AbortController().signal);
    const res = await unfenceHost(
      'compute-1',
      {},
      { compute, log: silentLogger(), cfg: { auto: false, quietPeriodMs: 0, retryIntervalMs: 30, timeoutMs: 1_000 } },
      new AbortController().signal,
    );
    expect(res.ok).toBe(false);
    expect(sim.model.services.get('compute-1')!.forcedDown).toBe(true);
    expect(sim.model.services.get('compute-1')!.status).toBe('disabled');
  });
});
