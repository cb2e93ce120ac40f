import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/args.js';
import { runConfirmFencedCommand } from '../../src/cli/commands/confirm-fenced.js';
import { tempDirs } from '../helpers/temp-dirs.js';

/**
 * The typed confirmation of `instance-ha confirm-fenced` at its prompt (the flag path runs against
 * real monitors in test/integration/operator-slips.test.ts): a stand-in control socket records what
 * the command sends, so a mismatch is seen to send nothing at all.
 */
const tmp = tempDirs();
let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

async function controlSocket(): Promise<{ path: string; bodies: unknown[] }> {
  const path = join(tmp('iha-confirm-'), 'control.sock');
  const bodies: unknown[] = [];
  server = createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => {
      bodies.push(JSON.parse(data));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true, host: 'cmp-7', by: 'alice', state: 'recovering' }));
    });
  });
  await new Promise<void>((r) => server!.listen(path, r));
  return { path, bodies };
}

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s), isTty: false } };
}

describe('confirm-fenced at the prompt', () => {
  it('asks for the host name and sends the confirmation only when it is typed exactly', async () => {
    const sock = await controlSocket();
    const t = io();
    const questions: string[] = [];
    const code = await runConfirmFencedCommand(['cmp-7', '--socket', sock.path], t.io, {
      ask: async (q) => (questions.push(q), 'cmp-7\n'),
    });
    expect(code).toBe(0);
    expect(questions[0]).toMatch(/cmp-7: confirm that it is powered off.*Type the host name to confirm/);
    expect(sock.bodies).toEqual([{ host: 'cmp-7', confirm: 'cmp-7', by: expect.any(String) }]);
    expect(t.out.join('\n')).toMatch(/cmp-7: confirmed powered off by alice; now recovering/);
  });

  it('a different name (a slip, or the wrong host) sends nothing and exits 1', async () => {
    const sock = await controlSocket();
    const t = io();
    const code = await runConfirmFencedCommand(['cmp-7', '--socket', sock.path], t.io, { ask: async () => 'cmp-1' });
    expect(code).toBe(1);
    expect(t.err.join('\n')).toMatch(/not confirmed \('cmp-1' is not 'cmp-7'\); nothing done/);
    expect(sock.bodies).toEqual([]);
  });

  it('without a terminal and without --yes-i-checked it is a usage error that sends nothing', async () => {
    const sock = await controlSocket();
    await expect(runConfirmFencedCommand(['cmp-7', '--socket', sock.path], io().io, { ask: async () => null })).rejects.toThrow(UsageError);
    expect(sock.bodies).toEqual([]);
  });
});
