import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
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
function processesMentioning(text: string): string[] {
  const pids: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid)) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text)) pids.push(pid);
    } catch {
      // gone
    }
  }
  return pids;
}

/** What is still running from `dir` once its SIGKILLs have had up to 5 s to land (the demo does not wait for them). */
async function leftRunning(dir: string): Promise<string> {
  const deadline = Date.now() + 5000;
  while (processesMentioning(dir).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return processesMentioning(dir).join(' ');
}

/**
 * Runs a scenario as `instance-ha demo` does: in a directory of its own making, which it must
 * remove. TMPDIR points at a private directory for the run, so whatever the demo leaves behind is
 * ours to see (other suites on this machine use /tmp too).
 */
async function demo(scenario: Scenario) {
  const tmp = mkdtempSync(join(tmpdir(), 'iha-demo-test-'));
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = tmp;
  try {
    const lines: string[] = [];
    const result = await runDemo({ hosts: 4, servers: 4, scenario, keep: false, out: (l) => lines.push(...l.split('\n')) });
    return { result, lines, left: await leftRunning(tmp), leftFiles: readdirSync(tmp) };
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The index of the first printed line matching `re` (-1 if none). */
function lineOf(lines: string[], re: RegExp): number {
  return lines.findIndex((l) => re.test(l));
}

/** The SUMMARY table's rows after its header: [T+ seconds, WHAT, DETAIL]. */
function summaryRows(lines: string[]): Array<[number, string, string]> {
  const at = lineOf(lines, /^SUMMARY \(/);
  return lines
    .slice(at + 2)
    .map((l) => /^\s*(\d+\.\d\d)\s+\d+\.\d\d\s{2}(.+?)\s{2,}(.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [Number(m[1]), m[2]!.trim(), m[3]!]);
}

/**
 * What every scenario owes its reader (issue #11 item 10): T+ never goes backwards, live or in the
 * summary; a healthy start narrates no quorum change; the summary's last row is the promised end.
 */
function expectStory(lines: string[], closing: RegExp, o: { quorumStory?: boolean } = {}): Array<[number, string, string]> {
  // Live lines are `T+  1.23s  WHAT …` (the summary's header `T+ (s)` is not one).
  const live = lines.flatMap((l) => {
    const m = /^T\+\s*(\d+\.\d\d)s /.exec(l);
    return m ? [Number(m[1])] : [];
  });
  expect(live.length).toBeGreaterThan(2);
  expect(live).toEqual([...live].sort((a, b) => a - b));
  const rows = summaryRows(lines);
  expect(rows.map((r) => r[0])).toEqual(rows.map((r) => r[0]).sort((a, b) => a - b));
  expect(rows[0]![1]).toBe('ACTION');
  if (!o.quorumStory) expect(rows.filter((r) => r[1] === 'QUORUM LOST' || r[1] === 'quorum regained')).toEqual([]);
  const last = rows[rows.length - 1]!;
  expect(`${last[1]}  ${last[2]}`).toMatch(closing);
  return rows;
}

describe('instance-ha demo', () => {
  it('default: a dead host is fenced, its tagged servers evacuated and ACTIVE elsewhere, the others notified', async () => {
    const { result, lines, left, leftFiles } = await demo('default');
    expect(result.ok).toBe(true);
    // Nothing left behind: no process, and not the directory it made for the cluster.
    expect(left).toBe('');
    expect(leftFiles).toEqual([]);
    // What the person running it reads: the cluster, then the story in order, then the verdict.
    const banner = /^instance-ha demo \(default\): 4 compute hosts with .* BMCs, 4 servers each on the Nova simulator, 3 monitors$/;
    expect(lines[0]).toMatch(banner);
    const clusterUp = /^cluster up: coordinator mon\d, quorum 3 of 3 monitors, 4 hosts heard; dashboard http:\/\/127\.0\.0\.1:\d+\/$/;
    expect(lineOf(lines, clusterUp)).toBeGreaterThan(0);
    const story = [
      /ACTION\s+power loss of compute-2/,
      /FAILED \(quorum\)\s+compute-2: dead for /,
      /fenced\s+compute-2: level 1, native-ipmi/,
      /recovery\s+compute-2: compute service forced down/,
      /recovery complete\s+compute-2: 2\/2 evacuated, 0 failed, 2 notified/,
    ];
    const at = story.map((re) => lineOf(lines, re));
    expect(
      at.every((i) => i > 0),
      story.filter((_, i) => at[i]! < 0).join(', '),
    ).toBe(true);
    expect(at).toEqual([...at].sort((a, b) => a - b));
    expect(lines.filter((l) => /^T\+.*ACTIVE\s+vm-2-[13] running on compute-[134] /.test(l))).toHaveLength(2);
    expect(lineOf(lines, /^SUMMARY \(as expected\)$/)).toBeGreaterThan(at[at.length - 1]!);
    expectStory(lines, /^observed  compute-2 evacuated: powered off, its selected servers ACTIVE on other hosts$/);
    const t = types(result.events, 'compute-2');
    expect(t.indexOf('host.failed')).toBeGreaterThanOrEqual(0);
    expect(t.indexOf('host.fenced')).toBeGreaterThan(t.indexOf('host.failed'));
    expect(t.indexOf('host.recovery_start')).toBeGreaterThan(t.indexOf('host.fenced'));
    const ends = result.events.filter(
      (e): e is Extract<ClusterEvent, { type: 'instance.evacuate_end' }> => e.type === 'instance.evacuate_end',
    );
    expect(ends.map((e) => e.server.name).sort()).toEqual(['vm-2-1', 'vm-2-3']);
    expect(ends.every((e) => e.targetHost !== 'compute-2')).toBe(true);
    const notified = result.events.filter(
      (e): e is Extract<ClusterEvent, { type: 'instance.not_selected' }> => e.type === 'instance.not_selected',
    );
    expect(notified.map((e) => e.server.name).sort()).toEqual(['vm-2-2', 'vm-2-4']);
    // No other host was touched.
    expect(result.events.filter((e) => e.type === 'host.failed' && e.host !== 'compute-2')).toEqual([]);
  });

  it('fence-failure: a host whose BMC refuses us is never recovered', async () => {
    const { result, lines, left, leftFiles } = await demo('fence-failure');
    expect(result.ok).toBe(true);
    expect([left, leftFiles]).toEqual(['', []]);
    expect(lineOf(lines, /^SUMMARY \(as expected\)$/)).toBeGreaterThan(0);
    expectStory(lines, /^observed  compute-2 is fence_failed: never reported fenced, and none of its servers is evacuated$/);
    expect(types(result.events, 'compute-2')).toContain('host.fence_failed');
    expect(types(result.events)).not.toContain('host.fenced');
    expect(types(result.events)).not.toContain('instance.evacuate_start');
  });

  it('mass-failure: half the hosts dying at once are held until acknowledged, then fenced and evacuated', async () => {
    const { result, lines, left, leftFiles } = await demo('mass-failure');
    expect(result.ok, lines.join('\n')).toBe(true);
    const rows = expectStory(lines, /^observed  compute-1 evacuated, compute-2 evacuated: powered off, its selected servers ACTIVE/);
    for (const h of ['compute-1', 'compute-2'])
      expect(rows.some((r) => r[1] === 'recovery complete' && r[2].startsWith(`${h}: 2/2 evacuated`))).toBe(true);
    expect(rows.filter((r) => r[1] === 'ACTIVE')).toHaveLength(4);
    expect([left, leftFiles]).toEqual(['', []]);
    expect(lineOf(lines, /^SUMMARY \(as expected\)$/)).toBeGreaterThan(0);
    const t = types(result.events);
    expect(t.indexOf('cluster.mass_failure')).toBeGreaterThanOrEqual(0);
    expect(t.indexOf('host.failed')).toBeGreaterThan(t.indexOf('cluster.mass_failure_cleared'));
  });

  it('compute-down: a dead nova-compute on a live host gets its service disabled, never a fence, and enabled when back', async () => {
    const { result, lines, left, leftFiles } = await demo('compute-down');
    expect(result.ok, lines.join('\n')).toBe(true);
    expectStory(lines, /^observed  Nova: compute-2 service enabled$/);
    expect([left, leftFiles]).toEqual(['', []]);
    expect(lineOf(lines, /^SUMMARY \(as expected\)$/)).toBeGreaterThan(0);
    const t = types(result.events, 'compute-2');
    expect(t.indexOf('host.compute_up')).toBeGreaterThan(t.indexOf('host.compute_down'));
    expect(t.indexOf('host.compute_down')).toBeGreaterThanOrEqual(0);
    expect(t.filter((x) => ['host.failed', 'host.fencing', 'host.fenced'].includes(x))).toEqual([]);
    expect(lineOf(lines, /service disabled \(instance-ha: nova-compute down on a live host since /)).toBeGreaterThan(0);
  });

  it('partition: a monitor without quorum declares nothing; once quorum returns the host is fenced and evacuated', async () => {
    const { result, lines, left, leftFiles } = await demo('partition');
    expect(result.ok, lines.join('\n')).toBe(true);
    const rows = expectStory(lines, /^observed  compute-2 evacuated: powered off, its selected servers ACTIVE/, { quorumStory: true });
    expect(rows.some((r) => r[1] === 'recovery complete' && r[2].startsWith('compute-2: 2/2 evacuated'))).toBe(true);
    expect(rows.filter((r) => r[1] === 'ACTIVE')).toHaveLength(2);
    expect([left, leftFiles]).toEqual(['', []]);
    expect(lineOf(lines, /^SUMMARY \(as expected\)$/)).toBeGreaterThan(0);
    const t = types(result.events);
    expect(t.indexOf('host.failed')).toBeGreaterThan(t.indexOf('cluster.quorum_regained'));
  });
});
