/**
 * Simulated BMCs for the demo and end-to-end tests: one per host, on 127.0.0.1, with a fencing
 * configuration (native-ipmi, one level per host) pointing at them. Uses OpenIPMI's ipmi_sim when
 * installed (`prefer: 'ipmi_sim'`), else the in-process simulated BMC. With the simulated BMC,
 * `onPower` is told of every power change, so a demo can stop a host's beacon when its BMC powers
 * it off (with ipmi_sim, power changes go to its chassis-control script and `power()` reads them).
 */
import { execFileSync } from 'node:child_process';
import { SimBmc } from '../bmc/sim-bmc.js';
import { SIM_PASSWORD, SIM_USER, startIpmiSim, type IpmiSim } from '../bmc/ipmi-sim-launcher.js';
import { FENCING_DEFAULTS, type FenceDeviceConfig, type FencingConfig } from '../../fence/config.js';

export interface DemoBmcs {
  config: FencingConfig;
  kind: 'ipmi_sim' | 'sim-bmc';
  power(host: string): 'on' | 'off';
  stop(): Promise<void>;
}

function haveIpmiSim(): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v ipmi_sim'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export async function startDemoBmcs(
  hosts: readonly string[],
  opts: { prefer?: 'ipmi_sim' | 'sim-bmc'; onPower?: (host: string, state: 'on' | 'off') => void } = {},
): Promise<DemoBmcs> {
  const useIpmiSim = opts.prefer === 'ipmi_sim' && haveIpmiSim();
  const sims = new Map<string, IpmiSim>();
  const bmcs = new Map<string, SimBmc>();
  const devices = new Map<string, FenceDeviceConfig>();
  try {
    for (const host of hosts) {
      let port: number;
      if (useIpmiSim) {
        const sim = await startIpmiSim();
        sims.set(host, sim);
        port = sim.port;
      } else {
        const bmc = await SimBmc.start({ username: SIM_USER, password: SIM_PASSWORD, onPower: (state) => opts.onPower?.(host, state) });
        bmcs.set(host, bmc);
        port = bmc.port;
      }
      devices.set(`bmc-${host}`, {
        name: `bmc-${host}`,
        agent: 'native-ipmi',
        options: { ip: '127.0.0.1', ipport: String(port), username: SIM_USER, cipher: '3' },
        password: SIM_PASSWORD,
        timeoutMs: 10_000,
        verify: true,
      });
    }
  } catch (err) {
    await Promise.all([...sims.values()].map((s) => s.stop()));
    await Promise.all([...bmcs.values()].map((b) => b.close()));
    throw err;
  }
  const config: FencingConfig = {
    ...FENCING_DEFAULTS,
    kdump: { ...FENCING_DEFAULTS.kdump },
    retries: 1,
    retryMinDelayMs: 200,
    devices,
    hosts: new Map(hosts.map((h) => [h, { host: h, levels: [[`bmc-${h}`]], kdumpAddresses: [] }])),
  };
  return {
    config,
    kind: useIpmiSim ? 'ipmi_sim' : 'sim-bmc',
    power: (host) => sims.get(host)?.power() ?? bmcs.get(host)?.power ?? 'off',
    stop: async () => {
      await Promise.all([...sims.values()].map((s) => s.stop()));
      await Promise.all([...bmcs.values()].map((b) => b.close()));
    },
  };
}
