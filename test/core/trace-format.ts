/**
 * Compact, deterministic text for core effects in golden traces. Only `emit` and `log` get a shape of
 * their own; every other effect (including ones the core gains later) prints as its type followed by
 * its fields, so a new effect shows up in the traces without touching this file.
 */

/** `key=value` pairs, nested values in braces and brackets; strings bare unless they need quotes. */
export function formatFields(obj: Record<string, unknown>, skip: readonly string[] = []): string {
  return Object.entries(obj)
    .filter(([k, v]) => !skip.includes(k) && v !== undefined)
    .map(([k, v]) => `${k}=${formatValue(v)}`)
    .join(' ');
}

export function formatValue(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return /^[\w.:@/-]+$/.test(v) ? v : JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(formatValue).join(',')}]`;
  if (v instanceof Map) return formatValue(Object.fromEntries(v));
  if (typeof v === 'object') return `{${formatFields(v as Record<string, unknown>)}}`;
  return String(v);
}

/**
 * One effect as one line. `at` fields equal to the step's time are left out (the line is already
 * prefixed with it); a different `at` is shown, since that is worth a reviewer's attention.
 */
export function formatEffect(effect: { type: string } & Record<string, unknown>, now: number): string {
  const atSkip = (o: Record<string, unknown>): string[] => (o.at === now ? ['type', 'at'] : ['type']);
  if (effect.type === 'emit' && isRecord(effect.event) && typeof effect.event.type === 'string') {
    return join('emit', effect.event.type, formatFields(effect.event, atSkip(effect.event)));
  }
  if (effect.type === 'log' && typeof effect.msg === 'string') {
    const fields = isRecord(effect.fields) ? formatFields(effect.fields) : '';
    return join('log', String(effect.level), JSON.stringify(effect.msg), fields);
  }
  return join(effect.type, formatFields(effect, atSkip(effect)));
}

function join(...parts: string[]): string {
  return parts.filter((p) => p !== '').join(' ');
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
