/**
 * Strict readers for the status API's query parameters: each endpoint names the parameters it takes,
 * anything else (an unknown name, a repeated one, a value out of range) is a 400 naming it. A loose
 * reader is how `since=-1` came to mean "everything".
 */
export class BadParameter extends Error {
  constructor(
    readonly parameter: string,
    message: string,
  ) {
    super(message);
    this.name = 'BadParameter';
  }
}

/** Host names as the config accepts them: letters, digits, dot, dash, underscore; at most 253. */
const HOST_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;

export class QueryParams {
  constructor(private readonly params: URLSearchParams) {}

  /** Refuses any parameter not in `known`, and any given twice. */
  only(known: readonly string[]): this {
    const seen = new Set<string>();
    for (const k of this.params.keys()) {
      if (!known.includes(k))
        throw new BadParameter(
          k,
          `unknown parameter '${k}'${known.length ? ` (this endpoint takes: ${known.join(', ')})` : ' (this endpoint takes none)'}`,
        );
      if (seen.has(k)) throw new BadParameter(k, `parameter '${k}' given more than once`);
      seen.add(k);
    }
    return this;
  }

  raw(name: string): string | undefined {
    return this.params.get(name) ?? undefined;
  }

  /** A whole number in [min, max]; `def` when absent. */
  int(name: string, def: number, min: number, max: number): number {
    const v = this.params.get(name);
    if (v === null) return def;
    if (!/^\d{1,15}$/.test(v)) throw new BadParameter(name, `${name} must be a whole number from ${min} to ${max}, got '${clip(v)}'`);
    const n = Number(v);
    if (n < min || n > max) throw new BadParameter(name, `${name} must be from ${min} to ${max}, got ${n}`);
    return n;
  }

  host(name: string): string | undefined {
    const v = this.params.get(name);
    if (v === null) return undefined;
    if (!HOST_NAME.test(v)) throw new BadParameter(name, `${name} must be a host name (letters, digits, '.', '-', '_'), got '${clip(v)}'`);
    return v;
  }

  oneOf(name: string, allowed: readonly string[]): string | undefined {
    const v = this.params.get(name);
    if (v === null) return undefined;
    if (!allowed.includes(v)) throw new BadParameter(name, `${name} must be one of ${allowed.join(', ')}, got '${clip(v)}'`);
    return v;
  }
}

/** Echo at most 40 characters of a bad value: the error must not become an amplifier. */
function clip(v: string): string {
  return v.length > 40 ? `${v.slice(0, 40)}…` : v;
}
