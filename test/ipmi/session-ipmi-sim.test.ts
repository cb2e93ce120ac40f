import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IpmiAuthError, IpmiTimeoutError, IpmiUnreachableError, IpmiUnsupportedError } from '../../src/ipmi/errors.js';
import { chassisControl, getPower, withIpmiSession } from '../../src/ipmi/power.js';
import { IpmiSession, type IpmiSessionOptions } from '../../src/ipmi/session.js';
import { silentLogger } from '../../src/log.js';
import { startIpmiSim, freeUdpPort, SIM_PASSWORD, SIM_USER, type IpmiSim, ipmitoolArgs } from '../../src/testbed/bmc/ipmi-sim-launcher.js';
import { haveTools } from '../helpers/require.js';

const run = promisify(execFile);
const enabled = haveTools('IPMI session against ipmi_sim', ['ipmi_sim', 'ipmitool']);

describe.runIf(enabled)('IpmiSession against OpenIPMI ipmi_sim (cipher suite 3)', () => {
  let sim: IpmiSim;
  const opts = (o: Partial<IpmiSessionOptions> = {}): IpmiSessionOptions => ({
    host: sim.host,
    port: sim.port,
    username: SIM_USER,
    password: SIM_PASSWORD,
    cipherSuite: 3,
    privilege: 'administrator',
    loginTimeoutMs: 3000,
    requestTimeoutMs: 3000,
    retransmitMs: 300,
    log: silentLogger(),
    ...o,
  });
  const ipmitool = async (...args: string[]): Promise<string> => (await run('ipmitool', ipmitoolArgs(sim, ...args))).stdout.trim();

  beforeAll(async () => {
    sim = await startIpmiSim();
  });
  afterAll(async () => {
    await sim?.stop();
  });

  it('reads the power state, and agrees with ipmitool after each change', async () => {
    await withIpmiSession(opts(), async (s) => {
      expect(await getPower(s)).toBe('on');
      await chassisControl(s, 'off');
      expect(await getPower(s)).toBe('off');
    });
    expect(await ipmitool('chassis', 'power', 'status')).toBe('Chassis Power is off');
    expect(sim.power()).toBe('off');
    await ipmitool('chassis', 'power', 'on');
    await withIpmiSession(opts(), async (s) => expect(await getPower(s)).toBe('on'));
  });

  it('fails a wrong password with a clear error, fast, and leaves no half-open session behind', async () => {
    for (let i = 0; i < 70; i++) {
      await expect(IpmiSession.open(opts({ password: 'wrong' }))).rejects.toThrow(/wrong password/);
    }
    // 70 > the 63-slot session table: only works because the failed logins were closed with RAKP 3.
    await withIpmiSession(opts(), async (s) => expect(await getPower(s)).toBe('on'));
  });

  it('fails an unknown user with a clear error', async () => {
    const err = await IpmiSession.open(opts({ username: 'nobody' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IpmiAuthError);
    expect(String(err)).toMatch(/unauthorized name/);
  });

  it('refuses cipher suites without authentication or without trusted vectors', async () => {
    await expect(IpmiSession.open(opts({ cipherSuite: 0 }))).rejects.toThrow(IpmiUnsupportedError);
    await expect(IpmiSession.open(opts({ cipherSuite: 17 }))).rejects.toThrow(/no trusted test vectors/);
  });

  it('reports nothing listening (ICMP) as unreachable', async () => {
    const port = await freeUdpPort();
    await expect(IpmiSession.open(opts({ port }))).rejects.toThrow(IpmiUnreachableError);
  });

  it('fails a request cleanly when the BMC dies mid-session (never a false state)', async () => {
    const other = await startIpmiSim();
    try {
      const s = await IpmiSession.open({ ...opts(), port: other.port });
      expect(await getPower(s)).toBe('on');
      await other.kill();
      await expect(getPower(s)).rejects.toThrow(/nothing listens|no valid answer/);
      s.abandon();
    } finally {
      await other.stop();
    }
  });

  it('times out on a frozen BMC (socket bound, no answers)', async () => {
    const other = await startIpmiSim();
    try {
      await other.kill('SIGSTOP');
      const err = await IpmiSession.open({ ...opts(), port: other.port, loginTimeoutMs: 800 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(IpmiTimeoutError);
      expect(String(err)).toMatch(/Get Channel Authentication Capabilities within \d+ms/);
    } finally {
      await other.stop();
    }
  });
});
