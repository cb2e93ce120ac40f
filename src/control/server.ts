import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { dirname } from 'node:path';
import type { Logger } from '../log.js';
import type { MonitorDaemon } from '../daemon/monitor.js';

const MAX_BODY_BYTES = 16 * 1024;

/**
 * The local control channel: HTTP on a UNIX socket with mode 0600, so only the monitor's own user
 * (and root) may read status or change anything. Read-only status for remote use lives elsewhere.
 */
export class ControlServer {
  private server: Server | null = null;

  constructor(
    private readonly path: string,
    private readonly monitor: MonitorDaemon,
    private readonly log: Logger,
    private readonly extraStatus: () => Record<string, unknown> = () => ({}),
  ) {}

  async start(): Promise<void> {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o750 });
    rmSync(this.path, { force: true });
    const server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // Create the socket with no group/other access from the start, then make sure of it.
      const old = process.umask(0o177);
      server.listen(this.path, () => {
        process.umask(old);
        resolve();
      });
    });
    chmodSync(this.path, 0o600);
    this.server = server;
  }

  stop(): void {
    this.server?.close();
    rmSync(this.path, { force: true });
  }

  /** Which monitor to ask instead, for a command only the coordinator takes. */
  private coordinatorOf(): { coordinator: string | null; coordinatorAddress: string | null } {
    const c = this.monitor.snapshot().cluster;
    return { coordinator: c.coordinator, coordinatorAddress: c.members.find((m) => m.id === c.coordinator)?.address ?? null };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://local');
      if (req.method === 'GET' && url.pathname === '/status') return send(res, 200, { ...this.monitor.snapshot(), ...this.extraStatus() });
      if (req.method !== 'POST') return send(res, 404, { error: `no such endpoint: ${req.method} ${url.pathname}` });
      const body = await readJson(req);
      const by = typeof body.by === 'string' ? body.by : 'operator';
      switch (url.pathname) {
        case '/maintenance': {
          if (
            typeof body.host !== 'string' ||
            !body.host ||
            typeof body.on !== 'boolean' ||
            (body.force !== undefined && typeof body.force !== 'boolean')
          )
            return send(res, 400, { error: 'body must be {"host": "<name>", "on": true|false, "force"?: true|false}' });
          // Maintenance marks merge across monitors by wall-clock time (last writer wins).
          const input = {
            type: 'maintenance' as const,
            at: this.monitor.nowMs(),
            host: body.host,
            on: body.on,
            by,
            ...(body.force ? { force: true } : {}),
          };
          const why = this.monitor.refusal(input);
          if (why) return send(res, 409, { error: why, host: body.host });
          const known = this.monitor.snapshot().hosts.some((h) => h.host === body.host);
          this.monitor.command(input);
          return send(res, 200, { ok: true, host: body.host, maintenance: body.on, registered: !known });
        }
        case '/ack-mass-failure': {
          if (body.hosts !== undefined && (!Array.isArray(body.hosts) || !body.hosts.every((h) => typeof h === 'string' && h)))
            return send(res, 400, { error: 'body must be {"hosts"?: ["<name>", ...]}' });
          const hosts = body.hosts as string[] | undefined;
          const input = { type: 'ack_mass_failure' as const, at: this.monitor.nowMs(), by, ...(hosts ? { hosts } : {}) };
          const why = this.monitor.refusal(input);
          if (why) return send(res, 409, { error: why, ...this.coordinatorOf() });
          // The hosts held when the ack is given are the ones it releases; the core records the same set.
          const held = this.monitor.core.coordinator.massHold?.hosts ?? [];
          const released = held.filter((h) => !hosts || hosts.includes(h));
          this.monitor.command(input);
          return send(res, 200, { ok: true, released, stillHeld: this.monitor.core.coordinator.massHold?.hosts ?? [] });
        }
        case '/forget': {
          if (typeof body.host !== 'string' || !body.host) return send(res, 400, { error: 'body must be {"host": "<name>"}' });
          const input = { type: 'forget' as const, at: this.monitor.nowMs(), host: body.host, by };
          const why = this.monitor.refusal(input);
          if (why) return send(res, 409, { error: why, host: body.host });
          this.monitor.command(input);
          return send(res, 200, { ok: true, host: body.host, configured: this.monitor.configuresHost(body.host) });
        }
        case '/confirm-fenced': {
          if (typeof body.host !== 'string' || !body.host)
            return send(res, 400, { error: 'body must be {"host": "<name>", "confirm": "<name>"}' });
          // The typed confirmation travels with the request, so no client can skip it by accident.
          if (body.confirm !== body.host)
            return send(res, 400, { error: `the confirmation must repeat the host name '${body.host}' exactly`, host: body.host });
          const input = { type: 'confirm_fenced' as const, at: this.monitor.nowMs(), host: body.host, by };
          const why = this.monitor.refusal(input);
          if (why) return send(res, 409, { error: why, host: body.host, ...this.coordinatorOf() });
          this.monitor.command(input);
          const state = this.monitor.snapshot().hosts.find((h) => h.host === body.host)?.state ?? null;
          return send(res, 200, { ok: true, host: body.host, by, state });
        }
        case '/clear': {
          if (typeof body.host !== 'string' || !body.host) return send(res, 400, { error: 'body must be {"host": "<name>"}' });
          // Any monitor takes it: a non-coordinator carries it to the coordinator in its heartbeats.
          const acting = this.monitor.acting();
          this.monitor.command({ type: 'clear', at: this.monitor.nowMs(), host: body.host, by });
          return send(res, acting ? 200 : 202, { ok: true, host: body.host, forwarded: !acting });
        }
        default:
          return send(res, 404, { error: `no such endpoint: POST ${url.pathname}` });
      }
    } catch (err) {
      this.log.warn({ err }, 'control request failed');
      return send(res, 400, { error: (err as Error).message });
    }
  }
}

function send(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error('request body too large');
    chunks.push(c as Buffer);
  }
  if (size === 0) return {};
  const v: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('request body must be a JSON object');
  return v as Record<string, unknown>;
}
