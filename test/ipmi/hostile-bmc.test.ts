import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { IpmiAuthError, IpmiTimeoutError } from '../../src/ipmi/errors.js';
import { buildResponse } from '../../src/ipmi/message.js';
import { sealSecure } from '../../src/ipmi/packet.js';
import { getPower, chassisControl, withIpmiSession } from '../../src/ipmi/power.js';
import { IpmiSession, type IpmiSessionOptions } from '../../src/ipmi/session.js';
import { SimBmc, type SimBmcOptions } from '../../src/testbed/bmc/sim-bmc.js';
import { silentLogger } from '../../src/log.js';

let bmc: SimBmc | undefined;
afterEach(async () => {
  await bmc?.close();
  bmc = undefined;
});

async function start(o: SimBmcOptions = {}): Promise<SimBmc> {
  bmc = await SimBmc.start(o);
  return bmc;
}

function opts(b: SimBmc, o: Partial<IpmiSessionOptions> = {}): IpmiSessionOptions {
  return {
    host: b.host,
    port: b.port,
    username: 'admin',
    password: 'password',
    cipherSuite: 3,
    privilege: 'administrator',
    loginTimeoutMs: 1500,
    requestTimeoutMs: 800,
    retransmitMs: 100,
    log: silentLogger(),
    ...o,
  };
}

const isStatus = (ctx: { request?: { netFn: number; cmd: number } }): boolean => ctx.request?.netFn === 0 && ctx.request.cmd === 1;

describe('IpmiSession against the simulated BMC', () => {
  it('logs in, powers off and reads the state back; the power callback fires', async () => {
    const seen: string[] = [];
    const b = await start({ onPower: (s, op) => seen.push(`${op}:${s}`) });
    await withIpmiSession(opts(b), async (s) => {
      await chassisControl(s, 'off');
      expect(await getPower(s)).toBe('off');
    });
    expect(seen).toEqual(['off:off']);
    expect(b.openSessions).toBe(0);
  });

  it('wrong password: a clear error, and the BMC is told (its session is freed)', async () => {
    const b = await start({ password: 'other' });
    await expect(IpmiSession.open(opts(b))).rejects.toThrow(IpmiAuthError);
    await expect(IpmiSession.open(opts(b))).rejects.toThrow(/wrong password/);
    // The error RAKP 3 is fire-and-forget: wait until the BMC processed it, without sleeping blind.
    await expect.poll(() => b.openSessions).toBe(0);
  });
});

describe('hostile or broken BMC replies are rejected, never taken for an answer', () => {
  it('garbage to everything: a timeout naming what was dropped', async () => {
    const b = await start({ tamper: () => [randomBytes(40), Buffer.from('hello')] });
    const err = await IpmiSession.open(opts(b)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IpmiTimeoutError);
    expect(String(err)).toMatch(/dropped invalid replies/);
  });

  it('truncated in-session replies: the status request fails, no state is reported', async () => {
    const b = await start({
      tamper: (reply, ctx) => (isStatus(ctx) ? [reply.subarray(0, reply.length - 3), reply.subarray(0, 20)] : [reply]),
    });
    await withIpmiSession(opts(b), async (s) => {
      await expect(getPower(s)).rejects.toThrow(IpmiTimeoutError);
    });
  });

  it('a forged "power is off" (wrong key) is dropped; the genuine answer after it wins', async () => {
    const b = await start({
      tamper: (reply, ctx) => {
        if (!isStatus(ctx) || !ctx.request) return [reply];
        const forgedMsg = buildResponse({ netFn: 1, cmd: 1, rqSeq: ctx.request.rqSeq, completionCode: 0, data: Buffer.from([0, 0, 0]) });
        const forged = sealSecure({ k1: randomBytes(20), aesKey: randomBytes(16) }, ctx.consoleSessionId!, 1000, forgedMsg);
        return [forged, reply];
      },
    });
    await withIpmiSession(opts(b), async (s) => expect(await getPower(s)).toBe('on'));
  });

  it('an authentic but replayed old "off" answer is rejected (sequence numbers)', async () => {
    let recorded: Buffer | undefined;
    let replay = false;
    const b = await start({
      power: 'off',
      tamper: (reply, ctx) => {
        if (!isStatus(ctx)) return [reply];
        if (!recorded) recorded = reply;
        return replay ? [recorded] : [reply];
      },
    });
    await withIpmiSession(opts(b), async (s) => {
      expect(await getPower(s)).toBe('off');
      await chassisControl(s, 'on');
      replay = true;
      await expect(getPower(s)).rejects.toThrow(/replayed or stale|another request/);
    });
  });

  it('an answer for another session (right keys, wrong session ID) is rejected', async () => {
    const b = await start({
      tamper: (reply, ctx) => {
        if (!isStatus(ctx) || !ctx.keys || !ctx.request) return [reply];
        const msg = buildResponse({ netFn: 1, cmd: 1, rqSeq: ctx.request.rqSeq, completionCode: 0, data: Buffer.from([0, 0, 0]) });
        return [sealSecure(ctx.keys, (ctx.consoleSessionId! + 1) >>> 0, 5000, msg)];
      },
    });
    await withIpmiSession(opts(b), async (s) => expect(getPower(s)).rejects.toThrow(/not ours/));
  });

  it('a BMC that cannot prove the session key (bad RAKP 4) never gets a session', async () => {
    const b = await start({
      tamper: (reply, ctx) =>
        ctx.stage === 'rakp4'
          ? [Buffer.concat([reply.subarray(0, reply.length - 1), Buffer.from([reply[reply.length - 1]! ^ 1])])]
          : [reply],
    });
    await expect(IpmiSession.open(opts(b))).rejects.toThrow(/RAKP 4 integrity check value mismatch/);
  });

  it('a dropped answer is retransmitted (new session sequence number) and then accepted', async () => {
    let dropped = 0;
    const b = await start({ tamper: (reply, ctx) => (isStatus(ctx) && dropped++ === 0 ? [] : [reply]) });
    await withIpmiSession(opts(b), async (s) => expect(await getPower(s)).toBe('on'));
    expect(dropped).toBe(2);
  });
});
