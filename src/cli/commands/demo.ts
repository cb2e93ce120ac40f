import { askDemo } from '../../testbed/demo/demo-control.js';
import { runDemo, SCENARIOS, type Scenario } from '../../testbed/demo/run-demo.js';
import { UsageError, parse } from '../args.js';
import type { Io } from '../command.js';

export const DEMO_HELP = `Usage: instance-ha demo [--hosts N] [--servers N] [--scenario ${SCENARIOS.join('|')}] [--keep]
       instance-ha demo kill HOST | demo revive HOST [--dir DIR]

Starts a complete deployment on 127.0.0.1 (3 monitors, N compute hosts with beacons and BMCs, the
Nova simulator, RabbitMQ when it answers), kills a host and narrates every step, then cleans up.
  --hosts N        compute hosts (default 4, at least 2)
  --servers N      servers per host, half tagged automatic-recovery (default 4)
  --scenario S     default: one host dies and is recovered
                   partition: two monitors cut off; the third declares nothing until they return,
                   then the host is fenced and its servers evacuated
                   mass-failure: half the hosts die at once; held until acknowledged, then each
                   is fenced and its servers evacuated
                   fence-failure: the victim's BMC refuses us; it is never recovered
                   compute-down: the victim's nova-compute (a stand-in process) dies on a live host;
                   its service is disabled, never fenced, and enabled again once it is back
                   guest-crash: the guest OS of a tagged server on the victim panics (a real QEMU
                   guest under libvirt when there is one, else a simulated libvirt event source,
                   and it says so); notified, its server hard-rebooted through Nova, host not fenced
  --keep           stay up afterwards so you can try status, events, fence (Ctrl-C ends it)

While a demo runs with --keep, from another terminal:
  demo kill HOST     power loss of HOST: its beacon is SIGKILLed and its nova-compute dies; the
                     monitors detect, fence and recover it as in the default scenario
  demo revive HOST   power HOST on at its BMC (if it was fenced off) and boot it: beacon and
                     nova-compute start again; then 'instance-ha unfence HOST --config …' returns
                     it to service
  --dir DIR          the demo's directory (default: the demo --keep running as this user)`;

export async function runDemoCommand(args: string[], io: Io): Promise<number> {
  if (args[0] === 'kill' || args[0] === 'revive') return demoHelper(args[0], args.slice(1), io);
  const { values } = parse(args, {
    hosts: { type: 'string' },
    servers: { type: 'string' },
    scenario: { type: 'string' },
    keep: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.out(DEMO_HELP);
    return 0;
  }
  const hosts = Number(values.hosts ?? 4);
  const servers = Number(values.servers ?? 4);
  const scenario = (values.scenario ?? 'default') as Scenario;
  if (!Number.isInteger(hosts) || hosts < 2 || hosts > 50) {
    throw new UsageError(`--hosts must be a whole number from 2 to 50, got '${values.hosts}'`);
  }
  if (!Number.isInteger(servers) || servers < 0 || servers > 200) {
    throw new UsageError(`--servers must be a whole number from 0 to 200, got '${values.servers}'`);
  }
  if (!SCENARIOS.includes(scenario)) throw new UsageError(`--scenario must be one of ${SCENARIOS.join(', ')}, got '${values.scenario}'`);
  const result = await runDemo({ hosts, servers, scenario, keep: values.keep ?? false, out: io.out });
  return result.ok ? 0 : 1;
}

/** `demo kill HOST` / `demo revive HOST`: asks the running `demo --keep` to act on one of its hosts. */
async function demoHelper(action: 'kill' | 'revive', args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, { dir: { type: 'string' } });
  if (positionals.length !== 1) throw new UsageError(`Usage: instance-ha demo ${action} HOST [--dir DIR]`);
  const r = await askDemo(action, positionals[0]!, values.dir);
  if (r.ok) io.out(r.text);
  else io.err(r.text);
  return r.ok ? 0 : 1;
}
