/**
 * The fence_ipmi agent definition: IPMI v2.0 lanplus BMCs through the native RMCP+ client
 * (src/ipmi), option-compatible with fence_ipmilan so an operator can swap one for the other.
 * Shared by the agents/fence_ipmi executable and the fencer's in-process `native-ipmi` device,
 * so both read and validate the same options.
 *
 * The one file that knows both the IPMI client and the agent framework: it turns agent options into
 * session options and a session into a PowerDevice. Neither side imports the other.
 */
import { chassisControl, getPower, withIpmiSession } from '../ipmi/power.js';
import { SESSION_DEFAULTS, type IpmiLogger, type IpmiSession, type IpmiSessionOptions } from '../ipmi/session.js';
import { ACTIONS, COMMON_OPTIONS, LOGIN_OPTIONS } from './common-options.js';
import type { AgentDefinition } from './main.js';
import { secondsMs, type AgentOption, type ParsedOptions } from './options.js';
import type { PowerDevice } from './power-loop.js';

const IPMI_OPTIONS: readonly AgentOption[] = [
  {
    name: 'ip',
    short: 'a',
    valueHint: '[ip]',
    type: 'string',
    aliases: ['ipaddr'],
    required: true,
    shortdesc: 'IP address or hostname of fencing device',
  },
  {
    name: 'ipport',
    short: 'u',
    valueHint: '[port]',
    type: 'integer',
    default: '623',
    shortdesc: 'UDP port to use for connection with device',
  },
  ...LOGIN_OPTIONS,
  {
    name: 'lanplus',
    short: 'P',
    type: 'boolean',
    default: '1',
    shortdesc: 'Use Lanplus (IPMI v2.0 RMCP+); always on: IPMI 1.5 is not supported',
  },
  {
    name: 'cipher',
    short: 'C',
    valueHint: '[cipher]',
    type: 'string',
    default: '3',
    shortdesc: 'Ciphersuite to use (same as ipmitool -C parameter); only 3 is implemented',
  },
  {
    name: 'privlvl',
    short: 'L',
    valueHint: '[level]',
    type: 'select',
    choices: ['callback', 'user', 'operator', 'administrator'],
    default: 'administrator',
    shortdesc: 'Privilege level on IPMI device',
  },
  {
    name: 'method',
    short: 'm',
    valueHint: '[method]',
    type: 'select',
    choices: ['onoff', 'cycle'],
    default: 'onoff',
    shortdesc: 'Method to fence',
  },
  {
    name: 'auth',
    short: 'A',
    valueHint: '[auth]',
    type: 'select',
    choices: ['md5', 'password', 'none'],
    shortdesc: 'IPMI Lan Auth type (IPMI 1.5 only; ignored)',
    ignored: true,
  },
  {
    name: 'hexadecimal_kg',
    valueHint: '[key]',
    type: 'string',
    shortdesc: 'Hexadecimal-encoded Kg key for IPMIv2 authentication (not supported)',
  },
  {
    name: 'target',
    valueHint: '[targetaddress]',
    type: 'string',
    shortdesc: 'Bridge IPMI requests to the remote target address (not supported)',
  },
  {
    name: 'ipmitool_path',
    valueHint: '[path]',
    type: 'string',
    shortdesc: 'Path to ipmitool binary (ignored: native client)',
    ignored: true,
  },
  {
    name: 'ipmitool_timeout',
    valueHint: '[timeout]',
    type: 'string',
    shortdesc: 'Timeout (sec) for IPMI operation (ignored; see shell_timeout)',
    ignored: true,
  },
  { name: 'use_sudo', type: 'boolean', aliases: ['sudo'], shortdesc: 'Use sudo (ignored: no helper programs)', ignored: true },
  { name: 'sudo_path', valueHint: '[path]', type: 'string', shortdesc: 'Path to sudo binary (ignored)', ignored: true },
];

export const FENCE_IPMI_OPTIONS: readonly AgentOption[] = [...COMMON_OPTIONS, ...IPMI_OPTIONS];

export const fenceIpmi: AgentDefinition = {
  docs: {
    name: 'fence_ipmi',
    shortdesc: 'Fence agent for IPMI (native lanplus)',
    longdesc:
      'fence_ipmi is an I/O Fencing agent for machines controlled by IPMI v2.0 (RMCP+, "lanplus", cipher suite 3). ' +
      'It speaks the protocol itself (no ipmitool), accepts the options of fence_ipmilan, and verifies power-off by polling the chassis power status.',
    actions: ACTIONS,
  },
  options: FENCE_IPMI_OPTIONS,
  check: (opts: ParsedOptions) => {
    const p: string[] = [];
    if (!opts.has('password') && !opts.has('password_script')) p.push('Failed: You have to enter password or password script');
    if (opts.has('hexadecimal_kg')) p.push('Failed: hexadecimal_kg (a BMC key Kg) is not supported by fence_ipmi; use fence_ipmilan');
    if (opts.has('target')) p.push('Failed: target (IPMI bridging) is not supported by fence_ipmi; use fence_ipmilan');
    if (opts.get('lanplus') === '0') p.push('Failed: IPMI 1.5 (lanplus=0) is not supported by fence_ipmi; use lanplus=1 or fence_ipmilan');
    if (!/^\d+$/.test(opts.get('cipher') ?? '')) p.push(`Failed: cipher must be a cipher suite number, got '${opts.get('cipher')}'`);
    return p;
  },
  withDevice: (opts, log, fn) => {
    log(`connecting to ${opts.get('ip')}:${opts.get('ipport')} as ${opts.get('username')} (cipher ${opts.get('cipher')})`);
    return withIpmiPowerDevice(opts, NO_LOG, undefined, fn);
  },
};

/** The agent logs through stderr lines, not pino (and a short-lived process should not load pino). */
const NO_LOG: IpmiLogger = { debug: () => {} };

/**
 * Opens one session from validated agent options (defaults applied by `validate`), runs fn on it
 * as a PowerDevice and closes it, also on failure.
 */
export function withIpmiPowerDevice<T>(
  opts: ParsedOptions,
  log: IpmiLogger,
  signal: AbortSignal | undefined,
  fn: (dev: PowerDevice) => Promise<T>,
): Promise<T> {
  return withIpmiSession(ipmiSessionOptions(opts, log, signal), (s) => fn(ipmiPowerDevice(s)));
}

function ipmiPowerDevice(s: IpmiSession): PowerDevice {
  return {
    getPower: () => getPower(s),
    setPower: (state) => chassisControl(s, state),
    cycle: () => chassisControl(s, 'cycle'),
  };
}

function ipmiSessionOptions(opts: ParsedOptions, log: IpmiLogger, signal?: AbortSignal): IpmiSessionOptions {
  const shellMs = secondsMs(opts, 'shell_timeout');
  return {
    host: opts.get('ip') ?? '',
    port: Number(opts.get('ipport') ?? '623'),
    username: opts.get('username') ?? '',
    password: opts.get('password') ?? '',
    cipherSuite: Number(opts.get('cipher') ?? '3'),
    privilege: (opts.get('privlvl') ?? 'administrator').toLowerCase() as IpmiSessionOptions['privilege'],
    loginTimeoutMs: secondsMs(opts, 'login_timeout') || SESSION_DEFAULTS.loginTimeoutMs,
    requestTimeoutMs: shellMs > 0 ? shellMs : SESSION_DEFAULTS.requestTimeoutMs,
    retransmitMs: SESSION_DEFAULTS.retransmitMs,
    log,
    signal,
  };
}
