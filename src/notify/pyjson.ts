/**
 * JSON text as Python's `json.dumps` writes it with default arguments, which is what oslo.messaging
 * (through `oslo_serialization.jsonutils.dumps` and kombu) puts on the wire: `", "` and `": "`
 * separators and `ensure_ascii=True` (every non-ASCII UTF-16 unit escaped as `\uXXXX`).
 * Matching it byte for byte means our messages look exactly like a Python publisher's, so consumers
 * that compare or hash bodies, and our golden-file tests, have one canonical form. Pure.
 */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue | undefined };

export function pyJsonDumps(value: JsonValue): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return pyString(value);
    case 'number':
      // Python refuses NaN/Infinity only with allow_nan=False; JSON consumers choke on them anyway.
      if (!Number.isFinite(value)) throw new RangeError(`not a JSON number: ${value}`);
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      if (Array.isArray(value)) return '[' + value.map(pyJsonDumps).join(', ') + ']';
      return (
        '{' +
        Object.entries(value)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => `${pyString(k)}: ${pyJsonDumps(v as JsonValue)}`)
          .join(', ') +
        '}'
      );
    default:
      throw new TypeError(`not JSON-serialisable: ${typeof value}`);
  }
}

function pyString(s: string): string {
  // JSON.stringify already escapes quotes, backslashes and control characters the way Python does
  // (\b \f \n \r \t, others as lower-case \u00xx); Python additionally escapes everything non-ASCII.
  return JSON.stringify(s).replace(/[\u0080-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}
