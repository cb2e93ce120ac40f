/**
 * npm run bench:fence — time of a complete verified fence (off, then status confirming OFF) against
 * one OpenIPMI ipmi_sim, interleaved in one run:
 *   (a) the monitor's fencer with the in-process native-ipmi device,
 *   (b) the same fencer running Debian's fence_ipmilan --cipher=3 --power-wait=0 as an agent,
 *   (c) the agents/fence_ipmi executable on its own (off, then status).
 * Last line: fence ipmi_ms=<median a> agent_ms=<median c> fence_ipmilan_ms=<median b> ratio=<b/a>
 * Env: BENCH_FENCE_RUNS (default 21).
 */
import { spawn } from 'node:child_process';
import { resolveAgent } from '../src/fence/agents.js';
import type { FenceDeviceConfig, FencingConfig } from '../src/fence/config.js';
import { FENCING_DEFAULTS } from '../src/fence/config.js';
import { TopologyFencer } from '../src/fence/fencer.js';
import { startIpmiSim, SIM_PASSWORD, SIM_USER, type IpmiSim } from '../src/testbed/bmc/ipmi-sim-launcher.js';
import { silentLogger } from '../src/log.js';

const RUNS = Number(process.env.BENCH_FENCE_RUNS ?? 21);
const WARMUP = 2;

function fencer(sim: IpmiSim, agent: 'native-ipmi' | 'fence_ipmilan'): TopologyFencer {
  const dev: FenceDeviceConfig = {
    name: agent,
    agent,
    agentPath: agent === 'native-ipmi' ? undefined : resolveAgent(agent),
    options: { ip: sim.host, ipport: String(sim.port), username: SIM_USER, lanplus: '1', cipher: '3', power_wait: '0' },
    password: SIM_PASSWORD,
    timeoutMs: 30_000,
    verify: true,
  };
  if (agent !== 'native-ipmi' && !dev.agentPath) throw new Error(`${agent} not found (apt-get install fence-agents)`);
  const config: FencingConfig = {
    ...FENCING_DEFAULTS,
    kdump: { ...FENCING_DEFAULTS.kdump },
    retries: 0,
    devices: new Map([[dev.name, dev]]),
    hosts: new Map([['bench-host', { host: 'bench-host', levels: [[dev.name]], kdumpAddresses: [] }]]),
  };
  return new TopologyFencer({ config, log: silentLogger(), monitorId: 'bench' });
}

function runExecutable(path: string, stdin: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(path, [], { stdio: ['pipe', 'ignore', 'ignore'] });
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? -1));
    child.stdin.end(stdin);
  });
}

async function agentAlone(sim: IpmiSim): Promise<void> {
  const path = resolveAgent('fence_ipmi');
  if (!path) throw new Error('agents/fence_ipmi not found');
  const base = `ip=${sim.host}\nipport=${sim.port}\nusername=${SIM_USER}\npassword=${SIM_PASSWORD}\nlanplus=1\ncipher=3\n`;
  if ((await runExecutable(path, `${base}action=off\n`)) !== 0) throw new Error('fence_ipmi -o off failed');
  if ((await runExecutable(path, `${base}action=status\n`)) !== 2) throw new Error('fence_ipmi -o status did not report OFF');
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

async function main(): Promise<void> {
  const sim = await startIpmiSim();
  try {
    const native = fencer(sim, 'native-ipmi');
    const ipmilan = fencer(sim, 'fence_ipmilan');
    const cases: Array<[string, () => Promise<void>]> = [
      ['ipmi', async () => ok(await native.fence('bench-host', new AbortController().signal))],
      ['fence_ipmilan', async () => ok(await ipmilan.fence('bench-host', new AbortController().signal))],
      ['agent', () => agentAlone(sim)],
    ];
    const times = new Map<string, number[]>(cases.map(([n]) => [n, []]));
    for (let i = 0; i < WARMUP + RUNS; i++) {
      // Rotate the order so no method always runs first (cache, scheduler) after a power-on.
      for (let k = 0; k < cases.length; k++) {
        const [name, fn] = cases[(i + k) % cases.length]!;
        sim.setPower('on');
        const t0 = performance.now();
        await fn();
        const ms = performance.now() - t0;
        if (sim.power() !== 'off') throw new Error(`${name}: host not off after a fence`);
        if (i >= WARMUP) times.get(name)!.push(ms);
      }
    }
    const med: Record<string, number> = {};
    console.log(
      `# ipmi_sim 127.0.0.1:${sim.port}, ${RUNS} interleaved runs each (+${WARMUP} warm-up), verified fence = off then status OFF`,
    );
    for (const [name, t] of times) {
      const s = [...t].sort((a, b) => a - b);
      med[name] = quantile(s, 0.5);
      console.log(
        `${name.padEnd(14)} median ${med[name]!.toFixed(1)} ms  p99 ${quantile(s, 0.99).toFixed(1)} ms  min ${s[0]!.toFixed(1)}  max ${s[s.length - 1]!.toFixed(1)}`,
      );
    }
    const r = (x: number): string => x.toFixed(1);
    console.log(
      `fence ipmi_ms=${r(med.ipmi!)} agent_ms=${r(med.agent!)} fence_ipmilan_ms=${r(med.fence_ipmilan!)} ratio=${(med.fence_ipmilan! / med.ipmi!).toFixed(1)}`,
    );
  } finally {
    await sim.stop();
  }
}

function ok(rec: { ok: boolean; error?: string }): void {
  if (!rec.ok) throw new Error(`fence failed: ${rec.error}`);
}

await main();
