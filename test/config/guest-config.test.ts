import { describe, expect, it } from 'vitest';
import { readBeaconConfig } from '../../src/config/beacon-config.js';
import { parseConfig } from '../../src/config/load.js';
import { readMonitorConfig } from '../../src/daemon/monitor-config.js';
import { beacon, compute, monitor, problems } from './yaml-snippets.js';

/** guest_watch (beacon) and guest_restart (monitor): defaults, bounds, clear errors naming the key. */
describe('guest_watch (beacon)', () => {
  it('is on by default, following qemu:///system, 30 events a minute, each sent 3 times', () => {
    const c = parseConfig(beacon(''), 'b.yaml', readBeaconConfig);
    expect(c.guestWatch).toEqual({ enabled: true, virsh: 'virsh', uri: 'qemu:///system', maxEventsPerMinute: 30, repeats: 3 });
    expect(parseConfig(beacon('guest_watch: {enabled: false}\n'), 'b.yaml', readBeaconConfig).guestWatch.enabled).toBe(false);
  });

  it.each([
    ['max_events_per_minute: 0', /guest_watch\.max_events_per_minute.*between/],
    ['max_events_per_minute: 601', /guest_watch\.max_events_per_minute.*between/],
    ['repeats: 11', /guest_watch\.repeats.*between/],
    ['enabled: maybe', /guest_watch\.enabled/],
    ['urii: x', /guest_watch\.urii.*not a known setting/],
  ])('refuses %s', (line, re) => {
    expect(problems(() => parseConfig(beacon(`guest_watch: {${line}}\n`), 'b.yaml', readBeaconConfig))).toMatch(re);
  });
});

describe('guest_restart (monitor)', () => {
  it('restarts (3 an hour per server) with a compute API; notifies only without one', () => {
    const on = parseConfig(monitor(compute), 'm.yaml', readMonitorConfig);
    expect(on.core.guestRestart).toEqual({
      enabled: true,
      maxRestarts: 3,
      windowMs: 3_600_000,
      settleMs: 30_000,
      maxEventsPerHostPerMinute: 60,
    });
    expect(parseConfig(monitor(''), 'm.yaml', readMonitorConfig).core.guestRestart.enabled).toBe(false);
    expect(parseConfig(monitor(`${compute}guest_restart: {enabled: false}\n`), 'm.yaml', readMonitorConfig).core.guestRestart.enabled).toBe(
      false,
    );
  });

  it('refuses enabled: true without a compute section, naming what is missing', () => {
    expect(problems(() => parseConfig(monitor('guest_restart: {enabled: true}\n'), 'm.yaml', readMonitorConfig))).toMatch(
      /guest_restart\.enabled.*compute section/,
    );
  });

  it.each([
    ['max_restarts: 101', /guest_restart\.max_restarts.*between/],
    ['window: 30s', /guest_restart\.window.*between/],
    ['settle: 2h', /guest_restart\.settle.*between/],
    ['max_events_per_host_per_minute: 0', /guest_restart\.max_events_per_host_per_minute.*between/],
  ])('refuses %s', (line, re) => {
    expect(problems(() => parseConfig(monitor(`${compute}guest_restart: {${line}}\n`), 'm.yaml', readMonitorConfig))).toMatch(re);
  });
});
