/**
 * A rack row, then the whole cluster, going silent at once, on real processes: 3 monitor processes,
 * 10,000 hosts beating at 1 Hz from a load process (each beat to every monitor), then `silent` of
 * them stop together. Measures how long the coordinator takes to raise the mass-failure hold, how long
 * `instance-ha status --json` takes during the hold, the largest monitor datagram any monitor sent,
 * and whether any monitor died or had to contain a failure in its loop.
 *   npm run bench:mass [-- --hosts 10000 --silent 2000]     (a second run silences every host)
 * One line per run, the last one being the all-silent run:
 *   mass hosts=<n> silent=<n> crashes=<n> max_datagram_bytes=<n> hold_ms=<n> status_ms=<n>
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { controlRequest } from '../src/control/client.js';
import type { StatusSnapshot } from '../src/core/status-snapshot.js';
import { clusterBasePort, writeClusterFiles, type ClusterLayout } from '../src/testbed/demo/cluster-files.js';
import { arg } from './stats.js';

const hosts = arg('hosts', 10_000);
const firstSilent = arg('silent', Math.min(2000, hosts));
/** Seconds of beating before the silence: the detectors' loss estimates settle (fewer missed beats to convict). */
const warmupS = arg('warmup', 60);
const MONITORS = 3;
const root = fileURLToPath(new URL('../..', import.meta.url));
const main = join(root, 'dist/src/cli/main.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Mon {
  id: string;
  proc: ChildProcess;
  exited: boolean;
  /** Mass-failure holds raised, by wall time. */
  holds: Array<{ at: number; on: boolean }>;
  quorumLostAt: number[];
}

async function snapshot(layout: ClusterLayout, i: number): Promise<StatusSnapshot> {
  return (await controlRequest(layout.monitors[i]!.socket, 'GET', '/status', undefined, 30_000)).body as unknown as StatusSnapshot;
}

/** Datagrams the kernel dropped for want of receive-buffer room (machine-wide): a monitor that fell behind. */
function udpRcvbufErrors(): number {
  const lines = readFileSync('/proc/net/snmp', 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('Udp:'));
  return Number(lines[1]!.split(/\s+/)[lines[0]!.split(/\s+/).indexOf('RcvbufErrors')]);
}

/** Wall time of one `instance-ha status --json`, start to exit (the operator's view during the hold). */
function timeStatusCommand(config: string): Promise<number> {
  return timeCommand(['status', '--json', '--config', config]);
}

function timeCommand(args: string[]): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const prof = process.env.MASS_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', join(process.env.MASS_PROFILE, 'status')] : [];
    const p = spawn(process.execPath, [...prof, main, ...args], { stdio: ['ignore', 'ignore', 'ignore'] });
    p.on('exit', () => resolve(Math.round(performance.now() - t0)));
  });
}

function lineReader(p: ChildProcess): AsyncIterableIterator<string> {
  return createInterface({ input: p.stdout! })[Symbol.asyncIterator]();
}

