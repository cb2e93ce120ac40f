import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkFencingAgents } from '../../src/fence/check.js';
import type { FenceDeviceConfig, FencingConfig } from '../../src/fence/config.js';
import { FENCING_DEFAULTS } from '../../src/fence/config.js';
import { resolveAgent } from '../../src/fence/agents.js';
import { TopologyFencer } from '../../src/fence/fencer.js';
import { startFencing } from '../../src/fence/index.js';
import { silentLogger } from '../../src/log.js';
import { ensureBuilt } from '../helpers/build.js';
import { startIpmiSim, SIM_PASSWORD, SIM_USER, type IpmiSim, ipmitoolArgs } from '../../src/testbed/bmc/ipmi-sim-launcher.js';
import { killedAfterEach } from '../helpers/processes.js';
import { haveTools } from '../helpers/require.js';

const execFileP = promisify(execFile);
const track = killedAfterEach();
const enabled = haveTools('fencer against ipmi_sim with fence_ipmilan, fence_ipmi and native-ipmi', [
  'ipmi_sim',
  'ipmitool',
  'fence_ipmilan',
]);

describe.runIf(enabled)('TopologyFencer against ipmi_sim', () => {
  let sim: IpmiSim;
  beforeAll(async () => {
    ensureBuilt();
    sim = await startIpmiSim();
  });
  afterAll(async () => {
    await sim?.stop();
  });

  const ipmiOptions = (): Record<string, string> => ({
    ip: sim.host,
    ipport: String(sim.port),
    username: SIM_USER,
    lanplus: '1',
    cipher: '3',
    power_wait: '0',
  });
  const device = (name: string, agent: string, o: Partial<FenceDeviceConfig> = {}): FenceDeviceConfig => ({
    name,
    agent,
    agentPath: agent === 'native-ipmi' ? undefined : resolveAgent(agent),
    options: ipmiOptions(),
    password: SIM_PASSWORD,
    timeoutMs: 30_000,
    verify: true,
    ...o,
  });
  const config = (d: FenceDeviceConfig): FencingConfig => ({
    ...FENCING_DEFAULTS,
    kdump: { ...FENCING_DEFAULTS.kdump },
    retries: 0,
    devices: new Map([[d.name, d]]),
    hosts: new Map([['compute-1', { host: 'compute-1', levels: [[d.name]], kdumpAddresses: [] }]]),
  });
  const ipmitoolStatus = async (): Promise<string> =>
    (await execFileP('ipmitool', ipmitoolArgs(sim, 'chassis', 'power', 'status'))).stdout.trim();

  for (const agent of ['fence_ipmilan', 'fence_ipmi', 'native-ipmi']) {
    it(`fences through ${agent}: off, verified off by status, agreeing with ipmitool; on again`, async () => {
      sim.setPower('on');
      const f = new TopologyFencer({ config: config(device('bmc', agent)), log: silentLogger(), monitorId: 'ctl1' });
      const rec = await f.fence('compute-1', new AbortController().signal);
      expect(rec).toMatchObject({ ok: true, level: 1, agent });
      expect(rec.attempts.map((a) => `${a.action}:${a.exitCode}`)).toEqual(['off:0', 'status:2']);
      expect(await ipmitoolStatus()).toBe('Chassis Power is off');
      expect(await f.hostAction('compute-1', 'on', new AbortController().signal)).toMatchObject({ ok: true });
      expect(await ipmitoolStatus()).toBe('Chassis Power is on');
    });
  }

  it('the BMC power-off kills the simulated host (its beacon process) through the power hook', async () => {
    sim.setPower('on');
    const beacon = track(spawn('sleep', ['1000'], { stdio: 'ignore', detached: true }));
    const gone = new Promise((resolve) => beacon.on('exit', (_code, sig) => resolve(sig)));
    sim.setHook(`#!/bin/sh\n[ "$1" = 0 ] && kill -KILL ${beacon.pid}\nexit 0\n`);
    try {
      const { fencer, close } = await startFencing({
        config: config(device('bmc', 'native-ipmi')),
        log: silentLogger(),
        monitorId: 'ctl1',
      });
      const rec = await fencer.fence('compute-1', new AbortController().signal);
      await close();
      expect(rec.ok).toBe(true);
      expect(await gone).toBe('SIGKILL');
    } finally {
      sim.setHook('#!/bin/sh\nexit 0\n');
      beacon.kill('SIGKILL');
    }
  });

  it('validates options against fence_ipmilan metadata at config-check time', async () => {
    const good = await checkFencingAgents(config(device('bmc', 'fence_ipmilan')), silentLogger());
    expect(good).toEqual([]);
    const bad = await checkFencingAgents(
      config(device('bmc', 'fence_ipmilan', { options: { ...ipmiOptions(), ip_address: 'x', method: 'yank' } })),
      silentLogger(),
    );
    expect(bad.map((p) => p.reason)).toEqual([
      "option 'ip_address' is not a parameter of fence_ipmilan",
      "option 'method' must be one of onoff, cycle, got 'yank'",
    ]);
  });

  it('fence_ipmilan with a wrong password: a failed fence whose record carries no password', async () => {
    const f = new TopologyFencer({
      config: config(device('bmc', 'fence_ipmilan', { password: 'Wrong-Pw-123' })),
      log: silentLogger(),
      monitorId: 'ctl1',
    });
    const rec = await f.fence('compute-1', new AbortController().signal);
    expect(rec.ok).toBe(false);
    expect(rec.attempts[0]).toMatchObject({ agent: 'fence_ipmilan', action: 'off', exitCode: 1, ok: false });
    expect(JSON.stringify(rec)).not.toContain('Wrong-Pw-123');
  });
});
