import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { controlRequest } from '../../control/client.js';
import type { ClusterEvent } from '../../core/events.js';
import type { StatusSnapshot } from '../../core/status-snapshot.js';
import { startDemoBmcs, type DemoBmcs } from './bmcs.js';
import { clusterBasePort, writeClusterFiles, type ClusterLayout } from './cluster-files.js';
import { ProcessGroup } from './processes.js';
import { storyStep, eventKey, formatTable, type StoryStep } from './story.js';
import { startDemoCompute, type DemoCompute } from './compute.js';
import { serveDemoControl, type DemoActions } from './demo-control.js';
import { startFencing } from '../../fence/index.js';
import { silentLogger } from '../../log.js';
import { startGuestSource, type GuestSource } from './guest-source.js';
import { StandinComputes } from './standin-compute.js';

export type Scenario = 'default' | 'partition' | 'mass-failure' | 'fence-failure' | 'compute-down' | 'guest-crash';
export const SCENARIOS: readonly Scenario[] = ['default', 'partition', 'mass-failure', 'fence-failure', 'compute-down', 'guest-crash'];

export interface DemoOptions {
  hosts: number;
  servers: number;
  scenario: Scenario;
  keep: boolean;
  out: (line: string) => void;
  /** Only for tests: where to put the cluster (default: a fresh temporary directory). */
  dir?: string;
}

export interface DemoResult {
  ok: boolean;
  steps: StoryStep[];
  /** Every event the monitors reported after the first action, deduplicated, in order. */
  events: ClusterEvent[];
  summary: string;
}

const READY_TIMEOUT_MS = 20_000;
const STORY_TIMEOUT_MS = 60_000;

/**
 * A complete deployment on loopback: 3 monitors, a beacon and a BMC per compute host, the Nova
 * simulator, RabbitMQ when it answers. Kills a host (or several, or cuts quorum, per scenario) and
 * narrates what instance-ha does, step by step, then cleans everything up.
 */