async function run(silent: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'iha-mass-'));
  const port = await clusterBasePort(MONITORS);
  const layout = writeClusterFiles(dir, { monitors: MONITORS, hosts: [], basePort: port, logLevel: 'warn' });
  const mons: Mon[] = layout.monitors.map((m) => {
    const prof = process.env.MASS_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', process.env.MASS_PROFILE] : [];
    const proc = spawn(process.execPath, [...prof, main, 'monitor', '--config', m.config], { stdio: ['ignore', 'pipe', 'inherit'] });
    const mon: Mon = { id: m.id, proc, exited: false, holds: [], quorumLostAt: [] };
    proc.on('exit', () => (mon.exited = true));
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      if (!line.includes('cluster.')) return;
      const at = Date.now();
      try {
        const msg = (JSON.parse(line) as { msg?: string }).msg;
        if (msg === 'cluster.mass_failure') mon.holds.push({ at, on: true });
        if (msg === 'cluster.quorum_lost') mon.quorumLostAt.push(at);
      } catch {
        // not a log line of ours
      }
    });
    return mon;
  });
  let load: ChildProcess | null = null;
  try {
    for (let i = 0; i < MONITORS; i++) {
      for (let tries = 0; ; tries++) {
        try {
          await snapshot(layout, i);
          break;
        } catch (err) {
          if (tries > 100) throw err;
          await sleep(100);
        }
      }
    }
    load = spawn(
      process.execPath,
      [join(root, 'dist/bench/mass-load.js'), layout.monitors.map((m) => m.port).join(','), layout.beaconMasterKeyFile, String(hosts)],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    const answers = lineReader(load);
    // Every monitor must know every host, and the hosts' detectors must have a few intervals of history.
    const warmStart = Date.now();
    let warm: StatusSnapshot[] = [];
    for (;;) {
      await sleep(Math.max(2000, warmupS * 1000 - (Date.now() - warmStart)));
      warm = await Promise.all(mons.map((_, i) => snapshot(layout, i)));
      const known = warm.map((s) => s.hosts.filter((h) => h.state === 'up').length);
      if (known.every((n) => n === hosts) && Date.now() - warmStart >= warmupS * 1000) break;
      if (Date.now() - warmStart > warmupS * 1000 + 120_000) {
        const states = warm.map((s) => {
          const by = new Map<string, number>();
          for (const h of s.hosts) by.set(h.state, (by.get(h.state) ?? 0) + 1);
          return [...by].map(([k, n]) => `${k} ${n}`).join(',');
        });
        throw new Error(`not every host up before the silence (load average ${loadavg()[0]!.toFixed(1)}): ${states.join(' / ')}`);
      }
    }
    await sleep(2000); // the loops settle after the snapshots
    const kernelDropsBefore = udpRcvbufErrors();
    load.stdin!.write(`silence ${silent}\n`);
    const { silencedAt } = JSON.parse((await answers.next()).value as string) as { silencedAt: number };
    // A hold still standing from before the silence (hosts lost in an overloaded warm-up) makes the run void.
    // (A clear is logged at info, below the bench's warn level: the warm-up snapshots say whether one stands.)
    const heldBefore = warm.flatMap((s, i) => (s.alarms.some((a) => a.kind === 'mass_failure') ? [mons[i]!.id] : []));
    const raisedAfter = (m: Mon): number | undefined => m.holds.find((h) => h.on && h.at > silencedAt)?.at;
    let holder: number = -1;
    while (heldBefore.length === 0 && Date.now() - silencedAt < 30_000) {
      holder = mons.findIndex((m) => raisedAfter(m) !== undefined);
      if (holder >= 0) break;
      await sleep(20);
    }
    const holdMs = holder >= 0 ? raisedAfter(mons[holder]!)! - silencedAt : -1;
    // The detector's own share of hold_ms: the silence after which a monitor convicts these hosts.
    const silenced = new Set(Array.from({ length: silent }, (_, i) => `load-${i}`));
    const deadAfter = warm[Math.max(0, holder)]!.hosts.filter((h) => silenced.has(h.host)).map((h) => h.deadAfterMs);
    deadAfter.sort((a, b) => a - b);
    const statusAt = Date.now() - silencedAt;
    const statusMs = await timeStatusCommand(layout.monitors[Math.max(0, holder)]!.config);
    // Its parts: the monitor's answer alone (in this process), and the command's own start (a --version).
    const a0 = performance.now();
    const answer = await snapshot(layout, Math.max(0, holder));
    const answerMs = Math.round(performance.now() - a0);
    const answerKb = Math.round(JSON.stringify(answer).length / 1024);
    const startMs = await timeCommand(['--version']);
    await sleep(3000);
    const kernelDrops = udpRcvbufErrors() - kernelDropsBefore;
    const snaps = await Promise.all(mons.map((m, i) => (m.exited ? Promise.resolve(null) : snapshot(layout, i).catch(() => null))));
    const largest = Math.max(0, ...snaps.map((s) => s?.counters.largestMonitorDatagramBytes ?? 0));
    const contained = snaps.map((s) => s?.alarms.filter((a) => a.kind === 'loop_error').length ?? 0);
    const crashes = mons.filter((m) => m.exited).length + contained.filter((n) => n > 0).length;
    const quorumLost = mons.flatMap((m) => m.quorumLostAt.filter((t) => t > silencedAt).map((t) => `${m.id}@+${t - silencedAt}ms`));
    console.log(
      `  ${silent} of ${hosts} silent: hold raised by ${holder >= 0 ? mons[holder]!.id : 'nobody'}` +
        `${heldBefore.length ? ` (void: a hold from the warm-up still stood on ${heldBefore.join(',')})` : ''}; ` +
        `detector convicts after ${deadAfter[0]}-${deadAfter[deadAfter.length - 1]} ms (median ${deadAfter[deadAfter.length >> 1]}); ` +
        `status asked at +${statusAt}ms (the monitor's answer alone ${answerMs} ms for ${answerKb} KiB, a bare command start ${startMs} ms); ` +
        `quorum lost after the silence: ${quorumLost.join(' ') || 'never'}; ` +
        `kernel receive-buffer drops since the silence ${kernelDrops}; dropped by the monitors ` +
        snaps
          .map(
            (s) =>
              Object.entries(s?.counters.dropped ?? {})
                .filter(([, n]) => n > 0)
                .map(([k, n]) => `${k} ${n}`)
                .join(',') || '0',
          )
          .join(' / ') +
        `; load average ${loadavg()
          .map((l) => l.toFixed(1))
          .join(' ')}; ` +
        `loop failures contained per monitor ${contained.join('/')}; largest monitor datagram per monitor ` +
        `${snaps.map((s) => s?.counters.largestMonitorDatagramBytes ?? '-').join('/')} bytes; alarms ` +
        snaps.map((s) => [...new Set(s?.alarms.map((a) => a.kind) ?? [])].join(',') || '-').join(' / '),
    );
    return `mass hosts=${hosts} silent=${silent} crashes=${crashes} max_datagram_bytes=${largest} hold_ms=${holdMs} status_ms=${statusMs}`;
  } finally {
    load?.stdin?.write('stop\n');
    await sleep(300);
    load?.kill('SIGKILL');
    for (const m of mons) m.proc.kill(process.env.MASS_PROFILE ? 'SIGINT' : 'SIGKILL');
    if (process.env.MASS_PROFILE) await Promise.all(mons.map((m) => (m.exited ? null : new Promise((r) => m.proc.on('exit', r)))));
    rmSync(dir, { recursive: true, force: true });
  }
}

const lines: string[] = [];
for (const silent of process.env.MASS_ONCE ? [firstSilent] : [firstSilent, hosts]) {
  const line = await run(silent);
  lines.push(line);
  console.log(line);
}
