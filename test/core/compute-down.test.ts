import { describe, expect, it } from 'vitest';
import { COMPUTE_DOWN_REASON_PREFIX, ComputeDown, computeDownReason, type ComputeView } from '../../src/core/compute-down.js';
import type { Effect } from '../../src/core/effects.js';

/** The compute-down rule (nova-compute dead on a live host), one behaviour per case. */
const S = { enabled: true, graceMs: 1000, quietPeriodMs: 2000, retryBaseMs: 500, retryMaxMs: 2000, maxFraction: 0.5 };
const down: ComputeView = { live: true, novaCompute: 'down' };
const up: ComputeView = { live: true, novaCompute: 'up' };

function review(c: ComputeDown, now: number, views: Record<string, ComputeView | undefined>, acting = true): Effect[] {
  const out: Effect[] = [];
  c.review(now, acting, 10, Object.keys(views), (h) => views[h], out);
  return out.filter((e) => e.type !== 'log');
}

/** Down from 0 until past the grace, disabled by the edge. */
function disabledAt(c: ComputeDown, t = 1001): void {
  review(c, 0, { c1: down });
  review(c, t, { c1: down });
  c.disabled('c1', t, { ok: true, already: false }, []);
}

describe('compute down on a live host', () => {
  it('disables the service only once nova-compute has been down longer than the grace, and announces it once', () => {
    const c = new ComputeDown(S);
    expect(review(c, 0, { c1: down })).toEqual([]);
    expect(review(c, 1000, { c1: down })).toEqual([]);
    expect(review(c, 1001, { c1: down })).toEqual([
      { type: 'emit', event: { type: 'host.compute_down', at: 1001, host: 'c1', sinceMs: 0, downForMs: 1001 } },
      { type: 'disable_compute', host: 'c1', sinceMs: 0 },
    ]);
    // In flight: not asked twice.
    expect(review(c, 1500, { c1: down })).toEqual([]);
    c.disabled('c1', 1600, { ok: true, already: false }, []);
    expect(c.mark('c1')).toEqual({ host: 'c1', sinceMs: 0, service: 'disabled' });
    expect(review(c, 5000, { c1: down })).toEqual([]);
  });

  it('never produces a fence, a recovery or an abandon, whatever the host reports', () => {
    const c = new ComputeDown(S);
    const all: Effect[] = [];
    for (let t = 0; t < 20_000; t += 250) all.push(...review(c, t, { c1: t % 7000 < 3000 ? down : up }));
    expect(all.some((e) => e.type === 'disable_compute')).toBe(true);
    expect(all.filter((e) => !['emit', 'disable_compute', 'enable_compute'].includes(e.type))).toEqual([]);
  });

  it.each<[string, ComputeView]>([
    ['nova-compute up again', up],
    ['health unknown', { live: true, novaCompute: 'unknown' }],
    ['the host not live (suspect, dead, decided or in maintenance)', { live: false, novaCompute: 'down' }],
  ])('restarts the grace after %s in between', (_, between) => {
    const c = new ComputeDown(S);
    review(c, 0, { c1: down });
    review(c, 800, { c1: between });
    expect(review(c, 1200, { c1: down })).toEqual([]);
    expect(review(c, 2200, { c1: down })).toEqual([]);
    expect(review(c, 2201, { c1: down }).map((e) => e.type)).toEqual(['emit', 'disable_compute']);
  });

  it('never acts on a host that is not live, however long it reports down', () => {
    const c = new ComputeDown(S);
    for (let t = 0; t < 10_000; t += 500) expect(review(c, t, { c1: { live: false, novaCompute: 'down' } })).toEqual([]);
    expect(c.mark('c1')).toBeNull();
  });

  it('does nothing when turned off', () => {
    const c = new ComputeDown({ ...S, enabled: false });
    for (let t = 0; t < 10_000; t += 500) expect(review(c, t, { c1: down })).toEqual([]);
  });

  it('a monitor that does not act marks the host (to undo it as a successor) but asks for nothing', () => {
    const c = new ComputeDown(S);
    review(c, 0, { c1: down }, false);
    expect(review(c, 1500, { c1: down }, false)).toEqual([]);
    expect(c.mark('c1')).toEqual({ host: 'c1', sinceMs: 0, service: 'pending' });
    // Becoming coordinator: it disables (idempotent in Nova) and announces.
    expect(review(c, 1600, { c1: down }).map((e) => e.type)).toEqual(['emit', 'disable_compute']);
  });

  it('enables the service once nova-compute has been back for the whole quiet period, then reports compute_up', () => {
    const c = new ComputeDown(S);
    disabledAt(c);
    expect(review(c, 2000, { c1: up })).toEqual([]);
    expect(review(c, 3000, { c1: down })).toEqual([]);
    expect(review(c, 3500, { c1: up })).toEqual([]);
    expect(review(c, 5499, { c1: up })).toEqual([]);
    expect(review(c, 5500, { c1: up })).toEqual([{ type: 'enable_compute', host: 'c1' }]);
    expect(review(c, 5600, { c1: up })).toEqual([]);
    const out: Effect[] = [];
    c.enableDone('c1', 5700, { ok: true, enabled: true, note: 'enabled' }, out);
    expect(out.filter((e) => e.type === 'emit')).toEqual([
      { type: 'emit', event: { type: 'host.compute_up', at: 5700, host: 'c1', downForMs: 5700, serviceEnabled: true, note: 'enabled' } },
    ]);
    expect(c.mark('c1')).toBeNull();
    expect(c.marks()).toEqual([]);
  });

  it('never enables a service someone else had disabled: the episode ends with serviceEnabled false', () => {
    const c = new ComputeDown(S);
    review(c, 0, { c1: down });
    review(c, 1001, { c1: down });
    c.disabled('c1', 1001, { ok: true, already: true }, []);
    expect(c.mark('c1')?.service).toBe('already_disabled');
    review(c, 2000, { c1: up });
    const out = review(c, 4000, { c1: up });
    expect(out.some((e) => e.type === 'enable_compute')).toBe(false);
    expect(out).toEqual([
      {
        type: 'emit',
        event: {
          type: 'host.compute_up',
          at: 4000,
          host: 'c1',
          downForMs: 4000,
          serviceEnabled: false,
          note: 'the service was disabled by someone else: left disabled',
        },
      },
    ]);
  });

  it('retries a failed disable with a doubling backoff, bounded, and reports the failure until it works', () => {
    const c = new ComputeDown(S);
    review(c, 0, { c1: down });
    review(c, 1001, { c1: down });
    c.disabled('c1', 1001, { ok: false, reason: 'HTTP 503' }, []);
    expect(c.failures()).toEqual([{ host: 'c1', action: 'disable', count: 1, error: 'HTTP 503' }]);
    expect(review(c, 1500, { c1: down })).toEqual([]);
    expect(review(c, 1501, { c1: down })).toEqual([{ type: 'disable_compute', host: 'c1', sinceMs: 0 }]);
    c.disabled('c1', 1501, { ok: false, reason: 'HTTP 503' }, []);
    expect(review(c, 2500, { c1: down })).toEqual([]);
    expect(review(c, 2501, { c1: down })).toEqual([{ type: 'disable_compute', host: 'c1', sinceMs: 0 }]);
    for (let i = 0; i < 5; i++) {
      c.disabled('c1', 10_000 * i, { ok: false, reason: 'HTTP 503' }, []);
      review(c, 10_000 * i + 2000, { c1: down });
    }
    expect(c.failures()[0]!.count).toBe(7);
    c.disabled('c1', 60_000, { ok: true, already: false }, []);
    expect(c.failures()).toEqual([]);
    expect(c.mark('c1')?.service).toBe('disabled');
  });

  it('retries a failed enable after a backoff, and keeps the mark until it works', () => {
    const c = new ComputeDown(S);
    disabledAt(c);
    review(c, 2000, { c1: up });
    expect(review(c, 4000, { c1: up })).toEqual([{ type: 'enable_compute', host: 'c1' }]);
    c.enableDone('c1', 4000, { ok: false, reason: 'HTTP 500' }, []);
    expect(c.failures()).toEqual([{ host: 'c1', action: 'enable', count: 1, error: 'HTTP 500' }]);
    expect(c.mark('c1')?.service).toBe('disabled');
    expect(review(c, 4499, { c1: up })).toEqual([]);
    expect(review(c, 4500, { c1: up })).toEqual([{ type: 'enable_compute', host: 'c1' }]);
  });

  it('survives a restart: a restored mark is enabled after the quiet period, a pending one disabled again', () => {
    const a = new ComputeDown(S);
    a.restore([
      { host: 'c1', sinceMs: 0, service: 'disabled' },
      { host: 'c2', sinceMs: 0, service: 'pending' },
    ]);
    review(a, 10_000, { c1: up, c2: down });
    expect(review(a, 12_000, { c1: up, c2: down }).map((e) => e.type)).toEqual(['enable_compute']);
    const b = new ComputeDown(S);
    b.restore([{ host: 'c2', sinceMs: 0, service: 'pending' }]);
    expect(review(b, 10_000, { c2: down })).toEqual([
      { type: 'emit', event: { type: 'host.compute_down', at: 10_000, host: 'c2', sinceMs: 0, downForMs: 10_000 } },
      { type: 'disable_compute', host: 'c2', sinceMs: 0 },
    ]);
  });

  it('a forgotten host leaves the watch; its mark is gone', () => {
    const c = new ComputeDown(S);
    disabledAt(c);
    const v = c.version;
    c.forget('c1');
    expect(c.marks()).toEqual([]);
    expect(c.version).toBeGreaterThan(v);
  });

  it('writes a reason that starts with the prefix the enable checks', () => {
    expect(computeDownReason('2026-12-02T00:00:00.000Z')).toBe(
      'instance-ha: nova-compute down on a live host since 2026-12-02T00:00:00.000Z',
    );
    expect(computeDownReason('x').startsWith(COMPUTE_DOWN_REASON_PREFIX)).toBe(true);
  });
});

