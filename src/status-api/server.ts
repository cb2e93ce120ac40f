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
import { boundHttpServer, HTTP_SERVER_OPTIONS, listenHttp } from './listen.js';
import { API_LIMITS } from './limits.js';
import { BadParameter, QueryParams } from './query-params.js';
import { HOST_STATES, queryHosts } from './host-query.js';
import type { StatusSnapshot } from '../core/status-snapshot.js';

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

export interface StatusApiOptions {
  listen: HostPort;
  /** Bearer token required on /api/* (required by config when not on loopback). */
  token: string | null;
  /** Serve HTTPS with this certificate and key instead of HTTP. */
  tls?: { cert: string; key: string } | null;
  snapshot: () => StatusSnapshot;
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
  private longPolls = 0;
  address: HostPort | null = null;

  constructor(private readonly o: StatusApiOptions) {
    this.tokenDigest = o.token ? digest(o.token) : null;
  }

  async start(): Promise<HostPort> {
    const handler = (req: IncomingMessage, res: ServerResponse): void => void this.handle(req, res);
    const opts = HTTP_SERVER_OPTIONS;
    const server = this.o.tls
      ? createHttpsServer({ ...opts, cert: this.o.tls.cert, key: this.o.tls.key }, handler)
      : createServer(opts, handler);
    boundHttpServer(server);
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
      if ((req.url ?? '').length > API_LIMITS.maxQueryBytes + 256)
        return json(res, 414, { error: `request line over ${API_LIMITS.maxQueryBytes} bytes` });
      const url = new URL(req.url ?? '/', 'http://status');
      if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: 'read-only API: GET only' });
      const asset = STATIC[url.pathname];
      if (asset) return serveFile(res, asset.file, asset.type);
      if (!url.pathname.startsWith('/api/')) return json(res, 404, { error: `no such page: ${url.pathname}` });
      if (!this.authorized(req)) {
        res.setHeader('www-authenticate', 'Bearer');
        return json(res, 401, { error: 'bearer token required' });
      }
      const q = new QueryParams(url.searchParams);
      switch (url.pathname) {
        case '/api/status':
          q.only([]);
          return sendText(res, 200, this.statusText());
        case '/api/hosts':
          return json(res, 200, this.hosts(q));
        case '/api/events':
          return await this.events(q, res);
        case '/api/history':
          return json(res, 200, await this.history(q));
        default:
          return json(res, 404, { error: `no such endpoint: ${url.pathname}` });
      }
    } catch (err) {
      if (err instanceof BadParameter) return json(res, 400, { error: err.message, parameter: err.parameter });
      this.o.log.warn({ err }, 'status API request failed');
      if (!res.headersSent) json(res, 500, { error: 'internal error' });
    }
  }

  /**
   * The snapshot, serialised once per 250 ms for every client, with at most statusMaxHosts hosts
   * (the not-up ones first) and their counts: 10,000 hosts are ~3 MB a second per open dashboard
   * otherwise. Below the cap the list is the whole, in name order, as before.
   */
  private statusText(): string {
    const now = Date.now();
    if (this.cachedStatus && now - this.cachedStatus.atMs < 250) return this.cachedStatus.text;
    const snap = this.o.snapshot();
    if (!Array.isArray(snap.hosts)) {
      this.cachedStatus = { atMs: now, text: JSON.stringify(scrubSecrets(snap)) };
      return this.cachedStatus.text;
    }
    const max = API_LIMITS.statusMaxHosts;
    const page = queryHosts(snap.hosts, snap.hosts.length > max ? { limit: max } : {});
    const body = {
      ...snap,
      hosts: snap.hosts.length > max ? page.hosts : snap.hosts,
      hostCounts: page.counts,
      hostsTotal: snap.hosts.length,
      hostsTruncated: snap.hosts.length > max,
    };
    this.cachedStatus = { atMs: now, text: JSON.stringify(scrubSecrets(body)) };
    return this.cachedStatus.text;
  }

  /** `/api/hosts?state=&host=&limit=&offset=`: one page of hosts, counts over all of them. */
  private hosts(q: QueryParams): unknown {
    q.only(['state', 'host', 'limit', 'offset']);
    const state = q.raw('state');
    // Known states, plus any a newer core adds (by its shape), so the filter never lags the core.
    if (state !== undefined && !HOST_STATES.includes(state as never) && !/^[a-z_]{1,32}$/.test(state))
      throw new BadParameter('state', `state must be one of ${HOST_STATES.join(', ')}`);
    const host = q.host('host');
    const limit = q.int('limit', API_LIMITS.hostsDefaultLimit, 1, API_LIMITS.hostsMaxLimit);
    const offset = q.int('offset', 0, 0, 10_000_000);
    const page = queryHosts(this.o.snapshot().hosts, { ...(state ? { state } : {}), ...(host ? { host } : {}), limit, offset });
    return { ...page, limit, next: page.offset + page.hosts.length < page.total ? page.offset + page.hosts.length : null };
  }

  private async events(q: QueryParams, res: ServerResponse): Promise<void> {
    q.only(['since', 'wait']);
    const since = q.int('since', 0, 0, Number.MAX_SAFE_INTEGER);
    const waitMs = q.int('wait', 0, 0, API_LIMITS.maxWaitMs);
    if (waitMs > 0 && this.longPolls >= API_LIMITS.maxLongPolls) {
      res.setHeader('retry-after', '2');
      return json(res, 429, { error: `too many long polls held (${API_LIMITS.maxLongPolls} at most); retry shortly`, parameter: 'wait' });
    }
    const ctl = new AbortController();
    this.aborts.add(ctl);
    this.longPolls++;
    res.on('close', () => ctl.abort());
    let events;
    try {
      events = await this.o.journal.wait(since, waitMs, ctl.signal);
    } finally {
      this.longPolls--;
      this.aborts.delete(ctl);
    }
    if (res.destroyed) return;
    // lastSeq is the last event in THIS answer, never the journal's newest: events published between
    // the list being taken and this line (a recovery publishes several in one turn) would otherwise be
    // skipped by a client that asks for `since=lastSeq` next — the live view's missing rows. With
    // nothing new, it is `since` (or ours, when smaller: this monitor restarted).
    const lastSeq = events.length > 0 ? events[events.length - 1]!.seq : Math.min(since, this.o.journal.lastSeq);
    return json(res, 200, { lastSeq, events });
  }

  private async history(q: QueryParams): Promise<unknown> {
    q.only(['since', 'host', 'limit']);
    const sinceRaw = q.raw('since');
    const sinceMs = sinceRaw !== undefined ? parseSince(sinceRaw, Date.now()) : undefined;
    if (sinceRaw !== undefined && sinceMs === undefined)
      throw new BadParameter('since', `since must be a duration (90s, 2h, 3d) or an ISO date, got '${sinceRaw.slice(0, 40)}'`);
    const host = q.host('host');
    const limit = q.int('limit', API_LIMITS.historyDefaultLimit, 1, API_LIMITS.historyMaxLimit);
    const hq = { ...(host ? { host } : {}), ...(sinceMs !== undefined ? { sinceMs } : {}), limit };
    const entries = this.o.stateDir ? await readHistoryAsync(this.o.stateDir, hq) : this.o.journal.since(0).slice(-limit);
    return { entries, limit };
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
