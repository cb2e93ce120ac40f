import pRetry, { AbortError } from 'p-retry';
import type { Logger } from '../log.js';
import { OpenStackApiError, OpenStackTransportError } from './errors.js';

export type FetchFn = typeof fetch;

export interface HttpOptions {
  fetch: FetchFn;
  log: Logger;
  /** Per-attempt timeout. */
  requestTimeoutMs: number;
  /** Extra attempts after the first for 5xx, resets and timeouts (idempotent calls only). */
  retries: number;
  /** First backoff; doubled each retry, randomized (p-retry jitter) up to maxBackoffMs. */
  minBackoffMs: number;
  maxBackoffMs: number;
}

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  /**
   * false for calls that must never be sent twice blindly (evacuate): a reset or 5xx is then
   * reported as an OpenStackTransportError and the caller asks the service what happened.
   */
  idempotent?: boolean;
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  body: unknown;
  requestId: string | undefined;
}

/**
 * One JSON call with the retry policy every OpenStack call shares: 5xx, connection resets and
 * timeouts are retried with jittered exponential backoff; 4xx never are (they carry the service's
 * reason, which a retry would not change) and surface as OpenStackApiError.
 */
export async function httpJson(opts: HttpOptions, req: HttpRequest): Promise<HttpResponse> {
  const attempts = req.idempotent === false ? 0 : opts.retries;
  return pRetry(() => attempt(opts, req), {
    retries: attempts,
    minTimeout: opts.minBackoffMs,
    maxTimeout: opts.maxBackoffMs,
    factor: 2,
    randomize: true,
    signal: req.signal,
    onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
      opts.log.warn(
        { err: error, method: req.method, url: stripQuery(req.url), attempt: attemptNumber, retriesLeft },
        'openstack call failed',
      );
    },
  });
}

async function attempt(opts: HttpOptions, req: HttpRequest): Promise<HttpResponse> {
  const started = Date.now();
  const timeout = AbortSignal.timeout(opts.requestTimeoutMs);
  const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
  const headers: Record<string, string> = { Accept: 'application/json', ...req.headers };
  if (req.body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  let text: string;
  try {
    res = await opts.fetch(req.url, {
      method: req.method,
      headers,
      body: req.body === undefined ? undefined : JSON.stringify(req.body),
      signal,
    });
    text = await res.text();
  } catch (err) {
    if (req.signal?.aborted) throw new AbortError(req.signal.reason instanceof Error ? req.signal.reason : new Error('aborted'));
    const why = timeout.aborted ? `timed out after ${opts.requestTimeoutMs}ms` : describeNetworkError(err);
    throw new OpenStackTransportError(req.method, req.url, why, { cause: err });
  }
  const requestId = res.headers.get('x-openstack-request-id') ?? res.headers.get('x-compute-request-id') ?? undefined;
  // Every call is logged with the service's request id so it can be found in nova-api's log.
  opts.log.debug(
    { method: req.method, url: stripQuery(req.url), status: res.status, requestId, ms: Date.now() - started },
    'openstack call',
  );
  const body = parseBody(text);
  if (res.status >= 200 && res.status < 300) return { status: res.status, headers: res.headers, body, requestId };
  const fault = extractFault(body, text);
  const apiErr = new OpenStackApiError(req.method, req.url, res.status, fault.name, fault.message, requestId);
  opts.log.info(
    { method: req.method, url: stripQuery(req.url), status: res.status, requestId, fault: fault.message },
    'openstack call refused',
  );
  if (res.status >= 500) {
    if (req.idempotent === false) throw new AbortError(apiErr);
    throw apiErr;
  }
  throw new AbortError(apiErr);
}

function parseBody(text: string): unknown {
  if (text.length === 0) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Nova: `{"<faultName>": {"code", "message"}}`; Keystone: `{"error": {"code","title","message"}}`. */
export function extractFault(body: unknown, text: string): { name: string | undefined; message: string } {
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    const keys = Object.keys(body);
    if (keys.length === 1) {
      const inner = (body as Record<string, unknown>)[keys[0]!];
      if (inner && typeof inner === 'object' && typeof (inner as { message?: unknown }).message === 'string') {
        return { name: keys[0], message: (inner as { message: string }).message };
      }
    }
  }
  return { name: undefined, message: text.slice(0, 300) || '(empty body)' };
}

function describeNetworkError(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return `connection error ${cause.code}`;
  return err instanceof Error ? err.message : String(err);
}

function stripQuery(url: string): string {
  return url.split('?')[0] ?? url;
}
