import type { StatusSnapshot } from '../daemon/status.js';

/** 0 healthy, 1 degraded (alarms), 2 no quorum (or, from the caller, monitor unreachable). */
export function statusExitCode(s: StatusSnapshot): 0 | 1 | 2 {
  if (!s.cluster.quorate) return 2;
  return s.alarms.length > 0 ? 1 : 0;
}

export function verdictLine(s: StatusSnapshot): string {
  const code = statusExitCode(s);
  const word = code === 0 ? 'HEALTHY' : code === 1 ? 'DEGRADED' : 'NO QUORUM';
  const failed = s.hosts.filter((h) => h.state !== 'up' && h.state !== 'maintenance').length;
  return `${word}: quorum ${s.cluster.votes}/${s.cluster.needed} needed of ${s.cluster.expectedVotes}, coordinator ${s.cluster.coordinator ?? 'none'}, ${s.hosts.length} hosts (${failed} not up), ${s.alarms.length} alarm(s)`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

function age(ms: number | null): string {
  if (ms === null) return 'never';
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.round(ms / 1000)}s`;
}

export function formatStatus(s: StatusSnapshot, color: boolean): string {
  const paint = (code: number, text: string): string => (color ? `\x1b[${code}m${text}\x1b[0m` : text);
  const code = statusExitCode(s);
  const out: string[] = [paint(code === 0 ? 32 : code === 1 ? 33 : 31, verdictLine(s)), ''];
  out.push(`monitor ${s.monitor.id} (v${s.monitor.version}, up since ${s.monitor.startedAt})${s.cluster.acting ? ' — acting coordinator' : ''}${s.cluster.paused ? ' — recovering from a stall' : ''}`);
  out.push('');
  out.push(
    table([
      ['MONITOR', 'ADDRESS', 'STATE', 'LAST SEEN', 'VOTES FOR', 'ROLE'],
      ...s.cluster.members.map((m) => [m.id + (m.self ? ' (self)' : ''), m.address, m.live ? 'live' : 'unreachable', m.self ? '-' : age(m.lastSeenAgoMs), m.vote ?? '-', m.acting ? 'coordinator' : '']),
    ]),
  );
  out.push('');
  if (s.hosts.length === 0) out.push('no hosts heard yet');
  else {
    const stateColor = (st: string): number => (st === 'up' ? 32 : st === 'suspect' || st === 'maintenance' ? 33 : 31);
    out.push(
      table([
        ['HOST', 'STATE', 'LAST HEARTBEAT', 'HERE', 'NOVA-COMPUTE', 'LOSS', 'DEAD AFTER', 'MAINT'],
        ...s.hosts.map((h) => [h.host, paint(stateColor(h.state), h.state), age(h.lastHeartbeatAgeMs), h.localLevel, h.novaCompute, `${h.lossPct}%`, `${(h.deadAfterMs / 1000).toFixed(1)}s`, h.maintenance ? 'yes' : '']),
      ]),
    );
  }
  if (s.alarms.length > 0) {
    out.push('', 'ALARMS');
    for (const a of s.alarms) out.push(`  ${paint(31, a.kind)}: ${a.message}`);
  }
  const d = s.counters.dropped;
  const droppedTotal = Object.values(d).reduce((a, b) => a + b, 0);
  out.push('', `datagrams: ${s.counters.received} received, ${s.counters.accepted} accepted, ${droppedTotal} dropped${droppedTotal ? ` (${Object.entries(d).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ')})` : ''}`);
  return out.join('\n');
}
