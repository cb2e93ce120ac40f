import type { StatusSnapshot } from '../core/status-snapshot.js';
import { recentRecoveries } from './status-recoveries.js';

type Host = StatusSnapshot['hosts'][number];
/** Recovery progress, when the recovery edge adds it to a host's status (shown only if present). */
interface RecoveryProgress {
  selected?: number;
  evacuated?: number;
  active?: number;
  failed?: number;
  notified?: number;
}

/** 0 healthy, 1 degraded (alarms), 2 no quorum (or, from the caller, monitor unreachable). */
export function statusExitCode(s: StatusSnapshot): 0 | 1 | 2 {
  if (!s.cluster.quorate) return 2;
  return s.alarms.length > 0 ? 1 : 0;
}

export function verdictLine(s: StatusSnapshot): string {
  const code = statusExitCode(s);
  const word = code === 0 ? 'HEALTHY' : code === 1 ? 'DEGRADED' : 'NO QUORUM';
  const failed = s.hosts.filter((h) => h.state !== 'up' && h.state !== 'maintenance').length;
  return (
    `${word}: quorum ${s.cluster.votes}/${s.cluster.needed} needed of ${s.cluster.expectedVotes}, coordinator ${s.cluster.coordinator ?? 'none'}, ` +
    `${s.hosts.length} hosts (${failed} not up), ${s.alarms.length} alarm(s)`
  );
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function age(ms: number | null): string {
  if (ms === null) return 'never';
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.round(ms / 1000)}s`;
}

function clock(wallMs: number): string {
  return new Date(wallMs).toISOString().slice(11, 19) + 'Z';
}

/** nova-compute health, and the compute-down rule's action when its grace ran out (never a fence). */
export function computeCell(h: Host): string {
  const c = h.computeDown;
  if (!c) return h.novaCompute;
  const since = Date.parse(c.since);
  const service =
    c.service === 'disabled'
      ? 'service disabled by instance-ha'
      : c.service === 'already_disabled'
        ? 'service already disabled by someone else'
        : 'service disable asked of the coordinator';
  return `${h.novaCompute}: compute down since ${Number.isFinite(since) ? clock(since) : c.since}, ${service}`;
}

/** Fencing state of one host: level, agent, when and how long (or how long so far). */
export function fenceCell(h: Host, nowMs: number, lastFailure?: { record: unknown; at: number }): string {
  if (h.state === 'fencing') return h.decisionSinceMs !== null ? `in progress ${age(nowMs - h.decisionSinceMs)}` : 'in progress';
  // The decision keeps a record only for a success; a failure's record is in its event.
  if (h.state === 'fence_failed' && !h.fence && lastFailure)
    h = { ...h, fence: lastFailure.record, decisionSinceMs: h.decisionSinceMs ?? lastFailure.at };
  const r = h.fence as {
    ok?: boolean;
    level?: number;
    agent?: string;
    durationMs?: number;
    attempts?: Array<{ agent?: string }>;
    error?: string;
    confirmedBy?: string;
  } | null;
  if (!r || typeof r !== 'object') return '-';
  if (r.ok && typeof r.confirmedBy === 'string')
    return `confirmed off by operator ${r.confirmedBy}${h.decisionSinceMs !== null ? ` at ${clock(h.decisionSinceMs)}` : ''}`;
  const agent = (r.agent ?? r.attempts?.[r.attempts.length - 1]?.agent ?? '?').split('/').pop();
  const dur = typeof r.durationMs === 'number' ? `${(r.durationMs / 1000).toFixed(1)}s` : '?';
  const when = h.decisionSinceMs !== null ? ` at ${clock(h.decisionSinceMs)}` : '';
  return r.ok ? `L${r.level ?? '?'} ${agent} ${dur}${when}` : `FAILED ${agent} ${dur}${when}`;
}

export function recoveryCell(h: Host): string {
  const p = (h as Host & { recovery?: RecoveryProgress | null }).recovery;
  if (!p || typeof p !== 'object') return '-';
  const n = (x: number | undefined): string => (x === undefined ? '?' : String(x));
  return `${n(p.evacuated)}/${n(p.selected)} evacuated, ${n(p.active)} active, ${n(p.failed)} failed, ${n(p.notified)} notified`;
}

export function formatStatus(s: StatusSnapshot, color: boolean, nowMs: number = Date.now()): string {
  const paint = (code: number, text: string): string => (color ? `\x1b[${code}m${text}\x1b[0m` : text);
  const code = statusExitCode(s);
  const out: string[] = [paint(code === 0 ? 32 : code === 1 ? 33 : 31, verdictLine(s)), ''];
  out.push(
    `monitor ${s.monitor.id} (v${s.monitor.version}, up since ${s.monitor.startedAt})` +
      `${s.cluster.acting ? ' — acting coordinator' : ''}${s.cluster.paused ? ' — recovering from a stall' : ''}`,
  );
  out.push('');
  out.push(
    table([
      ['MONITOR', 'ADDRESS', 'STATE', 'LAST SEEN', 'VOTES FOR', 'ROLE'],
      ...s.cluster.members.map((m) => [
        m.id + (m.self ? ' (self)' : ''),
        m.address,
        m.live ? 'live' : 'unreachable',
        m.self ? '-' : age(m.lastSeenAgoMs),
        m.vote ?? '-',
        m.acting ? 'coordinator' : '',
      ]),
    ]),
  );
  out.push('');
  if (s.hosts.length === 0) out.push('no hosts heard yet');
  else {
    // Green: fine; yellow: watch it; blue: being handled; red: needs a human or is failing.
    const stateColor = (st: string): number =>
      st === 'up' || st === 'recovered'
        ? 32
        : st === 'suspect' || st === 'maintenance'
          ? 33
          : st === 'fencing' || st === 'fenced' || st === 'recovering'
            ? 36
            : 31;
    const withRecovery = s.hosts.some((h) => recoveryCell(h) !== '-');
    const failures = new Map<string, { record: unknown; at: number }>();
    for (const e of s.recentEvents) if (e.type === 'host.fence_failed') failures.set(e.host, { record: e.record, at: e.at });
    // Padding is computed on the plain text, colour added after, so columns stay aligned on a TTY.
    const rows = s.hosts.map((h) => [
      h.host,
      h.state,
      age(h.lastHeartbeatAgeMs),
      h.localLevel,
      computeCell(h),
      `${h.lossPct}%`,
      `${(h.deadAfterMs / 1000).toFixed(1)}s`,
      h.maintenance ? 'yes' : '',
      fenceCell(h, nowMs, failures.get(h.host)),
      ...(withRecovery ? [recoveryCell(h)] : []),
    ]);
    const lines = table([
      [
        'HOST',
        'STATE',
        'LAST HEARTBEAT',
        'HERE',
        'NOVA-COMPUTE',
        'LOSS',
        'DEAD AFTER',
        'MAINT',
        'FENCE',
        ...(withRecovery ? ['RECOVERY'] : []),
      ],
      ...rows,
    ]).split('\n');
    out.push(lines[0]!);
    lines.slice(1).forEach((line, i) => {
      const h = s.hosts[i]!;
      const at = line.indexOf(h.state, h.host.length);
      out.push(line.slice(0, at) + paint(stateColor(h.state), h.state) + line.slice(at + h.state.length));
    });
  }
  if (s.alarms.length > 0) {
    out.push('', 'ALARMS');
    for (const a of s.alarms) out.push(`  ${paint(31, a.kind)}: ${a.message}`);
  }
  const recoveries = recentRecoveries(s.recentEvents);
  if (recoveries.length > 0) {
    out.push('', 'RECENT FAILURES (time from first sign; full journal: instance-ha history HOST)');
    for (const r of recoveries) out.push(`  ${r}`);
  }
  const d = s.counters.dropped;
  const droppedTotal = Object.values(d).reduce((a, b) => a + b, 0);
  out.push(
    '',
    `datagrams: ${s.counters.received} received, ${s.counters.accepted} accepted, ${droppedTotal} dropped${
      droppedTotal
        ? ` (${Object.entries(d)
            .filter(([, n]) => n > 0)
            .map(([k, n]) => `${k} ${n}`)
            .join(', ')})`
        : ''
    }`,
  );
  return out.join('\n');
}
