import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runDemo, type Scenario } from '../../src/testbed/demo/run-demo.js';
import type { ClusterEvent } from '../../src/core/events.js';

/** The demo is what a newcomer runs first: every scenario must show the behaviour it promises. */
function types(events: ClusterEvent[], host?: string): string[] {
  return events.filter((e) => !host || ('host' in e && e.host === host)).map((e) => e.type);
}

/** Pids (other than ours) whose command line mentions `text`. */
function processesMentioning(text: string): string {
  const pids: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid)) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text)) pids.push(pid);
    } catch {
      // gone
    }
  }
  return pids.join(' ');
}

async function demo(scenario: Scenario) {
  const dir = mkdtempSync(join(tmpdir(), 'iha-demo-test-'));
  try {
    const lines: string[] = [];
    const result = await runDemo({ hosts: 4, servers: 4, scenario, keep: false, dir, out: (l) => lines.push(l) });
    // Nothing left running from this demo.
    const left = processesMentioning(dir);
    return { result, lines, left };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('instance-ha demo', () => {
  it('default: a dead host is fenced, its tagged servers evacuated and ACTIVE elsewhere, the others notified', async () => {
    const { result, left } = await demo('default');
    expect(result.ok).toBe(true);
    expect(left).toBe('');
    const t = types(result.events, 'compute-2');
    expect(t.indexOf('host.failed')).toBeGreaterThanOrEqual(0);
    expect(t.indexOf('host.fenced')).toBeGreaterThan(t.indexOf('host.failed'));
    expect(t.indexOf('host.recovery_started')).toBeGreaterThan(t.indexOf('host.fenced'));
    const ends = result.events.filter((e): e is Extract<ClusterEvent, { type: 'instance.evacuate_end' }> => e.type === 'instance.evacuate_end');
    expect(ends.map((e) => e.server.name).sort()).toEqual(['vm-2-1', 'vm-2-3']);
    expect(ends.every((e) => e.targetHost !== 'compute-2')).toBe(true);
    const notified = result.events.filter((e): e is Extract<ClusterEvent, { type: 'instance.not_recovered' }> => e.type === 'instance.not_recovered');
    expect(notified.map((e) => e.server.name).sort()).toEqual(['vm-2-2', 'vm-2-4']);
    // No other host was touched.
    expect(result.events.filter((e) => e.type === 'host.failed' && e.host !== 'compute-2')).toEqual([]);
  });

  it('fence-failure: a host whose BMC refuses us is never recovered', async () => {
    const { result, left } = await demo('fence-failure');
    expect(result.ok).toBe(true);
    expect(left).toBe('');
    expect(types(result.events, 'compute-2')).toContain('host.fence_failed');
    expect(types(result.events)).not.toContain('host.fenced');
    expect(types(result.events)).not.toContain('instance.evacuate_start');
  });

  it('mass-failure: half the hosts dying at once are held until acknowledged, then fenced', async () => {
    const { result, left } = await demo('mass-failure');
    expect(result.ok).toBe(true);
    expect(left).toBe('');
    const t = types(result.events);
    expect(t.indexOf('cluster.mass_failure')).toBeGreaterThanOrEqual(0);
    expect(t.indexOf('host.failed')).toBeGreaterThan(t.indexOf('cluster.mass_failure_cleared'));
  });

  it('partition: a monitor without quorum declares nothing; once quorum returns the host is fenced', async () => {
    const { result, left } = await demo('partition');
    expect(result.ok).toBe(true);
    expect(left).toBe('');
    const t = types(result.events);
    expect(t.indexOf('host.failed')).toBeGreaterThan(t.indexOf('cluster.quorum_regained'));
  });

  it('leaves no directory behind when it made its own', () => {
    const before = readdirSync(tmpdir()).filter((f) => f.startsWith('instance-ha-demo-'));
    expect(before.every((f) => existsSync(join(tmpdir(), f)))).toBe(true);
  });
});
