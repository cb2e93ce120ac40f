import { timingSafeEqual, createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { fileURLToPath } from 'node:url';
import { formatHostPort, type HostPort } from '../config/address.js';
import type { Logger } from '../log.js';
import type { EventJournal } from './event-journal.js';
import { parseSince, readHistoryAsync } from './history-file.js';
import { scrubSecrets } from './scrub.js';
import { listenHttp } from './listen.js';

/**
 * The dashboard's files, served as they are (no build step): dashboard/ at the package root, which
 * is two levels up from src/status-api/ and three from dist/src/status-api/.
 */
const DASHBOARD_DIR =
  ['../../../dashboard/', '../../dashboard/']
    .map((rel) => fileURLToPath(new URL(rel, import.meta.url)))
    .find((d) => existsSync(d + 'index.html')) ?? '';
const STATIC: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/dashboard.js': { file: 'dashboard.js', type: 'text/javascript; charset=utf-8' },
  '/dashboard.css': { file: 'dashboard.css', type: 'text/css; charset=utf-8' },
};
const MAX_WAIT_MS = 30_000;

export interface StatusApiOptions {
  listen: HostPort;
  /** Bearer token required on /api/* (required by config when not on loopback). */
  token: string | null;
  /** Serve HTTPS with this certificate and key instead of HTTP. */
  tls?: { cert: string; key: string } | null;
  snapshot: () => unknown;
  journal: EventJournal;
  /** Where history.jsonl lives; null serves the in-memory events only. */
  stateDir: string | null;
  log: Logger;
}

/**
 * The read-only status API and dashboard, over HTTP. Nothing here changes the monitor: operator
 * actions stay on the 0600 control socket. Every JSON answer goes through scrubSecrets.
 */
export class StatusApiServer {
  private server: ReturnType<typeof createServer> | ReturnType<typeof createHttpsServer> | null = null;
  private readonly aborts = new Set<AbortController>();
  private readonly tokenDigest: Buffer | null;
  /** One serialised snapshot shared by every client for 250 ms: N open dashboards cost one. */
  private cachedStatus: { atMs: number; text: string } | null = null;
  address: HostPort | null = null;

  constructor(private readonly o: StatusApiOptions) {
    this.tokenDigest = o.token ? digest(o.token) : null;
  }

  async start(): Promise<HostPort> {
    const handler = (req: IncomingMessage, res: ServerResponse): void => void this.handle(req, res);
    const server = this.o.tls ? createHttpsServer({ cert: this.o.tls.cert, key: this.o.tls.key }, handler) : createServer(handler);
    this.address = await listenHttp(server, this.o.listen);
    this.server = server;
    this.o.log.info(
      { listen: formatHostPort(this.address), tls: !!this.o.tls, auth: this.tokenDigest ? 'bearer' : 'none (loopback)' },
      'status API listening',
    );
    return this.address;
  }

  stop(): void {
    for (const a of this.aborts) a.abort();
    this.server?.close();
    this.server?.closeAllConnections();
  }

  private authorized(req: IncomingMessage): boolean {
    if (!this.tokenDigest) return true;
    const h = req.headers.authorization ?? '';
    // Header only: a token in the query string would end up in proxy logs and browser history.
    const given = h.startsWith('Bearer ') ? h.slice(7) : '';
    // Digests have equal length, so the comparison time says nothing about the token.
    return timingSafeEqual(digest(given), this.tokenDigest);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://status');
      if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: 'read-only API: GET only' });
      const asset = STATIC[url.pathname];
      if (asset) return serveFile(res, asset.file, asset.type);
      if (!url.pathname.startsWith('/api/')) return json(res, 404, { error: `no such page: ${url.pathname}` });
      if (!this.authorized(req)) {
        res.setHeader('www-authenticate', 'Bearer');
        return json(res, 401, { error: 'bearer token required' });
      }
      switch (url.pathname) {
        case '/api/status': {
          const now = Date.now();
          if (!this.cachedStatus || now - this.cachedStatus.atMs >= 250)
            this.cachedStatus = { atMs: now, text: JSON.stringify(scrubSecrets(this.o.snapshot())) };
          return sendText(res, 200, this.cachedStatus.text);
        }
        case '/api/events': {
          const since = Number(url.searchParams.get('since') ?? '0');
          const waitMs = Math.min(MAX_WAIT_MS, Math.max(0, Number(url.searchParams.get('wait') ?? '0') || 0));
          if (!Number.isFinite(since) || since < 0) return json(res, 400, { error: 'since must be a sequence number ≥ 0' });
          const ctl = new AbortController();
          this.aborts.add(ctl);
          res.on('close', () => ctl.abort());
          const events = await this.o.journal.wait(since, waitMs, ctl.signal);
          this.aborts.delete(ctl);
          if (res.destroyed) return;
          return json(res, 200, { lastSeq: this.o.journal.lastSeq, events });
        }
        case '/api/history': {
          const sinceRaw = url.searchParams.get('since');
          const sinceMs = sinceRaw ? parseSince(sinceRaw, Date.now()) : undefined;
          if (sinceRaw && sinceMs === undefined)
            return json(res, 400, { error: `since must be a duration (90s, 2h, 3d) or an ISO date, got '${sinceRaw}'` });
          const host = url.searchParams.get('host') ?? undefined;
          const limit = Math.min(100_000, Number(url.searchParams.get('limit') ?? '10000') || 10_000);
          const q = { ...(host ? { host } : {}), ...(sinceMs !== undefined ? { sinceMs } : {}), limit };
          const entries = this.o.stateDir ? await readHistoryAsync(this.o.stateDir, q) : this.o.journal.since(0);
          return json(res, 200, { entries });
        }
        default:
          return json(res, 404, { error: `no such endpoint: ${url.pathname}` });
      }
    } catch (err) {
      this.o.log.warn({ err }, 'status API request failed');
      if (!res.headersSent) json(res, 500, { error: 'internal error' });
    }
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
};

function json(res: ServerResponse, code: number, body: unknown): void {
  sendText(res, code, JSON.stringify(scrubSecrets(body)));
}

function sendText(res: ServerResponse, code: number, text: string): void {
  res.writeHead(code, { ...SECURITY_HEADERS, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function serveFile(res: ServerResponse, file: string, type: string): void {
  let body: Buffer;
  try {
    body = readFileSync(DASHBOARD_DIR + file);
  } catch {
    return json(res, 404, { error: `dashboard file missing: ${file}` });
  }
  res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': type, 'content-length': body.length });
  res.end(body);
}
