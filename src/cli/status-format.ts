import type { StatusSnapshot } from '../core/status-snapshot.js';
import { attentionOrder, countByState, countsLine } from '../status-api/host-query.js';
import { novaCell, novaLine, novaSection } from './status-nova.js';
import { fenceFailureReason } from './fence-reason.js';
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
  const c = s.cluster;
  return (
    `${word}: ${quorumLine(s)}; coordinator ${c.coordinator ?? 'none'}; ` +
    `${num(s.hosts.length)} hosts (${num(failed)} not up); ${s.alarms.length} alarm${s.alarms.length === 1 ? '' : 's'}` +
    leftNote(s)
  );
}

/**
 * Hosts whose beacon stopped cleanly: not an alarm (the operator stopped it; status exits 0), but never
 * hidden either: their instances are NOT protected, so the verdict line says so.
 */
function leftNote(s: StatusSnapshot): string {
  const n = s.hosts.filter((h) => h.state === 'left').length;
  return n === 0 ? '' : `; ${num(n)} host${n === 1 ? '' : 's'} left (beacon stopped cleanly: NOT protected)`;
}

/** `quorum: 3 of 3 monitors, 2 needed` — heard (itself included) of expected, and the majority. */
export function quorumLine(s: StatusSnapshot): string {
  const c = s.cluster;
  return `quorum: ${c.votes} of ${c.expectedVotes} monitors, ${c.needed} needed${c.quorate ? '' : ' (NOT MET)'}`;
}

/** 12,345: host counts at scale are read, not parsed. */
function num(n: number): string {
  return n.toLocaleString('en-US');
}

/** What `status` lists: a summary by default; every host, one state, or one host on request. */
export interface StatusView {
  all?: boolean;
  state?: string;
  host?: string;
}

/** Up to this many hosts, every one is listed; above, a summary (counts + the first not-up hosts). */
export const FULL_LIST_MAX_HOSTS = 50;
export const SUMMARY_ROWS = 20;
/** Alarms of one kind beyond this are counted, not listed (2,000 fence_failed lines help nobody). */
export const ALARMS_PER_KIND = 5;

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
    attempts?: Array<{ agent?: string; detail?: string; exitCode?: number | null; device?: string }>;
    error?: string;
    confirmedBy?: string;
  } | null;
  if (!r || typeof r !== 'object') return '-';
  if (r.ok && typeof r.confirmedBy === 'string')
    return `confirmed off by operator ${r.confirmedBy}${h.decisionSinceMs !== null ? ` at ${clock(h.decisionSinceMs)}` : ''}`;
  const agent = (r.agent ?? r.attempts?.[r.attempts.length - 1]?.agent ?? '?').split('/').pop();
  const dur = typeof r.durationMs === 'number' ? `${(r.durationMs / 1000).toFixed(1)}s` : '?';
  const when = h.decisionSinceMs !== null ? ` at ${clock(h.decisionSinceMs)}` : '';
  return r.ok ? `L${r.level ?? '?'} ${agent} ${dur}${when}` : `FAILED ${agent} ${dur}${when}: ${fenceFailureReason(r)}`;
}

export function recoveryCell(h: Host): string {
  const p = (h as Host & { recovery?: RecoveryProgress | null }).recovery;
  if (!p || typeof p !== 'object') return '-';
  const n = (x: number | undefined): string => (x === undefined ? '?' : String(x));
  return `${n(p.evacuated)}/${n(p.selected)} evacuated, ${n(p.active)} active, ${n(p.failed)} failed, ${n(p.notified)} notified`;
}

