import { describe, expect, it } from 'vitest';
import type { ClusterEvent, HostClusterState } from '../../src/core/events.js';
import type { StatusSnapshot } from '../../src/core/status-snapshot.js';
import { computeCell, formatStatus, statusExitCode, verdictLine } from '../../src/cli/status-format.js';

const NOW = Date.parse('2026-11-21T03:00:10Z');
const STATES: HostClusterState[] = [
  'up',
  'suspect',
  'failed',
  'fencing',
  'fenced',
  'fence_failed',
  'recovering',
  'evacuated',
  'recovery_failed',
  'maintenance',
];
const okFence = { ok: true, level: 2, agent: '/usr/lib/instance-ha/agents/fence_ipmi', durationMs: 1840, attempts: [], by: 'mon1' };
const badFence = { ok: false, agent: 'fence_apc_snmp', durationMs: 30_000, attempts: [], error: 'timed out', by: 'mon1' };

function host(
  state: HostClusterState,
  extra: Partial<StatusSnapshot['hosts'][number]> & { recovery?: unknown } = {},
): StatusSnapshot['hosts'][number] {
  return {
    host: `cmp-${state}`,
    state,
    localLevel: state === 'up' || state === 'maintenance' ? 'up' : state === 'suspect' ? 'suspect' : 'dead',
    maintenance: state === 'maintenance',
    lastHeartbeatAgeMs: 300,
    bootId: 'b',
    novaCompute: 'up',
    lossPct: 0,
    deadAfterMs: 1600,
    decisionSinceMs: null,
    fence: null,
    ...extra,
  };
}

function snapshot(
  o: { quorate?: boolean; alarms?: StatusSnapshot['alarms']; hosts?: StatusSnapshot['hosts']; events?: ClusterEvent[] } = {},
): StatusSnapshot {
  const quorate = o.quorate ?? true;
  return {
    monitor: { id: 'mon1', bootId: 'x', startedAt: '2026-11-21T02:00:00.000Z', version: '0.1.0' },
    cluster: {
      quorate,
      votes: quorate ? 3 : 1,
      needed: 2,
      expectedVotes: 3,
      coordinator: quorate ? 'mon1' : null,
      acting: quorate,
      paused: false,
      epoch: 4,
      members: [
        { id: 'mon1', address: '127.0.0.1:7400', self: true, live: true, lastSeenAgoMs: 0, acting: quorate, vote: 'mon1' },
        {
          id: 'mon2',
          address: '127.0.0.1:7401',
          self: false,
          live: quorate,
          lastSeenAgoMs: quorate ? 120 : 9000,
          acting: false,
          vote: 'mon1',
        },
      ],
    },
    hosts: o.hosts ?? [host('up')],
    alarms: o.alarms ?? [],
    counters: {
      received: 10,
      accepted: 9,
      dropped: { oversized: 0, malformed: 0, bad_mac: 1, replay: 0, clock_skew: 0, unknown_sender: 0, forged: 0, incompatible: 0 },
      sent: 5,
      sendErrors: 0,
    },
    recentEvents: o.events ?? [],
  };
}

const ALARMS: StatusSnapshot['alarms'] = [
  { kind: 'no_quorum', message: 'no quorum: hears 1 of 2 needed monitors; declaring nothing' },
  { kind: 'local_pause', message: 'this monitor stalled recently' },
  { kind: 'mass_failure', message: 'mass failure held (max_failed_hosts 5): a, b; run ack' },
  { kind: 'fence_failed', message: 'cmp-fence_failed could not be fenced' },
  // Kinds other edges will add: shown as they come, no code change needed here.
  { kind: 'outbox_backlog', message: 'notification outbox holds 120 messages (broker unreachable)' },
  { kind: 'compute_api_unreachable', message: 'compute API unreachable for 40s' },
];