export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'instance-ha-demo-'));
  const hosts = Array.from({ length: o.hosts }, (_, i) => `compute-${i + 1}`);
  const victim = hosts[1] ?? hosts[0]!;
  const procs = new ProcessGroup(dir);
  let bmcs: DemoBmcs | undefined;
  let compute: DemoCompute | undefined;
  // compute-down: each beacon's health check watches a stand-in nova-compute (a renamed sleep).
  const standins = o.scenario === 'compute-down' ? new StandinComputes(hosts) : null;
  // guest-crash: a real crashing guest under libvirt, or a simulated event source without it.
  const guestSource = o.scenario === 'guest-crash' ? startGuestSource(dir) : null;
  try {
    bmcs = await startDemoBmcs(hosts, { prefer: 'ipmi_sim' });
    compute = await startDemoCompute({ hosts, serversPerHost: o.servers, dir });
    const rabbit = await reachable('127.0.0.1', 5672);
    o.out(
      `instance-ha demo (${o.scenario}): ${hosts.length} compute hosts with ${bmcs.kind === 'ipmi_sim' ? "OpenIPMI's ipmi_sim" : 'simulated'} BMCs, ` +
        `${o.servers} servers each on the Nova simulator, 3 monitors`,
    );
    o.out(
      rabbit
        ? 'notifications: RabbitMQ on 127.0.0.1:5672, exchange openstack'
        : 'notifications: RabbitMQ not reachable on 127.0.0.1:5672: notifications wait in the outbox',
    );
    const layout = writeDemoCluster(
      dir,
      hosts,
      bmcs,
      compute,
      o.scenario === 'fence-failure' ? victim : null,
      await clusterBasePort(3),
      standins,
      guestSource ? { host: victim, virsh: guestSource.virsh } : null,
    );
    if (guestSource) o.out(`guest events: ${guestSource.what}`);
    for (const m of layout.monitors) procs.start(m.id, ['monitor', '--config', m.config]);
    for (const h of layout.hosts) procs.start(h.name, ['beacon', '--config', h.config]);
    const ready = await waitFor(
      layout,
      (s) =>
        s.cluster.coordinator !== null &&
        s.hosts.length === hosts.length &&
        s.hosts.every((h) => h.state === 'up' && h.lastHeartbeatAgeMs !== null),
      READY_TIMEOUT_MS,
    );
    if (!ready) throw new Error(`the demo cluster did not come up within ${READY_TIMEOUT_MS / 1000} s; logs in ${dir}`);
    // Every monitor hears every other before anything happens: a healthy start never reads "quorum 2/3"
    // and then narrates a "quorum regained" that was only the last monitor joining.
    if (!(await allHearAll(layout, READY_TIMEOUT_MS)))
      throw new Error(`the demo monitors did not all hear each other within ${READY_TIMEOUT_MS / 1000} s; logs in ${dir}`);
    const healthy = (await statusOf(layout)) ?? ready;
    o.out(
      `cluster up: coordinator ${healthy.cluster.coordinator}, ` +
        `quorum ${healthy.cluster.votes} of ${healthy.cluster.expectedVotes} monitors, ${hosts.length} hosts heard; ` +
        `dashboard http://${layout.monitors[0]!.statusApi}/\n`,
    );
    // A host powered off by its BMC stops beating, as a real one would; powered on again, it boots.
    const lost = new Set<string>();
    const loseHost = (h: string): void => {
      lost.add(h);
      procs.signal(h, 'SIGKILL');
      compute!.powerLoss(h);
    };
    const bootHost = (h: string): void => {
      lost.delete(h);
      compute!.sim.model.restartCompute(h);
      procs.start(h, ['beacon', '--config', layout.hosts.find((x) => x.name === h)!.config]);
    };
    const lastPower = new Map(hosts.map((h) => [h, bmcs!.power(h)]));
    const powerWatch = setInterval(() => {
      for (const h of hosts) {
        const p = bmcs!.power(h);
        if (p === 'off' && procs.alive(h)) loseHost(h);
        if (p === 'on' && lastPower.get(h) === 'off' && lost.has(h)) bootHost(h);
        lastPower.set(h, p);
      }
    }, 50);
    try {
      const result = await playScenario(o, layout, procs, hosts, victim, loseHost, { compute, standins, guestSource });
      o.out('\n' + result.summary);
      if (o.keep)
        await keepRunning(o, layout, dir, demoActions({ hosts, bmcs, layout, lost, loseHost, bootHost, alive: (h) => procs.alive(h) }));
      return result;
    } finally {
      clearInterval(powerWatch);
    }
  } finally {
    procs.killAll();
    standins?.stopAll();
    guestSource?.cleanup();
    await bmcs?.stop();
    await compute?.stop();
    if (!o.keep && !o.dir) rmSync(dir, { recursive: true, force: true });
  }
}

function writeDemoCluster(
  dir: string,
  hosts: string[],
  bmcs: DemoBmcs,
  compute: DemoCompute,
  wrongPasswordFor: string | null,
  basePort: number,
  standins: StandinComputes | null,
  guestWatch: { host: string; virsh: string } | null,
): ClusterLayout {
  const devices: Record<string, unknown> = {};
  for (const [name, d] of bmcs.config.devices) {
    const pwFile = join(dir, `${name}.password`);
    const host = name.replace(/^bmc-/, '');
    writeFileSync(pwFile, host === wrongPasswordFor ? 'not-the-password\n' : `${d.password ?? ''}\n`, { mode: 0o600 });
    devices[name] = { agent: d.agent, options: d.options, password_file: pwFile, timeout: '5s' };
  }
  const topology = Object.fromEntries(hosts.map((h) => [h, { levels: [[`bmc-${h}`]] }]));
  return writeClusterFiles(dir, {
    monitors: 3,
    hosts,
    basePort,
    logLevel: 'info',
    ...(standins ? { beaconHealth: (h: string) => ({ process: standins.name(h), interval: '200ms' }) } : {}),
    ...(guestWatch
      ? { beaconGuestWatch: (h: string) => (h === guestWatch.host ? { enabled: true, virsh: guestWatch.virsh } : { enabled: false }) }
      : {}),
    monitorExtra: (id) => ({
      ...(standins ? { compute_down: { grace: '3s', quiet_period: '3s' } } : {}),
      fencing: { retries: 0, action_timeout: '5s', retry_min_delay: '500ms', devices, hosts: topology },
      ...compute.monitorSections(join(dir, `${id}-state`)),
      // Without a broker the notifications wait in each monitor's outbox (the demo says so).
      notifications: {
        enabled: true,
        url: 'amqp://guest:guest@127.0.0.1:5672/',
        outbox: { dir: join(dir, `${id}-state`, 'outbox') },
        connect_timeout: '2s',
      },
    }),
  });
}