export function formatStatus(s: StatusSnapshot, color: boolean, nowMs: number = Date.now(), view: StatusView = {}): string {
  const paint = (code: number, text: string): string => (color ? `\x1b[${code}m${text}\x1b[0m` : text);
  const code = statusExitCode(s);
  const out: string[] = [paint(code === 0 ? 32 : code === 1 ? 33 : 31, verdictLine(s)), ''];
  out.push(
    `monitor ${s.monitor.id} (v${s.monitor.version}, up since ${s.monitor.startedAt})` +
      `${s.cluster.acting ? ' — acting coordinator' : ''}${s.cluster.paused ? ' — recovering from a stall' : ''}`,
  );
  out.push(quorumLine(s));
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
  const nova = novaSection(s);
  if (s.hosts.length === 0) out.push('no hosts heard yet');
  else {
    const { listed, note } = hostsToList(s.hosts, view);
    out.push(`hosts: ${countsLine(countByState(s.hosts))}`);
    if (listed.length > 0) out.push(...hostTable(s, listed, nowMs, paint, nova !== null));
    if (note) out.push(note);
  }
  if (nova) out.push(novaLine(nova, nowMs));
  const left = s.hosts.filter((h) => h.state === 'left');
  if (left.length > 0) {
    out.push('', 'LEFT (beacon stopped cleanly; never fenced for it; instances NOT protected until it runs again)');
    for (const h of left.slice(0, ALARMS_PER_KIND))
      out.push(`  ${paint(33, h.host)}: left at ${h.left ? h.left.at : '?'}; a heartbeat of a new boot brings it back`);
    if (left.length > ALARMS_PER_KIND) out.push(`  … and ${num(left.length - ALARMS_PER_KIND)} more (instance-ha status --state left)`);
  }
  if (s.alarms.length > 0) {
    out.push('', 'ALARMS');
    const shown = new Map<string, number>();
    for (const a of s.alarms) {
      const n = (shown.get(a.kind) ?? 0) + 1;
      shown.set(a.kind, n);
      if (n <= ALARMS_PER_KIND) out.push(`  ${paint(31, a.kind)}: ${a.message}`);
    }
    for (const [kind, n] of shown)
      if (n > ALARMS_PER_KIND)
        out.push(`  ${paint(31, kind)}: … and ${num(n - ALARMS_PER_KIND)} more ${kind} alarms (instance-ha status --json)`);
  }
  const recoveries = recentRecoveries(s.recentEvents);
  if (recoveries.length > 0) {
    out.push('', 'RECENT FAILURES (time from first sign; full journal: instance-ha history HOST)');
    for (const r of recoveries) out.push(`  ${r}`);
  }
  if (s.guests) out.push('', ...guestLines(s.guests));
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
    }${s.counters.largestMonitorDatagramBytes ? `; largest monitor datagram ${s.counters.largestMonitorDatagramBytes} bytes` : ''}`,
  );
  const pc = s.counters.powerChecks;
  if (pc && pc.off + pc.on + pc.unread > 0)
    out.push(`early power checks of silent hosts: ${pc.off} read OFF, ${pc.on} read on, ${pc.unread} not read`);
  // Which key seals what (a rollover is done when nothing is left on the old key): names of slots, never keys.
  const k = s.keys;
  if (k) {
    const hosts = Object.entries(k.hostsSealing).map(([slot, n]) => `${n} on ${slot}`);
    const others = Object.entries(k.monitorsSealing).map(([id, slot]) => `${id} ${slot}`);
    out.push(
      `keys: sealing with ${k.sealsWith}, accepting ${k.accepts.join(' + ')}; hosts ${hosts.join(', ') || 'none heard'}` +
        (others.length ? `; monitors ${others.join(', ')}` : ''),
    );
  }
  return out.join('\n');
}

/** Guest OS failures inside live hosts: counts, then the most recent few (newest first). */
export function guestLines(g: NonNullable<StatusSnapshot['guests']>, max = 5): string[] {
  const out = [
    `GUEST FAILURES: ${g.failures} reported, ${g.restarted} restarted, ${g.restartFailed} restart failed, ${g.budgetExhausted} past the restart budget` +
      (g.dropped ? `, ${g.dropped} dropped by rate limits` : ''),
  ];
  for (const r of [...g.recent].reverse().slice(0, max)) {
    const done = r.recovery === 'restart' ? `restart ${r.outcome ?? 'in progress'}${r.reason ? ` (${r.reason})` : ''}` : r.recovery;
    out.push(`  ${clock(Date.parse(r.at))} ${r.host} ${r.instance} ${r.event} ${r.detail}${r.action ? ` [${r.action}]` : ''}: ${done}`);
  }
  return out;
}

type Paint = (code: number, text: string) => string;

/**
 * Which hosts get a row: all of them in a small cluster or with --all; with --state or --host the
 * matching ones; otherwise the first SUMMARY_ROWS not-up hosts and a line saying what was left out.
 */
function hostsToList(hosts: readonly Host[], view: StatusView): { listed: Host[]; note: string | null } {
  if (view.host !== undefined) {
    const h = hosts.filter((x) => x.host === view.host);
    return { listed: h, note: h.length ? null : `no host named ${view.host} (the monitor knows ${num(hosts.length)} hosts)` };
  }
  if (view.state !== undefined) {
    const h = hosts.filter((x) => x.state === view.state);
    return { listed: h, note: h.length ? null : `no host is ${view.state}` };
  }
  if (view.all || hosts.length <= FULL_LIST_MAX_HOSTS) return { listed: [...hosts], note: null };
  const notUp = attentionOrder(hosts).filter((h) => h.state !== 'up');
  const listed = notUp.slice(0, SUMMARY_ROWS);
  const up = hosts.length - notUp.length;
  const more = notUp.length - listed.length;
  const parts = [...(more > 0 ? [`… and ${num(more)} more not up`] : []), ...(up > 0 ? [`${num(up)} up not listed`] : [])];
  return { listed, note: parts.length ? `${parts.join('; ')} — use --all, --state STATE or --host NAME` : null };
}

/** Green: fine; yellow: watch it; cyan: being handled; magenta: powered off (needs unfence); red: needs a human. */
export function stateColor(st: string): number {
  if (st === 'up') return 32;
  // left: stopped on purpose, not a failure, but not protected either: never green.
  if (st === 'suspect' || st === 'maintenance' || st === 'left') return 33;
  if (st === 'fencing' || st === 'recovering') return 36;
  // A fenced or recovered host is powered off: never the colour of a healthy one.
  if (st === 'fenced' || st === 'evacuated') return 35;
  return 31;
}

function hostTable(s: StatusSnapshot, hosts: readonly Host[], nowMs: number, paint: Paint, withNova: boolean): string[] {
  const withRecovery = hosts.some((h) => recoveryCell(h) !== '-');
  const failures = new Map<string, { record: unknown; at: number }>();
  for (const e of s.recentEvents) if (e.type === 'host.fence_failed') failures.set(e.host, { record: e.record, at: e.at });
  // Padding is computed on the plain text, colour added after, so columns stay aligned on a TTY.
  const rows = hosts.map((h) => [
    h.host,
    h.state,
    age(h.lastHeartbeatAgeMs),
    h.localLevel,
    beaconCell(h),
    ...(withNova ? [novaCell(s, h.host)] : []),
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
      'BEACON SAID',
      ...(withNova ? ['NOVA SAYS'] : []),
      'LOSS',
      'DEAD AFTER',
      'MAINT',
      'FENCE',
      ...(withRecovery ? ['RECOVERY'] : []),
    ],
    ...rows,
  ]).split('\n');
  const out = [lines[0]!];
  lines.slice(1).forEach((line, i) => {
    const h = hosts[i]!;
    const at = line.indexOf(h.state, h.host.length);
    out.push(line.slice(0, at) + paint(stateColor(h.state), h.state) + line.slice(at + h.state.length));
  });
  return out;
}

/**
 * The beacon's last word on nova-compute. Fresh when the host is heard now; otherwise it is what a
 * host said before it went silent (a powered-off host's beacon said `up`), so it says how old it is.
 */
export function beaconCell(h: Host): string {
  if (h.lastHeartbeatAgeMs === null) return '-';
  // A live host whose nova-compute is down: what the compute-down rule did about it.
  if (h.computeDown) return computeCell(h);
  return h.localLevel === 'up' ? h.novaCompute : `${h.novaCompute} (${age(h.lastHeartbeatAgeMs)} ago)`;
}
