import { fenceFailureReason } from './fence-reason.js';
import type { ClusterEvent } from '../core/events.js';

/** Short names of the steps of a failure's handling, by event type (unknown types keep their name). */
const STEP: Record<string, string> = {
  'host.suspect': 'suspect',
  'host.failed': 'failed',
  'host.fencing': 'fencing',
  'host.fenced': 'fenced',
  'host.fence_failed': 'FENCE FAILED',
  'host.recovery_start': 'recovering',
  'host.forced_down': 'forced down',
  'host.recovery_end': 'recovery done',
  'host.rejoined': 'back in service',
  'instance.evacuate_start': 'evacuate',
  'instance.evacuate_end': 'evacuated',
  'instance.evacuate_error': 'EVACUATE ERROR',
  'instance.not_selected': 'not selected',
};

/**
 * The recent failures in the snapshot's event list, one line each with every step and its time
 * from the first sign of trouble: `cmp2  suspect +0.0s → failed +2.1s → fenced +2.2s (L1 fence_fake 96ms)`.
 * Events of later kinds (force-down, notifications) appear under their own type name.
 */
export function recentRecoveries(events: readonly ClusterEvent[], limit = 5): string[] {
  const incidents: Array<{ host: string; start: number; steps: string[]; extra: string[] }> = [];
  const open = new Map<string, (typeof incidents)[number]>();
  for (const e of events) {
    const host = (e as { host?: unknown }).host;
    if (typeof host !== 'string' || e.type === 'host.maintenance') continue;
    let inc = open.get(host);
    if (!inc) {
      // Only a sign of failure opens an incident; a stray recovered/instance event alone does not.
      if (e.type !== 'host.suspect' && e.type !== 'host.failed') continue;
      inc = { host, start: e.at, steps: [], extra: [] };
      incidents.push(inc);
      open.set(host, inc);
    }
    const name = STEP[e.type] ?? e.type;
    // Instance steps are many: counted per kind rather than listed one by one.
    if (e.type.startsWith('instance.')) {
      inc.extra.push(name);
      continue;
    }
    inc.steps.push(`${name} +${((e.at - inc.start) / 1000).toFixed(1)}s`);
    if (e.type === 'host.fenced' || e.type === 'host.fence_failed') {
      const r = e.record;
      inc.steps[inc.steps.length - 1] +=
        ` (${r.ok ? `L${r.level ?? '?'} ` : ''}${(r.agent ?? r.attempts[r.attempts.length - 1]?.agent ?? 'no agent').split('/').pop()}` +
        ` ${Math.round(r.durationMs)}ms${r.ok ? '' : `: ${fenceFailureReason(r)}`})`;
    }
    if (e.type === 'host.recovery_end') {
      const s = e.summary;
      inc.steps[inc.steps.length - 1] += ` (selected ${s.selected}, evacuated ${s.evacuated}, failed ${s.failed}, notified ${s.notified})`;
    }
    if (e.type === 'host.rejoined' || e.type === 'host.recovery_end') open.delete(host);
  }
  const lines = incidents.slice(-limit).map((i) => {
    const counts = new Map<string, number>();
    for (const x of i.extra) counts.set(x, (counts.get(x) ?? 0) + 1);
    const extra = [...counts].map(([k, n]) => `${n} ${k}`).join(', ');
    // A fence retried for an hour is 100 steps: the first ones and the latest say what happened.
    const steps =
      i.steps.length > MAX_STEPS
        ? [...i.steps.slice(0, HEAD_STEPS), `… ${i.steps.length - HEAD_STEPS - TAIL_STEPS} more steps …`, ...i.steps.slice(-TAIL_STEPS)]
        : i.steps;
    const line = `${i.host}  ${steps.join(' → ')}${extra ? `  [instances: ${extra}]` : ''}`;
    return line.length > MAX_LINE ? `${line.slice(0, MAX_LINE - 1)}…` : line;
  });
  if (incidents.length > limit) lines.push(`(${incidents.length - limit} earlier failure(s) not shown: instance-ha history)`);
  return lines;
}

/** Bounds of one RECENT FAILURES line: at most MAX_STEPS steps (head and tail kept), MAX_LINE characters. */
const MAX_STEPS = 9;
const HEAD_STEPS = 4;
const TAIL_STEPS = 4;
const MAX_LINE = 320;