async function playScenario(
  o: DemoOptions,
  layout: ClusterLayout,
  procs: ProcessGroup,
  hosts: string[],
  victim: string,
  loseHost: (h: string) => void,
  x: { compute: DemoCompute; standins: StandinComputes | null; guestSource: GuestSource | null },
): Promise<DemoResult> {
  const story = new Story(layout, o.out);
  switch (o.scenario) {
    case 'default':
    case 'fence-failure': {
      story.kill(`power loss of ${victim} (its beacon is SIGKILLed)`);
      loseHost(victim);
      const want = o.scenario === 'default' ? 'host.recovery_end' : 'host.fence_failed';
      const ok = await story.until((e) => e.type === want && e.host === victim, STORY_TIMEOUT_MS);
      if (o.scenario === 'fence-failure') {
        // Followers adopt the coordinator's decision with its next heartbeat.
        const s = await waitFor(layout, (x) => x.hosts.find((h) => h.host === victim)?.state === 'fence_failed', 3000);
        const state = s?.hosts.find((h) => h.host === victim)?.state ?? 'unknown';
        story.note(`${victim} is ${state}: never reported fenced, and none of its servers is evacuated`);
        return story.result(ok && state === 'fence_failed');
      }
      return story.result(ok && (await story.endState([victim], 'evacuated')));
    }
    case 'mass-failure': {
      const victims = hosts.slice(0, Math.max(2, Math.ceil(hosts.length / 2)));
      story.kill(`${victims.length} hosts lose power at once (${victims.join(', ')}): what a top-of-rack switch failure looks like`);
      for (const h of victims) loseHost(h);
      const held = await story.until((e) => e.type === 'cluster.mass_failure', STORY_TIMEOUT_MS);
      await new Promise((r) => setTimeout(r, 1500));
      const s = await statusOf(layout);
      const fenced = s?.hosts.filter((h) => h.state !== 'up' && h.state !== 'suspect').map((h) => h.host) ?? [];
      story.note(
        `held: ${fenced.length === 0 ? 'no host declared failed, nothing fenced' : `unexpectedly decided: ${fenced.join(', ')}`}` +
          `; the operator now runs: instance-ha ack-mass-failure`,
      );
      const coord = layout.monitors.find((m) => m.id === s?.cluster.coordinator);
      if (coord) await controlRequest(coord.socket, 'POST', '/ack-mass-failure', { by: 'demo' });
      // Promised: once acknowledged, every held host is fenced and its servers evacuated.
      const done = await story.recovered(victims, STORY_TIMEOUT_MS);
      return story.result(held && fenced.length === 0 && done && (await story.endState(victims, 'evacuated')));
    }
    case 'compute-down': {
      const service = (): string => {
        const svc = x.compute.sim.model.services.get(victim);
        return svc ? `${svc.status}${svc.disabledReason ? ` (${svc.disabledReason})` : ''}` : 'unknown';
      };
      story.kill(`nova-compute of ${victim} dies; the host and its guests run on (its beacon keeps beating)`);
      x.standins!.stop(victim);
      const down = await story.until((e) => e.type === 'host.compute_down' && e.host === victim, STORY_TIMEOUT_MS);
      // The coordinator (whichever monitor it is) did it: Nova is where to look.
      const end = Date.now() + 5000;
      while (x.compute.sim.model.services.get(victim)?.status !== 'disabled' && Date.now() < end)
        await new Promise((r) => setTimeout(r, 100));
      const disabled = x.compute.sim.model.services.get(victim)?.status === 'disabled';
      const st = await statusOf(layout);
      story.note(
        `Nova: ${victim} service ${service()}; host state ${st?.hosts.find((h) => h.host === victim)?.state ?? '?'}, never fenced`,
      );
      story.kill(`nova-compute of ${victim} is back`);
      x.standins!.start(victim);
      const up = await story.until((e) => e.type === 'host.compute_up' && e.host === victim, STORY_TIMEOUT_MS);
      story.note(`Nova: ${victim} service ${service()}`);
      const fenced = story.events.some((e) => 'host' in e && e.host === victim && (e.type === 'host.fencing' || e.type === 'host.failed'));
      return story.result(down && disabled && up && !fenced && x.compute.sim.model.services.get(victim)?.status === 'enabled');
    }
    case 'guest-crash': {
      const model = x.compute.sim.model;
      const server = [...model.servers.values()].find((v) => v.host === victim && v.tags.includes('automatic-recovery'));
      if (!server) throw new Error(`no tagged server on ${victim} for the guest-crash scenario`);
      story.kill(`the guest OS of ${server.name} (${server.id.slice(0, 8)}) on ${victim} panics; the host runs on`);
      x.guestSource!.crash(server.id);
      const failed = await story.until((e) => e.type === 'instance.guest_failed' && e.instance === server.id, STORY_TIMEOUT_MS);
      const isRestart = (e: ClusterEvent): boolean =>
        e.type === 'instance.guest_restarted' && e.instance === server.id && e.outcome === 'restarted';
      // The restart may have come in the same poll as the failure.
      const restarted = story.events.some(isRestart) || (await story.until(isRestart, STORY_TIMEOUT_MS));
      const st = await statusOf(layout);
      story.note(
        `Nova: ${server.name} hard-rebooted ${model.reboots.get(server.id) ?? 0} time(s), now ${server.status}; ` +
          `${victim} ${st?.hosts.find((h) => h.host === victim)?.state ?? '?'}, never fenced; instance_ha.instance.guest_failed published`,
      );
      const fenced = story.events.some((e) => 'host' in e && e.host === victim && (e.type === 'host.fencing' || e.type === 'host.failed'));
      return story.result(failed && restarted && !fenced && (model.reboots.get(server.id) ?? 0) === 1);
    }
    case 'partition': {
      story.kill('mon2 and mon3 are cut off (frozen): mon1 alone has no quorum');
      procs.signal('mon2', 'SIGSTOP');
      procs.signal('mon3', 'SIGSTOP');
      const lost = await story.until((e) => e.type === 'cluster.quorum_lost', 10_000);
      story.kill(`power loss of ${victim} while mon1 has no quorum`);
      loseHost(victim);
      await new Promise((r) => setTimeout(r, 4000));
      const s = await statusOf(layout, 'mon1');
      const state = s?.hosts.find((h) => h.host === victim);
      story.note(`mon1 sees ${victim} ${state?.localLevel} but declares nothing: state ${state?.state}`);
      story.kill('the partition heals (mon2 and mon3 thawed)');
      procs.signal('mon2', 'SIGCONT');
      procs.signal('mon3', 'SIGCONT');
      // Promised: once quorum is back the host is fenced and its servers evacuated, as in the default scenario.
      const done = await story.recovered([victim], STORY_TIMEOUT_MS);
      return story.result(
        lost && state?.state !== 'failed' && state?.state !== 'fenced' && done && (await story.endState([victim], 'evacuated')),
      );
    }
  }
}

