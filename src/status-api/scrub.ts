/**
 * Defence in depth for everything the status API and the history serve: no field whose name says
 * it is a secret ever leaves the monitor, whatever a future event or status section carries.
 * (Names are matched, not values: the producers already keep secrets out; this catches mistakes.)
 */
const SECRET_NAME =
  /(^|_)(password|passwd|secret|token|authorization|credentials?)$|^(cluster_?key|api_?key|private_?key|key)$|(Password|Passwd|Secret|Token|Key|Credentials?)$/;

/** Names that end in "Key"/"key" yet are not secrets (they identify, they do not authenticate). */
const ALLOWED = new Set(['routingKey', 'routing_key']);

export function isSecretName(name: string): boolean {
  return !ALLOWED.has(name) && SECRET_NAME.test(name);
}

/** A deep copy without secret-named fields. */
export function scrubSecrets<T>(value: T): T {
  return scrub(value) as T;
}

function scrub(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(scrub);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (isSecretName(k)) continue;
    out[k] = scrub(x);
  }
  return out;
}