describe('compute down through the monitor core', () => {
  const edit = (s: import('../../src/core/settings.js').CoreSettings): void => {
    s.computeDown = { ...s.computeDown, graceMs: 2000, quietPeriodMs: 3000 };
  };

  it('disables a live host reporting nova-compute down past the grace, persists it, and never declares it failed', async () => {
    const { CoreRig } = await import('./core-rig.js');
    const r = new CoreRig({ edit });
    r.untilActing();
    r.novaCompute.set('h1', 'down');
    const before = r.run(2000);
    expect(before.some((e) => e.type === 'disable_compute')).toBe(false);
    const out = r.run(1000);
    const disables = out.filter((e) => e.type === 'disable_compute');
    expect(disables).toEqual([{ type: 'disable_compute', host: 'h1', sinceMs: expect.any(Number) }]);
    expect(out.some((e) => e.type === 'persist' && e.mustSync)).toBe(true);
    expect(r.core.persisted().computeDown).toEqual([{ host: 'h1', sinceMs: expect.any(Number), service: 'pending' }]);
    r.step({ type: 'compute_disabled', at: r.now, host: 'h1', ok: true, already: false });
    expect(r.core.persisted().computeDown?.[0]?.service).toBe('disabled');
    const later = r.run(20_000);
    expect(later.filter((e) => ['fence', 'recover', 'disable_compute'].includes(e.type))).toEqual([]);
    expect(later.some((e) => e.type === 'emit' && e.event.type === 'host.failed')).toBe(false);
    // Back: enabled after the quiet period.
    r.novaCompute.set('h1', 'up');
    const back = r.run(3600);
    expect(back.filter((e) => e.type === 'enable_compute')).toEqual([{ type: 'enable_compute', host: 'h1' }]);
    const done = r.step({ type: 'compute_enable_done', at: r.now, host: 'h1', ok: true, enabled: true, note: 'enabled' });
    expect(done.some((e) => e.type === 'emit' && e.event.type === 'host.compute_up')).toBe(true);
    expect(r.core.persisted().computeDown).toBeUndefined();
  });

  it('leaves a host in maintenance alone', async () => {
    const { CoreRig } = await import('./core-rig.js');
    const r = new CoreRig({ edit });
    r.untilActing();
    r.step({ type: 'maintenance', at: r.now, host: 'h1', on: true, by: 'op' });
    r.novaCompute.set('h1', 'down');
    expect(r.run(10_000).some((e) => e.type === 'disable_compute')).toBe(false);
  });

  it('a host that goes silent takes the host-failure path, not this one', async () => {
    const { CoreRig } = await import('./core-rig.js');
    const r = new CoreRig({ edit });
    r.untilActing();
    r.novaCompute.set('h1', 'down');
    r.run(1000);
    r.beating.delete('h1');
    expect(r.run(10_000).some((e) => e.type === 'disable_compute')).toBe(false);
  });
});

