import type { Server as HttpServer } from 'node:http';
import type { AddressInfo, Server } from 'node:net';
import type { HostPort } from '../config/address.js';
import { HTTP_LIMITS } from './limits.js';

/** Binds an HTTP(S) server; resolves with the address actually bound (port 0 → the kernel's pick). */
export function listenHttp(server: Server, at: HostPort): Promise<HostPort> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(at.port, at.host, () => {
      server.off('error', onError);
      const a = server.address() as AddressInfo;
      resolve({ host: a.address, port: a.port });
    });
  });
}

/** Request deadlines both HTTP servers (status API, metrics) are created with. */
export const HTTP_SERVER_OPTIONS = {
  headersTimeout: HTTP_LIMITS.headersTimeoutMs,
  requestTimeout: HTTP_LIMITS.requestTimeoutMs,
  keepAliveTimeout: HTTP_LIMITS.keepAliveTimeoutMs,
  // Deadlines are checked this often, so a slow client is cut within a second of its deadline.
  connectionsCheckingInterval: 1_000,
} as const;

/**
 * The connection bounds both HTTP servers share: at most maxConnections sockets (Node closes the
 * ones over at once), at most maxRequestsPerSocket requests on one, and a socket silent for
 * idleSocketTimeoutMs (longer than the longest long poll) is destroyed.
 */
export function boundHttpServer(server: HttpServer): void {
  server.maxConnections = HTTP_LIMITS.maxConnections;
  server.maxRequestsPerSocket = HTTP_LIMITS.maxRequestsPerSocket;
  server.setTimeout(HTTP_LIMITS.idleSocketTimeoutMs, (socket) => socket.destroy());
}
