import { HaError } from '../errors.js';

/**
 * A 4xx/5xx answer from an OpenStack API, carrying the service's own fault name and message
 * (Nova: `{"badRequest": {"code": 400, "message": "..."}}`, nova/api/openstack/wsgi.py) and the
 * request id so an operator can find the call in the service's logs.
 */
export class OpenStackApiError extends HaError {
  constructor(
    readonly method: string,
    readonly url: string,
    readonly status: number,
    readonly faultName: string | undefined,
    readonly faultMessage: string,
    readonly requestId: string | undefined,
  ) {
    super(
      `${method} ${redactUrl(url)} -> ${status}${faultName ? ` ${faultName}` : ''}: ${faultMessage}${requestId ? ` (request ${requestId})` : ''}`,
    );
  }

  get isClientError(): boolean {
    return this.status >= 400 && this.status < 500;
  }

  /** Nova's 409 on evacuate: another task (an evacuation) is in flight for that server. */
  get isConflict(): boolean {
    return this.status === 409;
  }

  /** Nova's 400 `ComputeServiceInUse` (nova/compute/api.py evacuate): the source compute is still up. */
  get isServiceInUse(): boolean {
    return this.status === 400 && /is still in use/i.test(this.faultMessage);
  }

  /** Nova's 400 on `forced_down: false` while `done` evacuation records remain (bug 1922053). */
  get isDoneMigrationsRemain(): boolean {
    return this.status === 400 && /evacuation migration records remain/i.test(this.faultMessage);
  }
}

/** The call may or may not have reached the service (reset, timeout, or 5xx after every retry). */
export class OpenStackTransportError extends HaError {
  constructor(
    readonly method: string,
    readonly url: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${method} ${redactUrl(url)}: ${message}`, options);
  }
}

/** Keystone refused the credentials or gave no usable catalog entry. */
export class KeystoneError extends HaError {}

/** The cloud's compute API does not offer a microversion a call needs. */
export class MicroversionError extends HaError {}

/** Query strings may carry markers, never secrets; still drop them from messages to keep them short. */
function redactUrl(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q) + '?…';
}
