/**
 * Starts OpenIPMI's ipmi_sim on 127.0.0.1 with a project-owned LAN config (lanplus, user admin)
 * whose chassis power control writes a state file (and can run a hook): for the tests, the fence
 * benchmark and the demo. Self-contained: temp dir, free port, clean stop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, mkdirSync, existsSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildRequest } from '../../ipmi/message.js';
import { encodeV15 } from '../../ipmi/packet.js';
import { freePort } from '../loopback-ports.js';

/** The shell script next to this module's source (also when running from dist/). */
function chassisControlScript(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const p = join(dir, 'src', 'testbed', 'bmc', 'ipmi-sim-chassis-control.sh');
    if (existsSync(p)) return p;
    dir = dirname(dir);
  }
  throw new Error('src/testbed/bmc/ipmi-sim-chassis-control.sh not found');
}

export const SIM_USER = 'admin';
export const SIM_PASSWORD = 'password';

/** `ipmitool` arguments for a lanplus (cipher suite 3) session with a simulated BMC, then `args`: the cross-check tests use. */
export function ipmitoolArgs(sim: Pick<IpmiSim, 'host' | 'port'>, ...args: string[]): string[] {
  return ['-I', 'lanplus', '-C', '3', '-H', sim.host, '-p', String(sim.port), '-U', SIM_USER, '-P', SIM_PASSWORD, ...args];
}

export interface IpmiSim {
  host: string;
  port: number;
  dir: string;
  power(): 'on' | 'off';
  setPower(p: 'on' | 'off'): void;
  events(): string[];
  /** A script run by chassis-control with `0`/`1` on power set. */
  setHook(script: string): void;
  kill(signal?: NodeJS.Signals): Promise<void>;
  stop(): Promise<void>;
}

/** A UDP port free right now, outside the kernel's ephemeral range (see loopback-ports.ts). */
export function freeUdpPort(): Promise<number> {
  return freePort('udp');
}

export async function startIpmiSim(opts: { initialPower?: 'on' | 'off' } = {}): Promise<IpmiSim> {
  const chassisControl = chassisControlScript();
  const dir = mkdtempSync(join(tmpdir(), 'iha-ipmisim-'));
  const state = join(dir, 'state');
  mkdirSync(join(dir, 'persist'));
  mkdirSync(state);
  writeFileSync(join(state, 'power'), opts.initialPower === 'off' ? '0\n' : '1\n');
  for (let attempt = 0; ; attempt++) {
    const port = await freeUdpPort();
    const conf = join(dir, 'lan.conf');
    writeFileSync(
      conf,
      `name "testbmc"
set_working_mc 0x20
  startlan 1
    addr 127.0.0.1 ${port}
    priv_limit admin
    allowed_auths_callback md5 straight
    allowed_auths_user md5 straight
    allowed_auths_operator md5 straight
    allowed_auths_admin md5 straight
    guid d290325377573751cd4b69f6810619d8
  endlan
  chassis_control "${chassisControl} ${state}"
  user 2 true "${SIM_USER}" "${SIM_PASSWORD}" admin 10 md5 straight
`,
    );
    const emu = join(dir, 'bmc.emu');
    writeFileSync(
      emu,
      'mc_setbmc 0x20\nmc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr\nsel_enable 0x20 1000 0x0a\nmc_enable 0x20\n',
    );
    const log = openSync(join(dir, 'ipmi_sim.log'), 'a');
    const child = spawn('ipmi_sim', ['-n', '-c', conf, '-f', emu, '-s', join(dir, 'persist')], {
      cwd: dir,
      detached: true,
      stdio: ['ignore', log, log],
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    if (await answers(port, child)) return handle(dir, state, port, child, exited);
    await killGroup(child, exited, 'SIGKILL');
    if (attempt >= 3) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`ipmi_sim did not answer on 127.0.0.1:${port}: ${readFileSync(join(dir, 'ipmi_sim.log'), 'utf8')}`);
    }
  }
}

function handle(dir: string, state: string, port: number, child: ChildProcess, exited: Promise<void>): IpmiSim {
  return {
    host: '127.0.0.1',
    port,
    dir,
    power: () => (readFileSync(join(state, 'power'), 'utf8').trim() === '0' ? 'off' : 'on'),
    setPower: (p) => writeFileSync(join(state, 'power'), p === 'off' ? '0\n' : '1\n'),
    events: () => (existsSync(join(state, 'events.log')) ? readFileSync(join(state, 'events.log'), 'utf8').trim().split('\n') : []),
    setHook: (script) => {
      writeFileSync(join(state, 'hook'), script);
      chmodSync(join(state, 'hook'), 0o755);
    },
    kill: (signal = 'SIGKILL') => killGroup(child, exited, signal),
    stop: async () => {
      await killGroup(child, exited, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function killGroup(child: ChildProcess, exited: Promise<void>, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid!, signal);
  } catch {
    return;
  }
  // SIGSTOP/SIGCONT freeze and thaw it; only the terminating signals end it.
  if (signal !== 'SIGSTOP' && signal !== 'SIGCONT') await exited;
}

/** Readiness: the BMC answers a session-less Get Channel Authentication Capabilities. */
async function answers(port: number, child: ChildProcess): Promise<boolean> {
  const probe = encodeV15(buildRequest({ netFn: 6, cmd: 0x38, rqSeq: 0, data: Buffer.from([0x8e, 4]) }));
  const s = createSocket('udp4');
  try {
    return await new Promise<boolean>((resolve) => {
      let tries = 0;
      const timer = setInterval(() => {
        if (child.exitCode !== null || ++tries > 50) {
          clearInterval(timer);
          resolve(false);
        } else s.send(probe, port, '127.0.0.1');
      }, 100);
      s.on('error', () => {});
      s.on('message', () => {
        clearInterval(timer);
        resolve(true);
      });
      s.send(probe, port, '127.0.0.1');
    });
  } finally {
    s.close();
  }
}
