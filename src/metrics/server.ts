import { createServer, type Server } from 'node:http';
import { formatHostPort, type HostPort } from '../config/address.js';
import type { Logger } from '../log.js';
import { boundHttpServer, HTTP_SERVER_OPTIONS, listenHttp } from '../status-api/listen.js';
import type { MonitorMetrics } from './metrics.js';

/** GET /metrics in the Prometheus text format; nothing else. Connection bounds: status-api/limits.ts. */
export class MetricsServer {
  private server: Server | null = null;
  address: HostPort | null = null;

  constructor(
    private readonly listen: HostPort,
    private readonly metrics: MonitorMetrics,
    private readonly log: Logger,
  ) {}

  async start(): Promise<HostPort> {
    const server = createServer(HTTP_SERVER_OPTIONS, (req, res) => {
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

  stop(): void {
    this.server?.close();
    this.server?.closeAllConnections();
  }
}
