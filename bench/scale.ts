/**
 * One real monitor process receiving the heartbeats of 10,000 hosts at 1 Hz from a separate
 * load-generator process on loopback: CPU (% of one core), peak RSS, datagrams lost.
 *   npm run bench:scale [-- --hosts 10000 --seconds 60]
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { controlRequest } from '../src/control/client.js';
import { clusterBasePort, writeClusterFiles } from '../src/testbed/demo/cluster-files.js';
import type { StatusSnapshot } from '../src/core/status-snapshot.js';
import { arg } from './stats.js';

const hosts = arg('hosts', 10_000);
const seconds = arg('seconds', 60);
const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'iha-scale-'));
const port = await clusterBasePort(1);
const layout = writeClusterFiles(dir, { monitors: 1, hosts: [], basePort: port, logLevel: 'warn' });
const clkTck = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

function cpuSplit(pid: number): [number, number] {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return [Number(f[11]), Number(f[12])]; // utime, stime
}
function cpuTicks(pid: number): number {
  const [u, s] = cpuSplit(pid);
  return u + s;
}
function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}
async function snapshot(): Promise<StatusSnapshot> {
  return (await controlRequest(layout.monitors[0]!.socket, 'GET', '/status', undefined, 10_000)).body as unknown as StatusSnapshot;
}
function udpRcvbufErrors(): number {
  const lines = readFileSync('/proc/net/snmp', 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('Udp:'));
  const names = lines[0]!.split(/\s+/);
  const values = lines[1]!.split(/\s+/);
  return Number(values[names.indexOf('RcvbufErrors')]);
}

const monitor = spawn(
  process.execPath,
  [
    ...(process.env.SCALE_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', process.env.SCALE_PROFILE] : []),
    join(root, 'dist/src/cli/main.js'),
    'monitor',
    '--config',
    layout.monitors[0]!.config,
  ],
  { stdio: ['ignore', 'ignore', 'inherit'] },
);
try {
  for (let i = 0; i < 100; i++) {
    try {
      await snapshot();
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const before = await snapshot();
  const kernelBefore = udpRcvbufErrors();
  const cpuBefore = cpuTicks(monitor.pid!);
  const splitBefore = cpuSplit(monitor.pid!);
  const t0 = Date.now();
  const load = spawn(
    process.execPath,
    [join(root, 'dist/bench/scale-load.js'), String(port), layout.beaconMasterKeyFile, String(hosts), String(seconds)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  load.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  await new Promise((r) => load.on('exit', r));
  await new Promise((r) => setTimeout(r, 500));
  const cpuAfter = cpuTicks(monitor.pid!);
  const splitAfter = cpuSplit(monitor.pid!);
  const elapsedS = (Date.now() - t0) / 1000;
  const after = await snapshot();
  const { sent } = JSON.parse(out) as { sent: number };
  const received = after.counters.received - before.counters.received;
  const appDropped = Object.values(after.counters.dropped).reduce((a, b) => a + b, 0);
  const dropped = sent - received + appDropped;
  const cpuPct = ((cpuAfter - cpuBefore) / clkTck / elapsedS) * 100;
  const rss = peakRssMb(monitor.pid!);
  console.log(
    `${hosts} hosts at 1 Hz for ${seconds} s: sent ${sent}, received ${received}, dropped by app ${appDropped}, kernel RcvbufErrors +${udpRcvbufErrors() - kernelBefore} (machine-wide), hosts tracked ${after.hosts.length}; cpu user ${(((splitAfter[0] - splitBefore[0]) / clkTck / elapsedS) * 100).toFixed(1)}% system ${(((splitAfter[1] - splitBefore[1]) / clkTck / elapsedS) * 100).toFixed(1)}%`,
  );
  console.log(`scale hosts=${hosts} cpu_pct=${cpuPct.toFixed(1)} rss_mb=${rss.toFixed(0)} dropped=${dropped}`);
} finally {
  monitor.kill(process.env.SCALE_PROFILE ? 'SIGINT' : 'SIGKILL');
  if (process.env.SCALE_PROFILE) await new Promise((r) => monitor.on('exit', r));
  rmSync(dir, { recursive: true, force: true });
}
