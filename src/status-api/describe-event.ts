import type { ClusterEvent } from '../core/events.js';

/**
 * One line for any event, known or not yet known (recovery and notifications add types): the host
 * first, then the other fields as key=value, with fence records and servers summarised.
 */
export function describeEvent(e: ClusterEvent | { type: string; [k: string]: unknown }): string {
  const parts: string[] = [];
  const rec = e as Record<string, unknown>;
  if (typeof rec.host === 'string') parts.push(rec.host);
  for (const [k, v] of Object.entries(rec)) {
    if (k === 'type' || k === 'at' || k === 'host' || v === undefined || v === null) continue;
    parts.push(`${k}=${summarise(k, v)}`);
  }
  return parts.join(' ');
}

function summarise(key: string, v: unknown): string {
  if ((key === 'lastHeardAt' || key === 'powerReadOffAt') && typeof v === 'number') return new Date(v).toISOString();
  if (typeof v === 'number' && /Ms$/.test(key)) return `${Math.round(v)}ms`;
  if (Array.isArray(v)) return v.every((x) => typeof x !== 'object') ? v.join(',') : `[${v.length}]`;
  if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    // A fence record: outcome, level, agent, duration (attempts are in --json).
    if ('attempts' in o && 'ok' in o) {
      const agent = typeof o.agent === 'string' ? o.agent.split('/').pop() : undefined;
      return [
        o.ok ? 'ok' : 'FAILED',
        o.level !== undefined ? `level ${String(o.level)}` : '',
        agent ?? '',
        typeof o.durationMs === 'number' ? `${Math.round(o.durationMs)}ms` : '',
        typeof o.error === 'string' ? `(${o.error})` : '',
        typeof o.confirmedBy === 'string' ? `confirmed by operator ${o.confirmedBy}` : '',
      ]
        .filter(Boolean)
        .join('/');
    }
    // A server: its name and id only.
    if ('id' in o && 'name' in o) return `${String(o.name)}(${String(o.id)})`;
    return JSON.stringify(o);
  }
  return String(v);
}
