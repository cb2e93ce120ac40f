import { request } from 'node:http';
import { HaError } from '../errors.js';

export class ControlUnreachableError extends HaError {}

/** Talks to the local monitor's control socket. */
export function controlRequest(
  socketPath: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  timeoutMs = 5000,
): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      {
        socketPath,
        method,
        path,
        timeout: timeoutMs,
        headers: data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> });
          } catch (err) {
            reject(new HaError(`bad answer from ${socketPath}`, { cause: err }));
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new ControlUnreachableError(`monitor at ${socketPath} did not answer within ${timeoutMs}ms`)));
    req.on('error', (err) =>
      reject(
        err instanceof ControlUnreachableError
          ? err
          : new ControlUnreachableError(
              `cannot reach the monitor at ${socketPath}: ${(err as NodeJS.ErrnoException).code ?? err.message}`,
              { cause: err },
            ),
      ),
    );
    if (data) req.write(data);
    req.end();
  });
}
