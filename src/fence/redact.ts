/**
 * Scrubs secrets out of agent output before it reaches a log or a record: every configured secret
 * value wherever it appears, and anything that looks like `password=…` / `-P …` (an agent may echo
 * its own options, as ipmitool-based ones do with -P).
 */
const PATTERNS: RegExp[] = [/((?:passw(?:or)?d|passwd|secret|token|kg)[\w-]*\s*[=:]\s*)\S+/gi, /(\s-P\s+)(?!\[set\])\S+/g];

export const REDACTED = '[redacted]';

export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  // Longest first, so a secret containing another is replaced whole.
  for (const s of [...secrets].filter((x) => x.length > 0).sort((a, b) => b.length - a.length)) out = out.split(s).join(REDACTED);
  for (const re of PATTERNS) out = out.replace(re, `$1${REDACTED}`);
  return out;
}

/** The last `maxChars` of redacted text: the end of stderr says why an agent failed. */
export function excerpt(text: string, secrets: readonly string[], maxChars = 500): string {
  const r = redact(text, secrets).trim();
  return r.length <= maxChars ? r : '…' + r.slice(r.length - maxChars);
}