describe('compute down on a monitor that does not act', () => {
  it('forgets an episode two quiet periods after nova-compute came back, silently', () => {
    const c = new ComputeDown(S);
    review(c, 0, { c1: down }, false);
    review(c, 1500, { c1: down }, false);
    expect(review(c, 2000, { c1: up }, false)).toEqual([]);
    expect(c.mark('c1')).not.toBeNull();
    // Taking over within that window, it enables the service itself.
    const d = new ComputeDown(S);
    d.restore(c.marks());
    review(d, 2000, { c1: up }, false);
    expect(review(d, 4000, { c1: up })).toEqual([{ type: 'enable_compute', host: 'c1' }]);
    expect(review(c, 5999, { c1: up }, false)).toEqual([]);
    expect(c.mark('c1')).not.toBeNull();
    expect(review(c, 6000, { c1: up }, false)).toEqual([]);
    expect(c.mark('c1')).toBeNull();
  });
});

describe('compute down on many hosts at once', () => {
  it('disables at most max_fraction of the watched hosts; the rest are held, not disabled', () => {
    const c = new ComputeDown({ ...S, maxFraction: 0.2 });
    const views = Object.fromEntries(['c1', 'c2', 'c3', 'c4'].map((h) => [h, down]));
    const run = (now: number): Effect[] => {
      const out: Effect[] = [];
      c.review(now, true, 10, Object.keys(views), (h) => views[h], out);
      return out;
    };
    run(0);
    const out = run(1001);
    expect(out.filter((e) => e.type === 'disable_compute').map((e) => (e as { host: string }).host)).toEqual(['c1', 'c2']);
    expect(c.held).toEqual(['c3', 'c4']);
    expect(out.some((e) => e.type === 'log' && /max_fraction/.test(e.msg))).toBe(true);
  });
});
