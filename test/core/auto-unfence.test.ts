import { describe, expect, it } from 'vitest';
import { AutoUnfence, type BeaconHealth } from '../../src/core/auto-unfence.js';
import type { Effect } from '../../src/core/effects.js';
import type { HostDecision } from '../../src/core/messages.js';

/** The automatic-unfence rule of the acting coordinator, one behaviour per case. */
const recovered = (host: string, bootId = 'old'): HostDecision => ({ host, state: 'evacuated', bootId, sinceMs: 0, fenceAttempts: 1 });
const healthy: BeaconHealth = { heard: true, verdict: 'up', bootId: 'new', novaCompute: 'up' };

function review(a: AutoUnfence, now: number, decisions: HostDecision[], health: Record<string, BeaconHealth | undefined>): Effect[] {
  const out: Effect[] = [];
  a.review(now, decisions, (h) => health[h], out);
  return out.filter((e) => e.type !== 'log');
}

describe('automatic unfence', () => {
  const on = { enabled: true, quietPeriodMs: 1000 };

  it('says in its log which host it returns and after how long', () => {
    const a = new AutoUnfence(on);
    const out: Effect[] = [];
    a.review(0, [recovered('c1')], () => healthy, out);
    a.review(1000, [recovered('c1')], () => healthy, out);
    expect(out.filter((e) => e.type === 'log')).toEqual([
      {
        type: 'log',
        level: 'info',
        msg: 'host healthy again for the quiet period: returning it to service',
        fields: { host: 'c1', quietPeriodMs: 1000 },
      },
    ]);
  });

  it('abandons nothing that it did not start', () => {
    const a = new AutoUnfence(on);
    review(a, 0, [recovered('c1'), recovered('c2')], { c1: healthy, c2: healthy });
    expect(review(a, 500, [recovered('c2')], { c2: healthy })).toEqual([]);
    const out: Effect[] = [];
    a.reset(out);
    expect(out).toEqual([]);
  });

  it('unfences once the host has been healthy for the whole quiet period, and only once', () => {
    const a = new AutoUnfence(on);
    expect(review(a, 0, [recovered('c1')], { c1: healthy })).toEqual([]);
    expect(review(a, 999, [recovered('c1')], { c1: healthy })).toEqual([]);
    expect(review(a, 1000, [recovered('c1')], { c1: healthy })).toEqual([{ type: 'unfence', host: 'c1' }]);
    expect(review(a, 1500, [recovered('c1')], { c1: healthy })).toEqual([]);
  });

  it('restarts the quiet period when the host is unhealthy in between', () => {
    const a = new AutoUnfence(on);
    review(a, 0, [recovered('c1')], { c1: healthy });
    review(a, 600, [recovered('c1')], { c1: { ...healthy, novaCompute: 'down' } });
    expect(review(a, 1200, [recovered('c1')], { c1: healthy })).toEqual([]);
    expect(review(a, 2199, [recovered('c1')], { c1: healthy })).toEqual([]);
    expect(review(a, 2200, [recovered('c1')], { c1: healthy })).toEqual([{ type: 'unfence', host: 'c1' }]);
  });

  it.each<[string, BeaconHealth | undefined]>([
    ['never heard', { ...healthy, heard: false }],
    ['still beating in the boot that failed', { ...healthy, bootId: 'old' }],
    ['suspect', { ...healthy, verdict: 'suspect' }],
    ['dead', { ...healthy, verdict: 'dead' }],
    ['nova-compute unknown', { ...healthy, novaCompute: 'unknown' }],
    ['not tracked', undefined],
  ])('never unfences a host that is %s', (_why, h) => {
    const a = new AutoUnfence(on);
    expect(review(a, 0, [recovered('c1')], { c1: h })).toEqual([]);
    expect(review(a, 10_000, [recovered('c1')], { c1: h })).toEqual([]);
  });

  it('does nothing unless enabled', () => {
    const a = new AutoUnfence({ enabled: false, quietPeriodMs: 0 });
    expect(review(a, 0, [recovered('c1')], { c1: healthy })).toEqual([]);
    expect(review(a, 5000, [recovered('c1')], { c1: healthy })).toEqual([]);
  });

  it('stops an unfence under way when the host turns unhealthy, and starts over', () => {
    const a = new AutoUnfence(on);
    review(a, 0, [recovered('c1')], { c1: healthy });
    review(a, 1000, [recovered('c1')], { c1: healthy });
    expect(review(a, 1100, [recovered('c1')], { c1: { ...healthy, verdict: 'suspect' } })).toEqual([{ type: 'abandon', host: 'c1' }]);
    expect(a.done('c1', true, 1200)).toBe(false); // the stopped attempt's answer clears nothing
  });

  it('clears on success; after a failure waits a full quiet period again', () => {
    const a = new AutoUnfence(on);
    review(a, 0, [recovered('c1')], { c1: healthy });
    review(a, 1000, [recovered('c1')], { c1: healthy });
    expect(a.done('c1', false, 1500)).toBe(false);
    expect(review(a, 2499, [recovered('c1')], { c1: healthy })).toEqual([]);
    expect(review(a, 2500, [recovered('c1')], { c1: healthy })).toEqual([{ type: 'unfence', host: 'c1' }]);
    expect(a.done('c1', true, 2600)).toBe(true);
    expect(a.done('c1', true, 2700)).toBe(false);
  });

  it('stops watching a host whose decision was cleared another way, and what it started when stepping down', () => {
    const a = new AutoUnfence(on);
    review(a, 0, [recovered('c1'), recovered('c2')], { c1: healthy, c2: healthy });
    review(a, 1000, [recovered('c1'), recovered('c2')], { c1: healthy, c2: healthy });
    expect(review(a, 1100, [recovered('c2')], { c2: healthy })).toEqual([{ type: 'abandon', host: 'c1' }]);
    const out: Effect[] = [];
    a.reset(out);
    expect(out).toEqual([{ type: 'abandon', host: 'c2' }]);
    expect(review(a, 1200, [recovered('c2')], { c2: healthy })).toEqual([]);
  });
});