/** Collects events from every monitor and narrates the new ones. */
class Story {
  private readonly seen = new Set<string>();
  readonly steps: StoryStep[] = [];
  readonly events: ClusterEvent[] = [];
  /** The first action: every T+ counts from it (a later action does not restart the clock). */
  private startAt: number | null = null;
  private lastAt = Date.now();
  /** The last T+ printed: an event polled after a later note is shown at the note's time, never before it. */
  private lastShownMs = 0;

  constructor(
    private readonly layout: ClusterLayout,
    private readonly out: (line: string) => void,
  ) {}

  private get start(): number {
    return this.startAt ?? Date.now();
  }

  kill(what: string): void {
    const now = Date.now();
    this.startAt ??= now;
    this.lastAt = now;
    this.add({ sinceKillMs: now - this.start, stepMs: 0, what: 'ACTION', detail: what });
  }

  note(detail: string): void {
    this.add({ sinceKillMs: Date.now() - this.start, stepMs: 0, what: 'observed', detail });
  }

  /** Waits until each host's recovery finished (host.recovery_end); false, and says so, if one did not in time. */
  async recovered(hosts: readonly string[], timeoutMs: number): Promise<boolean> {
    const left = new Set(hosts);
    return this.until((e) => {
      if (e.type === 'host.recovery_end') left.delete(e.host);
      return left.size === 0;
    }, timeoutMs);
  }

