/**
 * The fence_redfish_native agent definition: Redfish BMCs (iDRAC, iLO, XCC, OpenBMC) through the
 * in-process client of src/redfish, option-compatible with ClusterLabs fence_redfish. Shared by the
 * agents/fence_redfish_native executable and the fencer's in-process `native-redfish` device.
 *
 * The one file that knows both the Redfish client and the agent framework: it turns agent options
 * into client options and ComputerSystem power states into the power loop's on/off.
 */
import { RedfishClient, RedfishError, type RedfishOptions, type RedfishPowerState } from '../redfish/client.js';
import { ACTIONS, COMMON_OPTIONS, LOGIN_OPTIONS } from './common-options.js';
import type { AgentDefinition } from './main.js';
import { isTrue, secondsMs, type AgentOption, type ParsedOptions } from './options.js';
import type { PowerDevice, PowerState } from './power-loop.js';

const REDFISH_OPTIONS: readonly AgentOption[] = [
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
    default: '443',
    shortdesc: 'TCP/UDP port to use for connection with device',
  },
  ...LOGIN_OPTIONS,
  { name: 'redfish_uri', valueHint: '[uri]', type: 'string', default: '/redfish/v1', shortdesc: 'Base or starting Redfish URI' },
  {
    name: 'systems_uri',
    valueHint: '[uri]',
    type: 'string',
    shortdesc: 'Redfish Systems resource URI, i.e. /redfish/v1/Systems/System.Embedded.1',
  },
  { name: 'ssl', short: 'z', type: 'boolean', default: '1', shortdesc: 'Use SSL connection (always on: Redfish is HTTPS)', ignored: true },
  { name: 'ssl_secure', type: 'boolean', shortdesc: 'Use SSL connection with verifying certificate (the default)', ignored: true },
  { name: 'ssl_insecure', type: 'boolean', shortdesc: 'Use SSL connection without verifying certificate (logged as a warning)' },
  { name: 'ssl_ca', valueHint: '[file]', type: 'string', shortdesc: 'PEM CA bundle to verify the BMC certificate with' },
  {
    name: 'redfish_auth',
    valueHint: '[auth]',
    type: 'select',
    choices: ['basic', 'session'],
    default: 'basic',
    shortdesc: 'HTTP basic authentication on each request, or one Redfish session (X-Auth-Token) per action',
  },
];

export const FENCE_REDFISH_OPTIONS: readonly AgentOption[] = [...COMMON_OPTIONS.map(redfishDefaults), ...REDFISH_OPTIONS];

/** A Redfish call is an HTTPS request: the IPMI-sized 3 s default is too short for a busy BMC. */
function redfishDefaults(o: AgentOption): AgentOption {
  return o.name === 'shell_timeout' ? { ...o, default: '10' } : o;
}

export const fenceRedfishNative: AgentDefinition = {
  docs: {
    name: 'fence_redfish_native',
    shortdesc: 'Fence agent for Redfish (native)',
    longdesc:
      'fence_redfish_native is an I/O Fencing agent for machines whose BMC speaks DMTF Redfish over HTTPS. ' +
      'It accepts the options of fence_redfish, checks the BMC certificate unless told not to, and verifies power-off by polling PowerState until Off.',
    actions: ACTIONS,
  },
  options: FENCE_REDFISH_OPTIONS,
  check: (opts: ParsedOptions) => {
    const p: string[] = [];
    if (!opts.has('password') && !opts.has('password_script')) p.push('Failed: You have to enter password or password script');
    for (const k of ['redfish_uri', 'systems_uri']) {
      const v = opts.get(k);
      if (v !== undefined && !/^\/[\x21-\x7e]*$/.test(v)) p.push(`Failed: ${k} must be an absolute path such as /redfish/v1, got '${v}'`);
    }
    if (isTrue(opts.get('ssl_insecure')) && opts.has('ssl_ca')) p.push('Failed: ssl_insecure and ssl_ca contradict each other: choose one');
    return p;
  },
  withDevice: (opts, log, fn) => {
    log(`connecting to https://${opts.get('ip')}:${opts.get('ipport')} as ${opts.get('username')} (${opts.get('redfish_auth')} auth)`);
    if (isTrue(opts.get('ssl_insecure'))) log('WARNING: the BMC certificate is not verified (ssl_insecure)');
    return withRedfishPowerDevice(opts, undefined, fn);
  },
};

export function redfishOptions(opts: ParsedOptions, signal: AbortSignal | undefined): RedfishOptions {
  const shellMs = secondsMs(opts, 'shell_timeout');
  return {
    host: opts.get('ip') ?? '',
    port: Number(opts.get('ipport') ?? '443'),
    username: opts.get('username') ?? '',
    password: opts.get('password') ?? '',
    rootPath: (opts.get('redfish_uri') ?? '/redfish/v1').replace(/\/+$/, ''),
    systemPath: opts.get('systems_uri'),
    caFile: opts.get('ssl_ca'),
    insecure: isTrue(opts.get('ssl_insecure')),
    auth: opts.get('redfish_auth') === 'session' ? 'session' : 'basic',
    requestTimeoutMs: shellMs > 0 ? shellMs : 10_000,
    signal,
  };
}

/** Connects (a session when configured), runs fn on the system as a PowerDevice, closes, also on failure. */
export async function withRedfishPowerDevice<T>(
  opts: ParsedOptions,
  signal: AbortSignal | undefined,
  fn: (dev: PowerDevice) => Promise<T>,
): Promise<T> {
  const client = new RedfishClient(redfishOptions(opts, signal));
  try {
    await client.open();
    return await fn(redfishPowerDevice(client));
  } finally {
    await client.close();
  }
}

/**
 * PowerState to the loop's two states. Only `Off` is off: a system `PoweringOff` still runs, and
 * one `PoweringOn` is about to, so neither may ever pass for a verified fence. (A `PoweringOn`
 * read as on only ends an `on` action's wait early, which costs no safety.)
 */
export function powerOf(s: RedfishPowerState): PowerState {
  return s === 'Off' ? 'off' : 'on';
}

export function redfishPowerDevice(client: Pick<RedfishClient, 'powerState' | 'reset'>): PowerDevice {
  const set = async (want: PowerState): Promise<void> => {
    const code = await client.reset(want === 'off' ? 'ForceOff' : 'On');
    if (code !== 400 && code !== 409) return;
    // HPE iLO answers 400 and Dell iDRAC 409 to a ForceOff of a system that is already off (and
    // the reverse for On): what counts is the state it is in now, read again.
    // A system already on its way there is fine too: the power loop polls until it arrives.
    const now = await client.powerState();
    const underway = want === 'off' ? now === 'Off' || now === 'PoweringOff' : now === 'On' || now === 'PoweringOn';
    if (!underway) throw new RedfishError(`Reset ${want === 'off' ? 'ForceOff' : 'On'} refused (${code}) and PowerState is ${now}`, code);
  };
  return {
    getPower: async () => powerOf(await client.powerState()),
    setPower: set,
    cycle: async () => {
      const code = await client.reset('ForceRestart');
      if (code === 400 || code === 409) throw new RedfishError(`Reset ForceRestart refused (${code})`, code);
    },
  };
}
