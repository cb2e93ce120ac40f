import { HaError } from '../errors.js';

/** Base of every IPMI failure; `detail` is safe to log (never contains a secret). */
export class IpmiError extends HaError {}

/** A datagram that is not a valid answer: truncated, garbled, forged or from another session. */
export class IpmiProtocolError extends IpmiError {}

/** No valid answer before the deadline. `lastRejection` says what was dropped meanwhile, if anything. */
export class IpmiTimeoutError extends IpmiError {
  constructor(
    readonly what: string,
    readonly waitedMs: number,
    readonly lastRejection?: string,
  ) {
    super(
      `no valid answer from the BMC to ${what} within ${waitedMs}ms` +
        (lastRejection ? ` (dropped invalid replies: ${lastRejection})` : ''),
    );
  }
}

/** The BMC refused the login (wrong password, unknown user, privilege not allowed). */
export class IpmiAuthError extends IpmiError {}

/** Nothing listens on the BMC's port (ICMP port unreachable on the connected socket). */
export class IpmiUnreachableError extends IpmiError {}

/** A command answered with a non-zero completion code (IPMI v2.0 §5.2, Table 5-2). */
export class IpmiCompletionError extends IpmiError {
  constructor(
    readonly what: string,
    readonly completionCode: number,
  ) {
    super(`${what} failed: completion code 0x${completionCode.toString(16).padStart(2, '0')} (${describeCompletionCode(completionCode)})`);
  }
}

/** A configuration this client refuses (e.g. a cipher suite without authentication or without trusted vectors). */
export class IpmiUnsupportedError extends IpmiError {}

const COMPLETION_CODES: Record<number, string> = {
  0xc0: 'node busy',
  0xc1: 'invalid command',
  0xc3: 'timeout while processing',
  0xc7: 'request data length invalid',
  0xc9: 'parameter out of range',
  0xcc: 'invalid data field in request',
  0xd4: 'insufficient privilege level',
  0xd5: 'command not supported in present state',
  0xff: 'unspecified error',
};

export function describeCompletionCode(cc: number): string {
  return COMPLETION_CODES[cc] ?? 'see IPMI v2.0 Table 5-2';
}