  /** Notes each host's state as the monitors agree on it, and whether it is `want`: the scenario's closing line. */
  async endState(hosts: readonly string[], want: string): Promise<boolean> {
    const s = await waitFor(this.layout, (x) => hosts.every((h) => x.hosts.find((y) => y.host === h)?.state === want), 3000);
    const snap = s ?? (await statusOf(this.layout));
    const states = hosts.map((h) => `${h} ${snap?.hosts.find((y) => y.host === h)?.state ?? 'unknown'}`);
    const ok = s !== null;
    this.note(
      want === 'evacuated' && ok
        ? `${states.join(', ')}: powered off, its selected servers ACTIVE on other hosts`
        : `${states.join(', ')}${ok ? '' : ` (expected ${want})`}`,
    );
    return ok;
  }

  async until(pred: (e: ClusterEvent) => boolean, timeoutMs: number): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      if (this.poll(await allEvents(this.layout)).some(pred)) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
    this.note(`gave up waiting after ${timeoutMs / 1000} s`);
    return false;
  }

  result(ok: boolean): DemoResult {
    return {
      ok,
      steps: this.steps,
      events: this.events,
      summary: `SUMMARY (${ok ? 'as expected' : 'NOT as expected'})\n${formatTable(this.steps)}`,
    };
  }

  private poll(events: ClusterEvent[]): ClusterEvent[] {
    const fresh = events.filter((e) => !this.seen.has(eventKey(e))).sort((a, b) => a.at - b.at);
    for (const e of fresh) {
      this.seen.add(eventKey(e));
      if (e.at < this.start - 5) continue;
      this.events.push(e);
      const d = storyStep(e);
      if (!d) continue;
      this.add({ sinceKillMs: Math.max(0, e.at - this.start), stepMs: Math.max(0, e.at - this.lastAt), ...d });
      this.lastAt = Math.max(this.lastAt, e.at);
    }
    return fresh;
  }

  private add(raw: StoryStep): void {
    const step = { ...raw, sinceKillMs: Math.max(raw.sinceKillMs, this.lastShownMs) };
    this.lastShownMs = step.sinceKillMs;
    this.steps.push(step);
    this.out(`T+${(step.sinceKillMs / 1000).toFixed(2).padStart(6)}s  ${step.what.padEnd(18)} ${step.detail}`);
  }
}

async function allEvents(layout: ClusterLayout): Promise<ClusterEvent[]> {
  const snaps = await Promise.all(layout.monitors.map((m) => snapshotAt(m.socket)));
  return snaps.flatMap((s) => s?.recentEvents ?? []);
}

async function snapshotAt(socket: string): Promise<StatusSnapshot | null> {
  try {
    return (await controlRequest(socket, 'GET', '/status', undefined, 1000)).body as unknown as StatusSnapshot;
  } catch {
    return null;
  }
}

async function statusOf(layout: ClusterLayout, id?: string): Promise<StatusSnapshot | null> {
  for (const m of layout.monitors) {
    if (id && m.id !== id) continue;
    const s = await snapshotAt(m.socket);
    if (s) return s;
  }
  return null;
}

/** Whether every monitor hears all the others (votes = expected) within timeoutMs. */
async function allHearAll(layout: ClusterLayout, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const snaps = await Promise.all(layout.monitors.map((m) => snapshotAt(m.socket)));
    if (snaps.every((s) => s !== null && s.cluster.votes === s.cluster.expectedVotes)) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

async function waitFor(layout: ClusterLayout, pred: (s: StatusSnapshot) => boolean, timeoutMs: number): Promise<StatusSnapshot | null> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const s = await snapshotAt(layout.monitors[0]!.socket);
    if (s && pred(s)) return s;
    await new Promise((r) => setTimeout(r, 200));
  }
  return null;
}

