import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * `instance-ha demo kill HOST` / `demo revive HOST` from another terminal while `demo --keep` runs:
 * the demo listens on a 0600 UNIX socket in its directory, and leaves a pointer to that directory
 * where the helper finds it without being told. Test bed only: a real host is killed by its power
 * cord and revived by its BMC.
 */
export const DEMO_POINTER = join(tmpdir(), `instance-ha-demo-${process.getuid?.() ?? 'user'}.current`);
export const DEMO_SOCKET = 'demo.sock';

export interface DemoActions {
  /** Power loss: the beacon is SIGKILLed and nova-compute dies with it. */
  kill(host: string): Promise<string>;
  /** Power on at its BMC (if off) and boot: beacon and nova-compute start again. */
  revive(host: string): Promise<string>;
}

export async function serveDemoControl(dir: string, actions: DemoActions): Promise<{ close: () => void }> {
  const path = join(dir, DEMO_SOCKET);
  rmSync(path, { force: true });
  const server: Server = createServer((req, res) => {
    const m = /^\/(kill|revive)\/([A-Za-z0-9._-]{1,253})$/.exec(req.url ?? '');
    const reply = (code: number, text: string): void => void res.writeHead(code, { 'content-type': 'text/plain' }).end(text);
    if (req.method !== 'POST' || !m) return reply(404, 'POST /kill/HOST or /revive/HOST');
    actions[m[1] as 'kill' | 'revive'](m[2]!).then(
      (text) => reply(200, text),
      (err: unknown) => reply(400, (err as Error).message),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    const old = process.umask(0o177);
    server.listen(path, () => {
      process.umask(old);
      resolve();
    });
  });
  chmodSync(path, 0o600);
  writeFileSync(DEMO_POINTER, `${dir}\n`, { mode: 0o600 });
  return {
    close: () => {
      server.close();
      rmSync(path, { force: true });
      if (existsSync(DEMO_POINTER) && readFileSync(DEMO_POINTER, 'utf8').trim() === dir) rmSync(DEMO_POINTER, { force: true });
    },
  };
}

/** The helper's side: asks the running demo (in `dir`, or the one the pointer names) to act. */
export async function askDemo(action: 'kill' | 'revive', host: string, dir?: string): Promise<{ ok: boolean; text: string }> {
  const d = dir ?? (existsSync(DEMO_POINTER) ? readFileSync(DEMO_POINTER, 'utf8').trim() : '');
  const socketPath = d ? join(d, DEMO_SOCKET) : '';
  if (!socketPath || !existsSync(socketPath))
    return { ok: false, text: `no demo running with --keep${d ? ` in ${d}` : ''}: start one with 'instance-ha demo --keep'` };
  return new Promise((resolve) => {
    const req = request({ socketPath, method: 'POST', path: `/${action}/${encodeURIComponent(host)}`, timeout: 30_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ ok: res.statusCode === 200, text: body }));
    });
    req.on('error', (err) => resolve({ ok: false, text: `the demo in ${d} does not answer: ${err.message}` }));
    req.on('timeout', () => req.destroy(new Error('no answer within 30 s')));
    req.end();
  });
}
