/**
 * npm run bench:redfish — time of a complete verified fence (off, then status confirming Off)
 * against the project's test Redfish BMC on 127.0.0.1 (TLS checked against a test CA), interleaved:
 *   (a) the monitor's fencer with the in-process native-redfish device,
 *   (b) the same fencer running Debian's ClusterLabs fence_redfish as an agent.
 * Last line: redfish native_ms=<median a> fence_redfish_ms=<median b> ratio=<b/a>
 * fence_redfish runs with ssl_insecure (see below), the native device checks the certificate.
 * Env: BENCH_REDFISH_RUNS (default 15, at least 11).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveAgent } from '../src/fence/agents.js';
import { FENCING_DEFAULTS, type FenceDeviceConfig, type FencingConfig } from '../src/fence/config.js';
import { TopologyFencer } from '../src/fence/fencer.js';
import { silentLogger } from '../src/log.js';
import { startRedfishBmc, type RedfishBmc } from '../src/testbed/bmc/redfish-bmc.js';
import { percentile } from './stats.js';
import { makeTestCerts } from './test-certs.js';

const RUNS = Math.max(11, Number(process.env.BENCH_REDFISH_RUNS ?? 15));
const WARMUP = 2;

function fencer(bmc: RedfishBmc, ca: string, agent: 'native-redfish' | 'fence_redfish'): TopologyFencer {
  const native = agent === 'native-redfish';
  const dev: FenceDeviceConfig = {
    name: agent,
    agent,
    agentPath: native ? undefined : resolveAgent(agent),
    options: {
      ip: bmc.host,
      ipport: String(bmc.port),
      username: bmc.username,
      // The fencer gives agents a bare environment, so fence_redfish cannot be handed the test CA
      // (python-requests reads it from REQUESTS_CA_BUNDLE): it skips verification, which only
      // flatters it; the native device verifies the certificate.
      ...(native ? { ssl_ca: ca } : { ssl_insecure: '1' }),
    },
    password: bmc.password,
    timeoutMs: 30_000,
    verify: true,
  };
  if (!native && !dev.agentPath) throw new Error(`${agent} not found (apt-get install fence-agents)`);
  const config: FencingConfig = {
    ...FENCING_DEFAULTS,
    kdump: { ...FENCING_DEFAULTS.kdump },
    retries: 0,
    devices: new Map([[dev.name, dev]]),
    hosts: new Map([['bench-host', { host: 'bench-host', levels: [[dev.name]], kdumpAddresses: [] }]]),
  };
  return new TopologyFencer({ config, log: silentLogger(), monitorId: 'bench' });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'iha-bench-redfish-'));
  const certs = await makeTestCerts(dir);
  const bmc = await startRedfishBmc({ key: readFileSync(certs.serverKey, 'utf8'), cert: readFileSync(certs.serverCert, 'utf8') });
  try {
    const cases: Array<[string, TopologyFencer]> = [
      ['native', fencer(bmc, certs.caFile, 'native-redfish')],
      ['fence_redfish', fencer(bmc, certs.caFile, 'fence_redfish')],
    ];
    const times = new Map<string, number[]>(cases.map(([n]) => [n, []]));
    for (let i = 0; i < WARMUP + RUNS; i++) {
      for (let k = 0; k < cases.length; k++) {
        const [name, f] = cases[(i + k) % cases.length]!;
        bmc.setPower('On');
        const t0 = performance.now();
        const rec = await f.fence('bench-host', new AbortController().signal);
        const ms = performance.now() - t0;
        if (!rec.ok) throw new Error(`${name}: fence failed: ${rec.error}`);
        if (bmc.power() !== 'Off') throw new Error(`${name}: host not off after a verified fence`);
        if (i >= WARMUP) times.get(name)!.push(ms);
      }
    }
    console.log(
      `# test Redfish BMC https://127.0.0.1:${bmc.port}, ${RUNS} interleaved runs each (+${WARMUP} warm-up), verified fence = off then status Off`,
    );
    const med: Record<string, number> = {};
    for (const [name, t] of times) {
      med[name] = percentile(t, 50);
      console.log(
        `${name.padEnd(14)} median ${med[name]!.toFixed(1)} ms  p99 ${percentile(t, 99).toFixed(1)} ms  min ${Math.min(...t).toFixed(1)}`,
      );
    }
    console.log(
      `redfish native_ms=${med.native!.toFixed(1)} fence_redfish_ms=${med.fence_redfish!.toFixed(1)} ratio=${(med.fence_redfish! / med.native!).toFixed(1)}`,
    );
  } finally {
    await bmc.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
