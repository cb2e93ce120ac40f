/**
 * A small Redfish BMC for tests, the demo and the benchmark: there is no Redfish emulator in Debian.
 * HTTPS on 127.0.0.1 with a DMTF-shaped service root, a Systems collection with one
 * ComputerSystem (PowerState, the Reset action), a SessionService, HTTP basic auth and sessions.
 * Tests prove it speaks Redfish by driving it with Debian's own clients (fence_redfish, redfishtool).
 *
 * Quirks real BMCs have, to be switched on per test: the answer to a ForceOff of a system already
 * off (HPE iLO 400, Dell iDRAC 409, most others 204), power transitions that take a while
 * (`PoweringOff` before `Off`), and 5xx answers.
 */
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type RedfishBmcPower = 'On' | 'Off' | 'PoweringOn' | 'PoweringOff';

export interface RedfishBmcOptions {
  key: string;
  cert: string;
  username?: string;
  password?: string;
  initialPower?: 'On' | 'Off';
  /** How long `PoweringOff` / `PoweringOn` last before `Off` / `On` (0: at once). */
  transitionMs?: number;
  /** Status answered to a Reset that asks for the state the system is already in (204 by default). */
  alreadyInStateStatus?: 204 | 400 | 409;
  /** Members of the Systems collection (the first is the one with power); more make the choice ambiguous. */
  systems?: number;
  port?: number;
}

export interface RedfishBmc {
  host: string;
  port: number;
  username: string;
  password: string;
  power(): RedfishBmcPower;
  setPower(p: 'On' | 'Off'): void;
  /** Reset types received, in order. */
  resets(): string[];
  /** Every request, `METHOD /path`, in order. */
  requests(): string[];
  /** Sessions currently open. */
  sessions(): number;
  /** The next `n` requests (other than the service root) answer `status`. */
  failNext(n: number, status: number): void;
  /** Called whenever the power reaches On or Off (e.g. to kill the host's processes). */
  onPower(fn: (p: 'On' | 'Off') => void): void;
  stop(): Promise<void>;
}

const ROOT = '/redfish/v1';
const SYSTEMS = `${ROOT}/Systems`;
const SESSIONS = `${ROOT}/SessionService/Sessions`;
const RESET_TYPES = ['On', 'ForceOff', 'GracefulShutdown', 'ForceRestart', 'GracefulRestart', 'PowerCycle'];

