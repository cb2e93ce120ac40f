import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fenceIpmi, withIpmiPowerDevice } from '../../src/fence-agent/ipmi-agent.js';
import { metadataXml, validate, type ParsedOptions } from '../../src/fence-agent/options.js';
import { POWER_LOOP_DEFAULTS, runPowerAction } from '../../src/fence-agent/power-loop.js';
import { agentPath, ensureBuilt } from '../helpers/build.js';
import { freeUdpPort, startIpmiSim, SIM_PASSWORD, SIM_USER, type IpmiSim, ipmitoolArgs } from '../../src/testbed/bmc/ipmi-sim-launcher.js';
import { killedAfterEach } from '../helpers/processes.js';
import { haveTools } from '../helpers/require.js';

const execFileP = promisify(execFile);
const track = killedAfterEach();

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function runAgent(args: string[], stdin?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = track(spawn(agentPath('fence_ipmi'), args, { stdio: ['pipe', 'pipe', 'pipe'] }));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout: stdout.trim(), stderr: stderr.trim() }));
    child.stdin.end(stdin ?? '');
  });
}

describe('fence_ipmi metadata', () => {
  it('matches the committed golden file (regenerate: UPDATE_GOLDEN=1)', async () => {
    const golden = new URL('../fixtures/agents/fence_ipmi.metadata.xml', import.meta.url);
    const xml = metadataXml(fenceIpmi.docs, fenceIpmi.options);
    if (process.env.UPDATE_GOLDEN === '1') (await import('node:fs')).writeFileSync(golden, xml);
    expect(xml).toBe(readFileSync(golden, 'utf8'));
  });
  it('names every option fence_ipmilan users set', () => {
    const xml = metadataXml(fenceIpmi.docs, fenceIpmi.options);
    for (const n of [
      'ip',
      'ipaddr',
      'ipport',
      'username',
      'login',
      'password',
      'passwd',
      'password_script',
      'lanplus',
      'cipher',
      'privlvl',
      'method',
      'power_wait',
      'power_timeout',
      'login_timeout',
      'verbose',
      'action',
      'plug',
      'delay',
    ]) {
      expect(xml).toContain(`<parameter name="${n}"`);
    }
    expect(xml).toMatch(/<parameter name="power_wait"[^]*?default="0"/);
  });
});

const enabled = haveTools('fence_ipmi against ipmi_sim', ['ipmi_sim', 'ipmitool']);