describe('status output', () => {
  const all = snapshot({
    alarms: ALARMS.slice(1),
    hosts: STATES.map((st) =>
      host(st, {
        ...(st === 'fencing' ? { decisionSinceMs: NOW - 3500 } : {}),
        ...(st === 'fenced' || st === 'recovering' || st === 'evacuated' ? { fence: okFence, decisionSinceMs: NOW - 60_000 } : {}),
        ...(st === 'fence_failed' ? { fence: badFence, decisionSinceMs: NOW - 5000 } : {}),
        ...(st === 'recovering' ? { recovery: { selected: 4, evacuated: 2, active: 1, failed: 0, notified: 1 } } : {}),
      }),
    ),
  });
  const text = formatStatus(all, false, NOW);
  const row = (st: string): string => text.split('\n').find((l) => l.startsWith(`cmp-${st} `))!;

  it('shows every host state on its own row', () => {
    for (const st of STATES) expect(row(st), st).toMatch(new RegExp(`^cmp-${st}\\s+${st}\\s`));
  });

  it('shows fencing level, agent, when and how long; in-progress time; failures', () => {
    expect(row('fenced')).toContain('L2 fence_ipmi 1.8s at 02:59:10Z');
    expect(row('fencing')).toContain('in progress 3.5s');
    expect(row('fence_failed')).toContain('FAILED fence_apc_snmp 30.0s at 03:00:05Z: timed out');
    expect(row('up')).toMatch(/\s-\s+-$/);
  });

  it('says who confirmed a fence an operator attested (instance-ha confirm-fenced)', () => {
    const h = host('fenced', {
      fence: { ok: true, durationMs: 0, attempts: [], by: 'mon1', confirmedBy: 'alice' },
      decisionSinceMs: NOW - 5000,
    });
    const out = formatStatus(snapshot({ hosts: [h] }), false, NOW);
    expect(out.split('\n').find((l) => l.startsWith('cmp-fenced '))).toContain('confirmed off by operator alice at 03:00:05Z');
  });

  it('takes a failed fence record from its event when the decision has none', () => {
    const h = host('fence_failed');
    const ev: ClusterEvent = { type: 'host.fence_failed', at: NOW - 2000, host: h.host, record: badFence, retryInMs: 5000 };
    const out = formatStatus(snapshot({ hosts: [h], events: [ev], alarms: [ALARMS[3]!] }), false, NOW);
    expect(out.split('\n').find((l) => l.startsWith('cmp-fence_failed '))).toContain('FAILED fence_apc_snmp 30.0s at 03:00:08Z');
  });

  it('shows recovery progress columns only when a host has them', () => {
    expect(text).toMatch(/^HOST .* FENCE\s+RECOVERY$/m);
    expect(row('recovering')).toContain('2/4 evacuated, 1 active, 0 failed, 1 notified');
    expect(formatStatus(snapshot(), false, NOW)).not.toContain('RECOVERY');
  });

  it('lists every alarm by kind, known or new', () => {
    for (const a of ALARMS.slice(1)) expect(text).toContain(`  ${a.kind}: ${a.message}`);
    expect(formatStatus(snapshot({ quorate: false, alarms: [ALARMS[0]!] }), false, NOW)).toContain('  no_quorum: no quorum');
  });

  it('counts the early power checks once there were any', () => {
    expect(formatStatus(snapshot(), false, NOW)).not.toContain('early power checks');
    const s = snapshot();
    s.counters.powerChecks = { off: 3, on: 1, unread: 2 };
    expect(formatStatus(s, false, NOW)).toContain('early power checks of silent hosts: 3 read OFF, 1 read on, 2 not read');
  });

  it('says which key seals what during a rollover (names of key slots, never a key)', () => {
    const keys = {
      sealsWith: 'next',
      accepts: ['current', 'next'],
      hostsSealing: { current: 2, next: 5 },
      monitorsSealing: { mon2: 'next' },
      legacyAccepted: false,
    };
    expect(formatStatus({ ...snapshot(), keys }, false, NOW)).toContain(
      'keys: sealing with next, accepting current + next; hosts 2 on current, 5 on next; monitors mon2 next',
    );
  });

  it('starts with a one-line verdict and exits 0 healthy, 1 degraded, 2 without quorum', () => {
    expect(statusExitCode(snapshot())).toBe(0);
    expect(formatStatus(snapshot(), false, NOW).split('\n')[0]).toMatch(/^HEALTHY: quorum: 3 of 3 monitors, 2 needed; coordinator mon1;/);
    for (const a of ALARMS.slice(1)) {
      const s = snapshot({ alarms: [a] });
      expect(statusExitCode(s), a.kind).toBe(1);
      expect(verdictLine(s)).toMatch(/^DEGRADED/);
    }
    const nq = snapshot({ quorate: false, alarms: [ALARMS[0]!] });
    expect(statusExitCode(nq)).toBe(2);
    expect(verdictLine(nq)).toMatch(/^NO QUORUM/);
  });

  it('uses colour only when asked (a TTY), and keeps columns aligned with it', () => {
    expect(text).not.toContain('\x1b[');
    const tty = formatStatus(all, true, NOW);
    expect(tty).toContain('\x1b[31mfence_failed\x1b[0m');
    expect(tty).toContain('\x1b[32mup\x1b[0m');
    // Powered off is never painted like healthy.
    expect(tty).toContain('\x1b[35mfenced\x1b[0m');
    expect(tty).toContain('\x1b[35mevacuated\x1b[0m');
    // Servers left behind: red, never the green of a recovered host.
    expect(tty).toContain('\x1b[31mrecovery_failed\x1b[0m');
    const strip = (x: string): string => x.replace(/\x1b\[\d+m/g, '');
    expect(strip(tty)).toBe(text);
  });

  it('shows recent failures with each step timed from the first sign', () => {
    const t = 1_000_000;
    const events: ClusterEvent[] = [
      { type: 'host.suspect', at: t, host: 'cmp7', silentMs: 1000 },
      { type: 'host.failed', at: t + 2100, host: 'cmp7', bootId: 'b', votes: ['mon1', 'mon2'], lastHeardAt: t - 1000 },
      { type: 'host.fencing', at: t + 2110, host: 'cmp7', attempt: 1 },
      { type: 'host.fenced', at: t + 4000, host: 'cmp7', record: okFence },
      { type: 'host.recovery_start', at: t + 4010, host: 'cmp7' },
      {
        type: 'instance.evacuate_end',
        at: t + 9000,
        host: 'cmp7',
        server: { id: 's1', name: 'db', projectId: 'p', userId: 'u', tags: [], host: 'cmp7' },
        targetHost: 'cmp1',
        durationMs: 4000,
      },
      { type: 'host.recovery_end', at: t + 9100, host: 'cmp7', summary: { selected: 1, evacuated: 1, failed: 0, notified: 0 } },
    ];
    const out = formatStatus(snapshot({ events }), false, NOW);
    expect(out).toContain('RECENT FAILURES');
    expect(out).toContain(
      'cmp7  suspect +0.0s → failed +2.1s → fencing +2.1s → fenced +4.0s (L2 fence_ipmi 1840ms) → recovering +4.0s → recovery done +9.1s (selected 1, evacuated 1, failed 0, notified 0)  [instances: 1 evacuated]',
    );
    expect(out).not.toContain('projectId');
  });
});

describe('status at scale and for a powered-off host', () => {
  const many = (n: number, state: HostClusterState, prefix: string): StatusSnapshot['hosts'] =>
    Array.from({ length: n }, (_, i) => ({ ...host(state), host: `${prefix}${String(i).padStart(5, '0')}` }));
  const big = snapshot({ hosts: [...many(8000, 'up', 'a'), ...many(2000, 'suspect', 'b')] });

  it('summarises 10,000 hosts: counts by state, the first 20 not-up hosts, and what was left out', () => {
    const out = formatStatus(big, false, NOW);
    expect(out).toContain('hosts: 8,000 up · 2,000 suspect');
    const rows = out.split('\n').filter((l) => /^[ab]\d{5} /.test(l));
    expect(rows).toHaveLength(20);
    expect(rows.every((r) => r.startsWith('b'))).toBe(true);
    expect(out).toContain('… and 1,980 more not up; 8,000 up not listed — use --all, --state STATE or --host NAME');
    expect(out.split('\n').length).toBeLessThan(60);
  });

  it('lists every host with --all, one state with --state, one host with --host', () => {
    const rows = (o: Parameters<typeof formatStatus>[3]): string[] =>
      formatStatus(big, false, NOW, o)
        .split('\n')
        .filter((l) => /^[ab]\d{5} /.test(l));
    expect(rows({ all: true })).toHaveLength(10_000);
    expect(rows({ state: 'suspect' })).toHaveLength(2000);
    expect(rows({ host: 'a00017' })).toEqual([expect.stringMatching(/^a00017\s+up\s/)]);
    expect(formatStatus(big, false, NOW, { host: 'nope' })).toContain('no host named nope (the monitor knows 10,000 hosts)');
  });

  it('lists every host of a small cluster as before', () => {
    const small = snapshot({ hosts: many(50, 'up', 'c') });
    expect(
      formatStatus(small, false, NOW)
        .split('\n')
        .filter((l) => /^c\d{5} /.test(l)),
    ).toHaveLength(50);
  });

  it('bounds alarms of one kind', () => {
    const alarms = Array.from({ length: 2000 }, (_, i) => ({ kind: 'fence_failed', message: `h${i} could not be fenced` }));
    const out = formatStatus(snapshot({ alarms }), false, NOW);
    expect(out.split('\n').filter((l) => l.startsWith('  fence_failed: h'))).toHaveLength(5);
    expect(out).toContain('  fence_failed: … and 1,995 more fence_failed alarms');
  });

  it("shows the beacon's word as old news for a silent host, and Nova's own view beside it", () => {
    const off = { ...host('fenced'), host: 'compute-3', lastHeartbeatAgeMs: 41_000, fence: okFence, decisionSinceMs: NOW - 40_000 };
    const s = {
      ...snapshot({ hosts: [{ ...host('up'), host: 'compute-1' }, off, { ...host('up'), host: 'compute-9' }] }),
      nova: {
        polledAt: new Date(NOW - 12_000).toISOString(),
        intervalMs: 30_000,
        error: null,
        failures: 0,
        services: {
          'compute-1': { state: 'up', status: 'enabled', forcedDown: false, disabledReason: null },
          'compute-3': { state: 'down', status: 'disabled', forcedDown: true, disabledReason: 'instance-ha: fenced by mon1' },
        },
      },
    } as StatusSnapshot;
    const out = formatStatus(s, false, NOW);
    expect(out).toMatch(/^HOST\s+STATE\s+LAST HEARTBEAT\s+HERE\s+BEACON SAID\s+NOVA SAYS\s/m);
    const line = (h: string): string => out.split('\n').find((l) => l.startsWith(`${h} `))!;
    expect(line('compute-3')).toContain('up (41s ago)');
    expect(line('compute-3')).toContain('down, forced_down, disabled (instance-ha: fenced by mon1)');
    expect(line('compute-3')).not.toMatch(/BEACON|\sup\s+up\s/);
    expect(line('compute-1')).toMatch(/\sup\s+up\s/);
    expect(line('compute-9')).toContain('not in Nova');
    expect(out).toContain('NOVA SAYS: os-services as of 12s ago (polled every 30s)');
    // No compute configured: no NOVA SAYS column at all.
    expect(formatStatus(snapshot(), false, NOW)).not.toContain('NOVA SAYS');
  });

  it('bounds a RECENT FAILURES line, and says why a fence failed', () => {
    const t = 1_000_000;
    const events: ClusterEvent[] = [
      { type: 'host.suspect', at: t, host: 'cmp7', silentMs: 1000 },
      { type: 'host.failed', at: t + 2000, host: 'cmp7', bootId: 'b', votes: ['mon1'], lastHeardAt: t - 1000 },
    ];
    for (let i = 0; i < 200; i++)
      events.push(
        { type: 'host.fencing', at: t + 3000 + i * 10_000, host: 'cmp7', attempt: i + 1 },
        { type: 'host.fence_failed', at: t + 4000 + i * 10_000, host: 'cmp7', record: badFence, retryInMs: 10_000 },
      );
    const out = formatStatus(snapshot({ events }), false, NOW);
    const line = out.split('\n').find((l) => l.startsWith('  cmp7  '))!;
    expect(line.length).toBeLessThanOrEqual(322);
    expect(line).toContain('FENCE FAILED +4.0s (fence_apc_snmp 30000ms: timed out)');
    expect(line).toMatch(/… \d+ more steps …/);
  });
});

describe('a host whose recovery left servers behind', () => {
  it('is red on the dashboard too (its own state colour, outlined like a fence failure)', async () => {
    const { readFileSync } = await import('node:fs');
    const css = readFileSync(new URL('../../dashboard/dashboard.css', import.meta.url), 'utf8');
    const varOf = (name: string): string => new RegExp(`--${name}:\\s*([^;]+);`).exec(css)![1]!;
    expect(css).toMatch(/\.host\.s-recovery_failed \{ background: var\(--recovery_failed\); outline: 3px solid #000; \}/);
    expect(varOf('recovery_failed')).toBe(varOf('fence_failed'));
    expect(varOf('recovery_failed')).not.toBe(varOf('evacuated'));
  });
});

describe('nova-compute cell', () => {
  it.each([
    [undefined, 'up'],
    [
      { since: '2026-11-21T02:59:30.000Z', service: 'disabled' as const },
      'down: compute down since 02:59:30Z, service disabled by instance-ha',
    ],
    [
      { since: '2026-11-21T02:59:30.000Z', service: 'pending' as const },
      'down: compute down since 02:59:30Z, service disable asked of the coordinator',
    ],
    [
      { since: '2026-11-21T02:59:30.000Z', service: 'already_disabled' as const },
      'down: compute down since 02:59:30Z, service already disabled by someone else',
    ],
  ])('%j → %s', (computeDown, text) => {
    const h = computeDown ? host('up', { novaCompute: 'down', computeDown }) : host('up');
    expect(computeCell(h)).toBe(text);
  });
});

describe('status for a host whose beacon stopped cleanly (left)', () => {
  const s = snapshot({
    hosts: [host('up'), host('left', { left: { at: '2026-11-21T02:59:00.000Z', bootId: 'ab'.repeat(16) } })],
  });
  const text = formatStatus(s, false, NOW);

  it('is not an alarm (exit 0, HEALTHY) but the verdict line says it is not protected', () => {
    expect(statusExitCode(s)).toBe(0);
    expect(text.split('\n')[0]).toMatch(/^HEALTHY: .*; 1 host left \(beacon stopped cleanly: NOT protected\)$/);
    expect(verdictLine(snapshot({ hosts: [host('up')] }))).not.toMatch(/left/);
  });

  it('lists it under LEFT with since when and what brings it back, and never paints it green', () => {
    expect(text).toMatch(/^cmp-left\s+left\s/m);
    expect(text).toContain('LEFT (beacon stopped cleanly; never fenced for it; instances NOT protected until it runs again)');
    expect(text).toContain('  cmp-left: left at 2026-11-21T02:59:00.000Z; a heartbeat of a new boot brings it back');
    const tty = formatStatus(s, true, NOW);
    expect(tty).toContain('\x1b[33mleft\x1b[0m');
    expect(tty).not.toContain('\x1b[32mleft');
  });
});