export async function startRedfishBmc(o: RedfishBmcOptions): Promise<RedfishBmc> {
  const username = o.username ?? 'admin';
  const password = o.password ?? randomBytes(9).toString('base64url');
  const transitionMs = o.transitionMs ?? 0;
  const systems = Math.max(1, o.systems ?? 1);
  let power: RedfishBmcPower = o.initialPower ?? 'On';
  let failing = { n: 0, status: 500 };
  const resets: string[] = [];
  const requests: string[] = [];
  const sessions = new Map<string, string>(); // token -> session id
  const listeners: Array<(p: 'On' | 'Off') => void> = [];
  const timers = new Set<NodeJS.Timeout>();

  const settle = (to: 'On' | 'Off'): void => {
    power = to;
    for (const fn of listeners) fn(to);
  };
  const move = (to: 'On' | 'Off'): void => {
    if (transitionMs <= 0) return settle(to);
    power = to === 'Off' ? 'PoweringOff' : 'PoweringOn';
    const t = setTimeout(() => {
      timers.delete(t);
      settle(to);
    }, transitionMs);
    timers.add(t);
  };

  const authorized = (req: IncomingMessage): boolean => {
    const token = req.headers['x-auth-token'];
    if (typeof token === 'string' && sessions.has(token)) return true;
    const auth = req.headers.authorization ?? '';
    if (!auth.startsWith('Basic ')) return false;
    const want = Buffer.from(`${username}:${password}`);
    const got = Buffer.from(Buffer.from(auth.slice(6), 'base64').toString('utf8'));
    return got.length === want.length && timingSafeEqual(got, want);
  };

  const system = (i: number) => ({
    '@odata.type': '#ComputerSystem.v1_10_0.ComputerSystem',
    '@odata.id': `${SYSTEMS}/${i}`,
    Id: String(i),
    Name: `Test system ${i}`,
    SystemType: 'Physical',
    Manufacturer: 'instance-ha test bed',
    PowerState: i === 1 ? power : 'On',
    Status: { State: 'Enabled', Health: 'OK' },
    Actions: {
      '#ComputerSystem.Reset': {
        target: `${SYSTEMS}/${i}/Actions/ComputerSystem.Reset`,
        'ResetType@Redfish.AllowableValues': RESET_TYPES,
      },
    },
  });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'https://bmc').pathname.replace(/\/+$/, '') || '/';
    requests.push(`${req.method} ${path}`);
    const body = await readBody(req);
    const send = (status: number, json?: unknown, headers: Record<string, string> = {}): void => {
      const text = json === undefined ? '' : JSON.stringify(json);
      res.writeHead(status, { 'content-type': 'application/json', 'odata-version': '4.0', ...headers });
      res.end(text);
    };
    const fault = (status: number, message: string): void =>
      send(status, { error: { code: 'Base.1.8.GeneralError', message, '@Message.ExtendedInfo': [{ Message: message }] } });

    // The service root is readable without credentials (DSP0266 "Service root").
    if (req.method === 'GET' && path === '/redfish') return send(200, { v1: `${ROOT}/` });
    if (req.method === 'GET' && path === ROOT) {
      return send(200, {
        '@odata.type': '#ServiceRoot.v1_5_0.ServiceRoot',
        '@odata.id': `${ROOT}/`,
        Id: 'RootService',
        Name: 'Root Service',
        RedfishVersion: '1.8.0',
        UUID: '92384634-2938-2342-8820-489239905423',
        Systems: { '@odata.id': SYSTEMS },
        SessionService: { '@odata.id': `${ROOT}/SessionService` },
        Links: { Sessions: { '@odata.id': SESSIONS } },
      });
    }
    if (failing.n > 0) {
      failing.n--;
      return fault(failing.status, 'injected failure');
    }
    if (req.method === 'POST' && path === SESSIONS) {
      const creds = parseJson(body) as { UserName?: unknown; Password?: unknown } | null;
      const want = Buffer.from(`${username}\0${password}`);
      const got = Buffer.from(`${String(creds?.UserName ?? '')}\0${String(creds?.Password ?? '')}`);
      if (got.length !== want.length || !timingSafeEqual(got, want)) return fault(401, 'invalid credentials');
      const token = randomBytes(16).toString('hex');
      const id = randomUUID();
      sessions.set(token, id);
      return send(
        201,
        { '@odata.id': `${SESSIONS}/${id}`, Id: id, UserName: username },
        { 'x-auth-token': token, location: `${SESSIONS}/${id}` },
      );
    }
    if (!authorized(req)) return fault(401, 'authentication required');
    if (req.method === 'DELETE' && path.startsWith(`${SESSIONS}/`)) {
      const id = path.slice(SESSIONS.length + 1);
      for (const [t, s] of sessions) if (s === id) sessions.delete(t);
      return send(204);
    }
    if (req.method === 'GET' && path === `${ROOT}/SessionService`) {
      return send(200, {
        '@odata.type': '#SessionService.v1_1_6.SessionService',
        '@odata.id': `${ROOT}/SessionService`,
        Id: 'SessionService',
        Sessions: { '@odata.id': SESSIONS },
      });
    }
    if (req.method === 'GET' && path === SESSIONS) {
      const members = [...sessions.values()].map((id) => ({ '@odata.id': `${SESSIONS}/${id}` }));
      return send(200, {
        '@odata.type': '#SessionCollection.SessionCollection',
        '@odata.id': SESSIONS,
        Members: members,
        'Members@odata.count': members.length,
      });
    }
    if (req.method === 'GET' && path === SYSTEMS) {
      const members = Array.from({ length: systems }, (_, i) => ({ '@odata.id': `${SYSTEMS}/${i + 1}` }));
      return send(200, {
        '@odata.type': '#ComputerSystemCollection.ComputerSystemCollection',
        '@odata.id': SYSTEMS,
        Name: 'Computer System Collection',
        Members: members,
        'Members@odata.count': members.length,
      });
    }
    const sys = /^\/redfish\/v1\/Systems\/(\d+)(\/Actions\/ComputerSystem\.Reset)?$/.exec(path);
    const n = sys ? Number(sys[1]) : 0;
    if (!sys || n < 1 || n > systems) return fault(404, `no resource at ${path}`);
    if (req.method === 'GET' && !sys[2]) return send(200, system(n));
    if (req.method === 'POST' && sys[2]) {
      const type = (parseJson(body) as { ResetType?: unknown } | null)?.ResetType;
      if (typeof type !== 'string' || !RESET_TYPES.includes(type)) return fault(400, `ResetType ${JSON.stringify(type)} is not allowed`);
      resets.push(type);
      if (n !== 1) return send(204);
      const off = power === 'Off' || power === 'PoweringOff';
      const wantOff = type === 'ForceOff' || type === 'GracefulShutdown';
      if (wantOff || type === 'On') {
        if (wantOff === off && o.alreadyInStateStatus && o.alreadyInStateStatus !== 204) {
          return fault(o.alreadyInStateStatus, `the system is already ${off ? 'off' : 'on'}`);
        }
        if (wantOff !== off) move(wantOff ? 'Off' : 'On');
        return send(204);
      }
      // A restart: off at once, on again after the transition.
      settle('Off');
      move('On');
      return send(204);
    }
    return fault(405, `${req.method} is not allowed on ${path}`);
  };

  const server: Server = createServer({ key: o.key, cert: o.cert }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'Base.1.8.InternalError', message: String(err) } }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    host: '127.0.0.1',
    port,
    username,
    password,
    power: () => power,
    setPower: (p) => settle(p),
    resets: () => [...resets],
    requests: () => [...requests],
    sessions: () => sessions.size,
    failNext: (n, status) => {
      failing = { n, status };
    },
    onPower: (fn) => listeners.push(fn),
    stop: async () => {
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
      if (n > 64 * 1024) req.destroy(new Error('request body too large'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