function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host, port, timeout: 1000 });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
    sock.once('timeout', () => {
      sock.destroy();
      resolve(false);
    });
  });
}

/** What `instance-ha demo kill|revive HOST` does to the running demo (see demo-control.ts). */
function demoActions(d: {
  hosts: readonly string[];
  bmcs: DemoBmcs;
  layout: ClusterLayout;
  lost: ReadonlySet<string>;
  loseHost: (h: string) => void;
  bootHost: (h: string) => void;
  alive: (h: string) => boolean;
}): DemoActions {
  const cli = 'node dist/src/cli/main.js';
  const config = d.layout.monitors[0]!.config;
  const known = (h: string): void => {
    if (!d.hosts.includes(h)) throw new Error(`no host ${h} in this demo (hosts: ${d.hosts.join(', ')})`);
  };
  return {
    kill: async (h) => {
      known(h);
      if (d.lost.has(h) || !d.alive(h)) throw new Error(`${h} is down already; bring it back with '${cli} demo revive ${h}'`);
      d.loseHost(h);
      return (
        `${h}: power lost (its beacon SIGKILLed, its nova-compute dead with it). Watch it go suspect → failed → fenced → ` +
        `recovered in '${cli} status --socket ${d.layout.monitors[0]!.socket}' or on the dashboard; bring it back with '${cli} demo revive ${h}'.`
      );
    },
    revive: async (h) => {
      known(h);
      if (!d.lost.has(h) && d.alive(h)) throw new Error(`${h} is running; nothing to revive`);
      let how: string;
      if (d.bmcs.power(h) === 'off') {
        // Through its BMC, as an operator would: the power watch boots it on the off → on edge.
        const fencing = await startFencing({ config: d.bmcs.config, log: silentLogger(), monitorId: 'demo' });
        const r = await fencing.fencer.hostAction(h, 'on', AbortSignal.timeout(20_000));
        await fencing.close();
        if (!r.ok) throw new Error(`${h}: power-on at bmc-${h} failed`);
        how = `powered on at bmc-${h} and booting`;
      } else {
        d.bootHost(h);
        how = 'booting (its BMC never cut the power)';
      }
      return (
        `${h}: ${how}: its beacon and nova-compute start again. The cluster keeps it out of service until you return it: ` +
        `'${cli} unfence ${h} --config ${config}' (waits for the beacon, clears forced_down, enables nova-compute).`
      );
    },
  };
}

async function keepRunning(o: DemoOptions, layout: ClusterLayout, dir: string, actions: DemoActions): Promise<void> {
  const control = await serveDemoControl(dir, actions);
  const cli = 'node dist/src/cli/main.js';
  o.out(`\nThe cluster stays up (--keep). Try, in another terminal:`);
  o.out(`  the dashboard: http://${layout.monitors[0]!.statusApi}/   metrics: http://${layout.monitors[0]!.metrics}/metrics`);
  o.out(`  ${cli} status --socket ${layout.monitors[0]!.socket}`);
  o.out(`  ${cli} events --follow --config ${layout.monitors[0]!.config}`);
  o.out(`  ${cli} fence compute-1 --action status --config ${layout.monitors[0]!.config}`);
  o.out(`Kill and revive hosts (the demo's own helper; a real host dies by its power cord):`);
  o.out(`  ${cli} demo kill compute-3      power loss: beacon and nova-compute die; watch it be fenced and recovered`);
  o.out(`  ${cli} demo revive compute-3    power on at its BMC and boot; then return it to service with:`);
  o.out(`  ${cli} unfence compute-3 --config ${layout.monitors[0]!.config}`);
  o.out(`Logs and configs: ${dir}. Ctrl-C stops everything and removes them.`);
  try {
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
  } finally {
    control.close();
  }
  rmSync(dir, { recursive: true, force: true });
}
