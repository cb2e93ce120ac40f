import { describe, expect, it } from 'vitest';
import { readBeaconConfig } from '../../src/config/beacon-config.js';
import { parseConfig } from '../../src/config/load.js';
import { readMonitorConfig } from '../../src/daemon/monitor-config.js';
import { beacon, compute, monitor, problems } from './yaml-snippets.js';

/** The compute_down (monitor) and health.restart_* (beacon) settings: defaults, bounds, clear errors. */
describe('compute_down settings', () => {
  it('is on by default with a compute API (30 s grace, 60 s quiet period), off without one', () => {
    const on = parseConfig(monitor(compute), 'm.yaml', readMonitorConfig);
    expect(on.core.computeDown).toMatchObject({ enabled: true, graceMs: 30_000, quietPeriodMs: 60_000 });
    const off = parseConfig(monitor(''), 'm.yaml', readMonitorConfig);
    expect(off.core.computeDown.enabled).toBe(false);
  });

  it('turns off with enabled: false', () => {
    const c = parseConfig(monitor(`${compute}compute_down: {enabled: false}\n`), 'm.yaml', readMonitorConfig);
    expect(c.core.computeDown.enabled).toBe(false);
  });

  it.each([
    ['grace: 500ms', /compute_down\.grace.*between/],
    ['grace: 2h', /compute_down\.grace.*between/],
    ['quiet_period: 25h', /compute_down\.quiet_period.*between/],
    ['gracee: 1s', /compute_down\.gracee.*not a known setting/],
  ])('refuses %s', (line, re) => {
    expect(problems(() => parseConfig(monitor(`${compute}compute_down: {${line}}\n`), 'm.yaml', readMonitorConfig))).toMatch(re);
  });

  it('refuses enabled: true with no compute API to act through', () => {
    expect(problems(() => parseConfig(monitor('compute_down: {enabled: true}\n'), 'm.yaml', readMonitorConfig))).toMatch(
      /compute_down\.enabled.*compute section/,
    );
  });
});

describe('beacon restart settings', () => {
  it('is off by default, budget 3 per hour', () => {
    const b = parseConfig(beacon(''), 'b.yaml', readBeaconConfig);
    expect(b.health).toMatchObject({ restartCommand: null, restartBudgetPerHour: 3 });
  });

  it.each([
    ['restart_budget_per_hour: 13', /restart_budget_per_hour.*between 1 and 12/],
    ['restart_budget_per_hour: 0', /restart_budget_per_hour.*between 1 and 12/],
  ])('refuses %s', (line, re) => {
    expect(
      problems(() =>
        parseConfig(beacon(`health: {restart_command: 'systemctl restart nova-compute', ${line}}\n`), 'b.yaml', readBeaconConfig),
      ),
    ).toMatch(re);
  });
});
