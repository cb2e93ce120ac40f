/**
 * Host names and monitor ids as instance-ha accepts them: RFC 1123 host names (labels of letters,
 * digits and inner hyphens, 1–63 characters each, dot-separated, at most 253 characters). This is
 * the same rule Nova's service host names follow in practice, and it keeps names that could be
 * paths (`../../etc/passwd`), object keys (`__proto__`) or log/terminal tricks out of every file,
 * status line and datagram they are written to. Exported for the wire codec and key settings.
 */
export const MAX_HOST_NAME_LENGTH = 253;

const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** Why `name` is not a valid host name, or undefined when it is one. */
export function hostNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if (name.length > MAX_HOST_NAME_LENGTH) return `is ${name.length} characters long, more than ${MAX_HOST_NAME_LENGTH}`;
  for (const label of name.split('.')) {
    if (!LABEL.test(label))
      return 'is not a host name (RFC 1123: dot-separated labels of 1-63 letters, digits and inner hyphens, at most 253 characters)';
  }
  return undefined;
}

export function isValidHostName(name: string): boolean {
  return hostNameProblem(name) === undefined;
}

/** Host names compare without case (DNS does): `Compute-1` and `compute-1` are the same host. */
export function hostNameKey(name: string): string {
  return name.toLowerCase();
}
