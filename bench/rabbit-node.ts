import { execFile } from 'node:child_process';
import { chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../src/testbed/loopback-ports.js';
import { makeTestCerts, type TestCerts } from './test-certs.js';

/**
 * A throw-away RabbitMQ node for disruptive tests and the bench (stop_app/start_app,
 * close_connection), so they never disturb the shared broker on 5672 that others use.
 * Started with the system rabbitmq-server under its own node name, port, mnesia and log dirs.
 */
const run = promisify(execFile);

export interface RabbitNode {
  /** amqp://guest:guest@127.0.0.1:<port>/ */
  url: string;
  /** A TLS listener with peer verification, when openssl was available to make certificates. */
  tls?: { url: string } & TestCerts;
  port: number;
  nodeName: string;
  ctl(...args: string[]): Promise<string>;
  stopApp(): Promise<void>;
  startApp(): Promise<void>;
  /** Force-closes every client connection whose connection_name contains `nameContains`. */
  closeConnections(nameContains: string): Promise<number>;
  stop(): Promise<void>;
}

export async function startRabbitNode(opts: { timeoutS?: number } = {}): Promise<RabbitNode> {
  const port = await freePort('tcp');
  const distPort = await freePort('tcp');
  const nodeName = `iha-test-${process.pid}-${port}@localhost`;
  const base = mkdtempSync(join(tmpdir(), 'iha-rmq-'));
  // rabbitmq-server drops to the rabbitmq user, which must own its directories.
  const conf = join(base, 'rabbitmq.conf');
  let text = `listeners.tcp.1 = 127.0.0.1:${port}\nloopback_users.guest = true\n`;
  let tls: RabbitNode['tls'];
  const certs = await makeTestCerts(base).catch(() => null);
  if (certs) {
    const tlsPort = await freePort('tcp');
    text +=
      `listeners.ssl.1 = 127.0.0.1:${tlsPort}\nssl_options.cacertfile = ${certs.caFile}\n` +
      `ssl_options.certfile = ${certs.serverCert}\nssl_options.keyfile = ${certs.serverKey}\n` +
      'ssl_options.verify = verify_peer\nssl_options.fail_if_no_peer_cert = true\n';
    tls = { url: `amqps://guest:guest@localhost:${tlsPort}/`, ...certs };
  }
  writeFileSync(conf, text);
  chownTree(base, conf, ...(certs ? Object.values(certs) : []));
  const env = {
    ...process.env,
    RABBITMQ_NODENAME: nodeName,
    RABBITMQ_CONFIG_FILE: conf,
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_MNESIA_BASE: join(base, 'mnesia'),
    RABBITMQ_LOG_BASE: join(base, 'log'),
    RABBITMQ_PID_FILE: join(base, 'pid'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(base, 'enabled_plugins'),
  };
  const ctl = async (...args: string[]): Promise<string> =>
    (await run('rabbitmqctl', ['-n', nodeName, ...args], { timeout: 60_000 })).stdout;
  try {
    await run('rabbitmq-server', ['-detached'], { env, cwd: base, timeout: 30_000 });
    await ctl('wait', join(base, 'pid'), '--timeout', String(opts.timeoutS ?? 45));
  } catch (err) {
    await ctl('stop').catch(() => {});
    rmSync(base, { recursive: true, force: true });
    throw new Error(`dedicated RabbitMQ node did not start: ${(err as Error).message}`);
  }
  const node: RabbitNode = {
    url: `amqp://guest:guest@127.0.0.1:${port}/`,
    tls,
    port,
    nodeName,
    ctl,
    ...appControls(ctl),
    stop: async () => {
      await ctl('stop').catch(() => {});
      rmSync(base, { recursive: true, force: true });
    },
  };
  return node;
}

function chownTree(...paths: string[]): void {
  const ids = rabbitmqIds();
  // Not root, or no rabbitmq user: rabbitmq-server then runs as us and we own the files already.
  if (!ids || process.getuid?.() !== 0) return;
  for (const p of paths) chownSync(p, ids.uid, ids.gid);
}

/** uid/gid of the rabbitmq user from /etc/passwd (name:x:uid:gid:...). */
function rabbitmqIds(): { uid: number; gid: number } | null {
  try {
    const line = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('rabbitmq:'));
    if (!line) return null;
    const f = line.split(':');
    return { uid: Number(f[2]), gid: Number(f[3]) };
  } catch {
    return null;
  }
}

/** The broker-app operations both kinds of node share, over `rabbitmqctl -n <node>`. */
function appControls(ctl: (...args: string[]) => Promise<string>): Pick<RabbitNode, 'stopApp' | 'startApp' | 'closeConnections'> {
  return {
    stopApp: async () => void (await ctl('stop_app')),
    startApp: async () => {
      await ctl('start_app');
      await ctl('await_startup', '--timeout', '60');
    },
    closeConnections: (nameContains) => closeMatching(ctl, nameContains),
  };
}

/** The machine's own broker (rabbit@localhost by default): stop() leaves it running. */
export function sharedRabbitNode(url: string, nodeName = process.env.RABBITMQ_NODENAME ?? 'rabbit@localhost'): RabbitNode {
  const ctl = async (...args: string[]): Promise<string> =>
    (await run('rabbitmqctl', ['-n', nodeName, ...args], { timeout: 60_000 })).stdout;
  return {
    url,
    port: Number(new URL(url).port || 5672),
    nodeName,
    ctl,
    ...appControls(ctl),
    stop: async () => {},
  };
}

async function closeMatching(ctl: (...a: string[]) => Promise<string>, nameContains: string): Promise<number> {
  // The tab-separated listing prints pids in the <node.x.y> form close_connection accepts (JSON prints #PID<...>).
  const out = await ctl('list_connections', 'pid', 'client_properties', '--quiet', '--no-table-headers');
  const pids = out
    .split('\n')
    .filter((l) => l.includes(nameContains))
    .map((l) => l.split('\t')[0]!.trim());
  for (const pid of pids) await ctl('close_connection', pid, 'instance-ha test: forced close');
  return pids.length;
}
