import { describe, expect, it } from 'vitest';
import { OpenStackApiError, OpenStackTransportError } from '../../src/openstack/errors.js';
import {
  isUnreachable,
  Reachability,
  UNREACHABLE_RETRY_MAX_MS,
  UNREACHABLE_RETRY_MIN_MS,
  unreachableBackoffMs,
} from '../../src/recovery/reachability.js';

/** What counts as "Nova did not answer" (wait and retry), its bounded backoff, and the alarm it raises. */
const refused = (url: string): OpenStackTransportError => new OpenStackTransportError('GET', url, 'connection error ECONNREFUSED');
const api = (status: number): OpenStackApiError => new OpenStackApiError('GET', 'http://nova/x', status, 'f', 'm', undefined);

describe('reachability', () => {
  it.each<[string, unknown, boolean]>([
    ['connection refused', refused('http://nova/servers'), true],
    ['a 503 after the retries', api(503), true],
    ['429 too many requests', api(429), true],
    ['a 403 (policy): a real answer, not an outage', api(403), false],
    ['a 400', api(400), false],
    ['a programming error', new TypeError('x'), false],
  ])('%s → unreachable: %s', (_, err, want) => {
    expect(isUnreachable(err)).toBe(want);
  });

  it('backoff doubles from the minimum and never exceeds the maximum, jitter 50–100 %', () => {
    expect(unreachableBackoffMs(0, 1)).toBe(UNREACHABLE_RETRY_MIN_MS);
    expect(unreachableBackoffMs(0, 0)).toBe(UNREACHABLE_RETRY_MIN_MS / 2);
    expect(unreachableBackoffMs(2, 1)).toBe(4 * UNREACHABLE_RETRY_MIN_MS);
    for (const n of [5, 10, 50, 1e9]) expect(unreachableBackoffMs(n, 0.999)).toBeLessThanOrEqual(UNREACHABLE_RETRY_MAX_MS);
  });

  it('raises compute_api_unreachable or keystone_unreachable with its start, clears at the first answer', () => {
    const r = new Reachability();
    const t = Date.UTC(2026, 11, 1, 3, 12, 9);
    r.failed(refused('http://nova/compute/v2.1/os-services'), 'cmp2', t);
    r.failed(refused('http://ks/identity/v3/auth/tokens'), 'cmp2', t + 1000);
    r.failed(refused('http://nova/compute/v2.1/os-services'), 'cmp2', t + 2000);
    const alarms = r.alarms();
    expect(alarms.map((a) => a.kind).sort()).toEqual(['compute_api_unreachable', 'keystone_unreachable']);
    const compute = alarms.find((a) => a.kind === 'compute_api_unreachable')!;
    expect(compute.message).toMatch(
      /^recovering — compute API unreachable since 2026-12-01T03:12:09.000Z \(2 failed call\(s\), last: .*ECONNREFUSED\)/,
    );
    expect(compute.message).toContain('recovery of cmp2 waits');
    r.answered('cmp2');
    expect(r.alarms()).toEqual([]);
  });

  it('a recovery that ends (aborted) takes its alarm with it once no other host waits', () => {
    const r = new Reachability();
    r.failed(refused('http://nova/x'), 'cmp2', 0);
    r.failed(refused('http://nova/x'), 'cmp3', 0);
    r.done('cmp2');
    expect(r.alarms()).toHaveLength(1);
    r.done('cmp3');
    expect(r.alarms()).toEqual([]);
  });
});
