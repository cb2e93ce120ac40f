import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { KdumpListener, isKdumpMessage } from '../../src/fence/kdump.js';
import { silentLogger } from '../../src/log.js';
import { killedAfterEach } from '../helpers/processes.js';
import { findTool } from '../helpers/require.js';

/** Decided at collection: missing, it is a skip with a message, or a failure under INSTANCE_HA_REQUIRE_SERVICES=1. */
const sender = findTool(
  'listening to the real fence_kdump_send',
  ['fence_kdump_send', '/usr/libexec/fence-agents/fence_kdump_send'],
  'apt-get install -y fence-agents',
);
const MSG = Buffer.from('402a301b01000000', 'hex'); // as fence_kdump_send sends it from x86

let listener: KdumpListener | undefined;
const track = killedAfterEach();
afterEach(async () => {
  await listener?.close();
  listener = undefined;
});

async function start(messageTimeoutMs: number, maxWaitMs: number): Promise<KdumpListener> {
  listener = await KdumpListener.start({ bind: '127.0.0.1', port: 0, messageTimeoutMs, maxWaitMs }, silentLogger());
  return listener;
}

function send(port: number, m: Buffer = MSG): Promise<void> {
  const s = createSocket('udp4');
  return new Promise((resolve) => s.send(m, port, '127.0.0.1', () => s.close(() => resolve())));
}

describe('fence_kdump messages', () => {
  it('recognises the message in both byte orders, nothing else', () => {
    expect(isKdumpMessage(MSG)).toBe(true);
    expect(isKdumpMessage(Buffer.from('1b302a4000000001', 'hex'))).toBe(true);
    expect(isKdumpMessage(Buffer.from('402a301b02000000', 'hex'))).toBe(false);
    expect(isKdumpMessage(MSG.subarray(0, 7))).toBe(false);
  });
});

describe('KdumpListener', () => {
  it('a host that never sent a message is not waited for', async () => {
    const l = await start(200, 5000);
    expect(await l.waitWhileDumping('h', ['127.0.0.1'], new AbortController().signal)).toEqual({ dumping: false, waitedMs: 0 });
  });

  it('waits while messages keep coming, and returns once the host has gone silent', async () => {
    const l = await start(300, 10_000);
    await send(l.port);
    await expect.poll(() => l.isDumping(['127.0.0.1'])).toBe(true);
    let sent = 0;
    let lastSentAt = 0;
    const timer = setInterval(() => {
      if (++sent > 3) return clearInterval(timer);
      lastSentAt = Date.now();
      void send(l.port);
    }, 100);
    const r = await l.waitWhileDumping('h', ['127.0.0.1'], new AbortController().signal);
    clearInterval(timer);
    expect(r.dumping).toBe(true);
    expect(r.gaveUp).toBeUndefined();
    // It returned only after the last message had aged out (ordering, not a duration assert).
    expect(Date.now()).toBeGreaterThanOrEqual(lastSentAt);
    expect(l.isDumping(['127.0.0.1'])).toBe(false);
  });

  it('gives up at max_wait while a dump goes on, and ignores other addresses', async () => {
    const l = await start(10_000, 300);
    await send(l.port);
    await expect.poll(() => l.isDumping(['127.0.0.1'])).toBe(true);
    expect(await l.waitWhileDumping('other', ['10.9.9.9'], new AbortController().signal)).toMatchObject({ dumping: false });
    expect(await l.waitWhileDumping('h', ['127.0.0.1'], new AbortController().signal)).toMatchObject({ dumping: true, gaveUp: true });
  });

  it.runIf(sender !== undefined)('hears the real fence_kdump_send (fence-agents)', async () => {
    const l = await start(5000, 5000);
    const child = track(spawn(sender!, ['-p', String(l.port), '-c', '1', '-i', '1', '127.0.0.1'], { stdio: 'ignore' }));
    await new Promise((resolve) => child.on('close', resolve));
    await expect.poll(() => l.isDumping(['127.0.0.1'])).toBe(true);
  });
});