describe.runIf(enabled)('fence_ipmi executable against ipmi_sim, agreeing with ipmitool -C 3', () => {
  let sim: IpmiSim;
  const argv = (...extra: string[]): string[] => [
    `--ip=${sim.host}`,
    `--ipport=${sim.port}`,
    `--username=${SIM_USER}`,
    `--password=${SIM_PASSWORD}`,
    '--lanplus',
    '--cipher=3',
    ...extra,
  ];
  const ipmitoolStatus = async (): Promise<string> =>
    (await execFileP('ipmitool', ipmitoolArgs(sim, 'chassis', 'power', 'status'))).stdout.trim();

  beforeAll(async () => {
    ensureBuilt();
    sim = await startIpmiSim();
  });
  afterAll(async () => {
    await sim?.stop();
  });

  it('status / off / already off / on / reboot via argv, with the fence-agent exit codes', async () => {
    expect(await runAgent(argv('-o', 'status'))).toMatchObject({ code: 0, stdout: 'Status: ON' });
    expect(await runAgent(argv('-o', 'off'))).toMatchObject({ code: 0, stdout: 'Success: Powered OFF' });
    expect(await ipmitoolStatus()).toBe('Chassis Power is off');
    expect(await runAgent(argv('-o', 'status'))).toMatchObject({ code: 2, stdout: 'Status: OFF' });
    expect(await runAgent(argv('-o', 'off'))).toMatchObject({ code: 0, stdout: 'Success: Already OFF' });
    expect(await runAgent(argv('-o', 'on'))).toMatchObject({ code: 0, stdout: 'Success: Powered ON' });
    expect(await ipmitoolStatus()).toBe('Chassis Power is on');
    expect(await runAgent(argv('-o', 'reboot'))).toMatchObject({ code: 0, stdout: 'Success: Rebooted' });
    expect(sim.events().slice(-2)).toEqual(['power 0', 'power 1']);
    expect(await runAgent(argv('-o', 'monitor'))).toMatchObject({ code: 0 });
    expect(await runAgent(argv('-o', 'list'))).toMatchObject({ code: 0, stdout: 'N/A' });
  });

  it('reads the same options on stdin (fence_ipmilan names, deprecated aliases, unknown keys warned)', async () => {
    const stdin = `# from pacemaker\nipaddr=${sim.host}\nipport=${sim.port}\nlogin=${SIM_USER}\npasswd=${SIM_PASSWORD}\nlanplus=1\ncipher=3\npower_wait=0\nnodename=compute-1\naction=status\n`;
    const r = await runAgent([], stdin);
    expect(r).toMatchObject({ code: 0, stdout: 'Status: ON' });
    expect(r.stderr).toContain("Ignoring unknown option 'nodename'");
    const script = await runAgent(
      [],
      `ip=${sim.host}\nipport=${sim.port}\nusername=${SIM_USER}\npassword_script=echo ${SIM_PASSWORD}\naction=status\n`,
    );
    expect(script).toMatchObject({ code: 0, stdout: 'Status: ON' });
  });

  it('a wrong password fails with a clear error and exit 1, within login_timeout', async () => {
    const r = await runAgent([`--ip=${sim.host}`, `--ipport=${sim.port}`, '-l', SIM_USER, '-p', 'wrong', '--login-timeout=2', '-o', 'off']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/wrong password/);
    expect(r.stderr).not.toContain('wrong\n');
    expect(sim.power()).toBe('on');
  });

  it('no BMC: a clear error, exit 1', async () => {
    const port = await freeUdpPort();
    const r = await runAgent([
      `--ip=127.0.0.1`,
      `--ipport=${port}`,
      '-l',
      SIM_USER,
      '-p',
      SIM_PASSWORD,
      '--login-timeout=1',
      '-o',
      'status',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/nothing listens|no valid answer/);
  });

  it('help, validate-all and bad options', async () => {
    const help = await runAgent(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/-a, --ip=\[ip\]/);
    expect(await runAgent(argv('-o', 'validate-all'))).toMatchObject({ code: 0 });
    const bad = await runAgent(['--no-such-option']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/unknown option '--no-such-option'/);
    expect((await runAgent(argv('--privlvl=root', '-o', 'status'))).stderr).toMatch(/privlvl must be one of/);
  });

  it('refuses cipher 17 and IPMI 1.5 with a reason', async () => {
    const r = await runAgent(argv('--cipher=17', '-o', 'status'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cipher suite 17/);
    expect((await runAgent([], `ip=${sim.host}\nusername=a\npassword=b\nlanplus=0\naction=status\n`)).stderr).toMatch(/IPMI 1.5/);
  });

  // Last: ipmi_sim powers the host back on by itself a second after a cycle.
  it('method=cycle reboots with one chassis power cycle', async () => {
    expect(await runAgent(argv('--method=cycle', '-o', 'reboot'))).toMatchObject({ code: 0, stdout: 'Success: Rebooted' });
    expect(sim.events()).toContain('power 0');
  });
});

describe.runIf(enabled)('fence_ipmi in-process (the native-ipmi device path) against ipmi_sim', () => {
  let sim: IpmiSim;
  beforeAll(async () => {
    sim = await startIpmiSim();
  });
  afterAll(async () => {
    await sim?.stop();
  });
  const agentOptions = (): ParsedOptions => {
    const o: ParsedOptions = new Map([
      ['ip', sim.host],
      ['ipport', String(sim.port)],
      ['username', SIM_USER],
      ['password', SIM_PASSWORD],
    ]);
    expect(validate(o, fenceIpmi.options)).toEqual([]);
    return o;
  };

  it('runs off / status / on / reboot through the power loop over one session', async () => {
    await withIpmiPowerDevice(agentOptions(), { debug: () => {} }, undefined, async (dev) => {
      expect(await runPowerAction(dev, 'off', POWER_LOOP_DEFAULTS)).toEqual({ state: 'off', already: false });
      expect(await runPowerAction(dev, 'off', POWER_LOOP_DEFAULTS)).toEqual({ state: 'off', already: true });
      expect(await runPowerAction(dev, 'status', POWER_LOOP_DEFAULTS)).toEqual({ state: 'off', already: true });
      expect(await runPowerAction(dev, 'on', POWER_LOOP_DEFAULTS)).toEqual({ state: 'on', already: false });
      expect(await runPowerAction(dev, 'reboot', POWER_LOOP_DEFAULTS)).toEqual({ state: 'on', already: false });
    });
    expect(sim.events().slice(-4)).toEqual(['power 0', 'power 1', 'power 0', 'power 1']);
    const auth = ['-H', sim.host, '-p', String(sim.port), '-U', SIM_USER, '-P', SIM_PASSWORD];
    const ipmitool = await execFileP('ipmitool', ['-I', 'lanplus', '-C', '3', ...auth, 'chassis', 'power', 'status']);
    expect(ipmitool.stdout.trim()).toBe('Chassis Power is on');
  });
});
