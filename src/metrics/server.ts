import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { formatHostPort, type HostPort } from '../config/address.js';
import type { Logger } from '../log.js';
import { boundHttpServer, HTTP_SERVER_OPTIONS, listenHttp } from '../status-api/listen.js';
import type { MonitorMetrics } from './metrics.js';

/**
 * GET /metrics in the Prometheus text format; nothing else. With a token (required by the config
 * off loopback, as for the status API) every request must carry `Authorization: Bearer <token>`,
 * which Prometheus sends from `authorization: { credentials_file: ... }`. Connection bounds:
 * status-api/limits.ts.
 */
export class MetricsServer {
  private server: Server | null = null;
  private readonly tokenDigest: Buffer | null;
  address: HostPort | null = null;

  constructor(
    private readonly listen: HostPort,
    private readonly metrics: MonitorMetrics,
    private readonly log: Logger,
    token: string | null = null,
  ) {
    this.tokenDigest = token ? digest(token) : null;
  }

  async start(): Promise<HostPort> {
    const server = createServer(HTTP_SERVER_OPTIONS, (req, res) => {
      if (!this.authorized(req)) {
        res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer' }).end('bearer token required\n');
        return;
      }
      if (req.method !== 'GET' || (req.url ?? '/').split('?')[0] !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('see /metrics\n');
        return;
      }
      this.metrics.text().then(
        (text) => res.writeHead(200, { 'content-type': this.metrics.registry.contentType }).end(text),
        (err: unknown) => {
          this.log.warn({ err }, 'metrics collection failed');
          res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics collection failed\n');
        },
      );
    });
    boundHttpServer(server);
    this.address = await listenHttp(server, this.listen);
    this.server = server;
    this.log.info({ listen: formatHostPort(this.address) }, 'metrics listening');
    return this.address;
  }

  private authorized(req: IncomingMessage): boolean {
    if (!this.tokenDigest) return true;
    const h = req.headers.authorization ?? '';
    // Digests have equal length, so the comparison time says nothing about the token.
    return timingSafeEqual(digest(h.startsWith('Bearer ') ? h.slice(7) : ''), this.tokenDigest);
  }

  stop(): void {
    this.server?.close();
    this.server?.closeAllConnections();
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}
