/**
 * The golden trace script language. One command per step; `name=value` words are options.
 *
 *   hosts h1..h5 [interval=500]      compute hosts whose beacons beat every interval (from now on)
 *   monitors m1 m2 m3 [path=value]   start the monitors; options set core settings (fencing.enabled=true)
 *   tick <ms>                        let time pass, one monitor tick at a time
 *   silence|revive|reboot <host..>   a beacon stops, beats again, or beats again with a new boot id
 *   beacon <host> [to=<monitor>]     one heartbeat now, even from a silenced host
 *   cut|heal <a> <b> | <a>-><b>      drop (or restore) datagrams both ways, or one way; `heal` alone heals all
 *   isolate <monitor>                cut every link to and from it
 *   crash|restart <monitor>          the process dies (keeping what it persisted), or starts again
 *   stall <monitor> <ms>             its event loop freezes: no ticks, datagrams queue until it thaws
 *   maintenance <host> on|off        operator commands, handed to `via=<monitor>` (default: the
 *   ack [hosts=h1,h2]                coordinator); `by=` names the operator; an ack names the held hosts it releases
 *   clear <host>                     (maintenance takes force=true for a host nobody knows yet)
 *   forget <host>                    remove a decommissioned host from every monitor's state
 *   confirm-fenced <host>            the operator attests a host whose fence failed is powered off
 *   fence-done <host> ok|fail        a fence or recovery result, handed to the monitor that asked for
 *   recovery-done <host> [evacuated=n failed=n]   it (or `via=`)
 *   compute <host..> up|down         what the hosts' beacons say of nova-compute from now on
 *   compute-disabled <host> ok|already|fail    a compute-service result, handed to the monitor that
 *   compute-enabled <host> ok|kept|fail        asked for it (or `via=`)
 *   state [<monitor>..]              each monitor's view: quorum, coordinator, hosts, decisions
 *   show broadcast on|off            also print the monitors' heartbeats to each other
 */
import type { CoreSettings } from '../../src/core/settings.js';
import type { FenceRecord, RecoverySummary } from '../../src/core/events.js';
import { formatFields, formatValue } from './trace-format.js';
import type { SimMonitor, TraceCluster } from './trace-cluster.js';

interface Parsed {
  verb: string;
  args: string[];
  opts: Map<string, string>;
}

function parse(command: string): Parsed {
  const [verb = '', ...words] = command.trim().split(/\s+/);
  const args: string[] = [];
  const opts = new Map<string, string>();
  for (const w of words) {
    const eq = w.indexOf('=');
    if (eq > 0) opts.set(w.slice(0, eq), w.slice(eq + 1));
    else args.push(...expand(w));
  }
  return { verb, args, opts };
}

/** `h1..h3` is h1 h2 h3. */
function expand(word: string): string[] {
  const m = /^([a-z-]*)(\d+)\.\.\1?(\d+)$/i.exec(word);
  if (!m) return [word];
  const out: string[] = [];
  for (let i = Number(m[2]); i <= Number(m[3]); i++) out.push(`${m[1]}${i}`);
  return out;
}

/** Runs one script line against the cluster and returns what it printed (`ok` when nothing). */
export function runCommand(c: TraceCluster, command: string): string[] {
  const lines = c.capture(() => {
    try {
      dispatch(c, parse(command));
    } catch (err) {
      c.print(`error: ${(err as Error).message}`);
    }
  });
  return lines.length > 0 ? lines : ['ok'];
}

function dispatch(c: TraceCluster, p: Parsed): void {
  const { verb, args, opts } = p;
  switch (verb) {
    case 'hosts':
      return c.addHosts(need(args, 1, verb), num(opts.get('interval') ?? '500'));
    case 'monitors':
      return c.addMonitors(need(args, 1, verb), (s) => {
        for (const [path, value] of opts) setPath(s, path, value);
      });
    case 'tick':
      return c.advance(num(one(args, verb)));
    case 'silence':
    case 'revive':
    case 'reboot':
      for (const h of need(args, 1, verb).map((n) => c.host(n))) {
        h.beating = verb !== 'silence';
        h.nextBeatAt = c.now;
        if (verb === 'reboot') {
          h.boot++;
          h.bootId = `${h.name}-b${h.boot}`;
          h.seq = 0;
        }
      }
      return;
    case 'beacon': {
      const to = opts.get('to');
      if (to !== undefined) c.monitor(to);
      return c.beat(c.host(one(args, verb)), to);
    }
    case 'cut':
    case 'heal':
      return links(c, verb, args);
    case 'isolate': {
      const id = c.monitor(one(args, verb)).id;
      for (const other of [...c.monitors.keys(), ...c.hosts.keys()]) {
        if (other === id) continue;
        c.cuts.add(`${id}->${other}`);
        c.cuts.add(`${other}->${id}`);
      }
      return;
    }
    case 'crash':
      return c.crash(c.monitor(one(args, verb)));
    case 'restart': {
      const m = c.monitor(one(args, verb));
      if (m.core) throw new Error(`'${m.id}' is running`);
      return c.start(m);
    }
    case 'stall': {
      const [id, ms] = need(args, 2, verb);
      return c.stall(c.monitor(id!), num(ms!));
    }
    case 'maintenance': {
      const [host, state] = need(args, 2, verb);
      if (state !== 'on' && state !== 'off') throw new Error(`maintenance ${host} ${state}: say on or off`);
      const force = opts.get('force') === 'true';
      return c.input(via(c, opts), {
        type: 'maintenance',
        at: c.now,
        host: host!,
        on: state === 'on',
        by: opts.get('by') ?? 'operator',
        ...(force ? { force } : {}),
      });
    }
    case 'ack': {
      const hosts = opts.get('hosts');
      return c.input(via(c, opts), {
        type: 'ack_mass_failure',
        at: c.now,
        by: opts.get('by') ?? 'operator',
        ...(hosts !== undefined ? { hosts: hosts.split(',') } : {}),
      });
    }
    case 'clear':
      return c.input(via(c, opts), { type: 'clear', at: c.now, host: one(args, verb), by: opts.get('by') ?? 'operator' });
    case 'forget':
      return c.input(via(c, opts), { type: 'forget', at: c.now, host: one(args, verb), by: opts.get('by') ?? 'operator' });
    case 'confirm-fenced':
      return c.input(via(c, opts), { type: 'confirm_fenced', at: c.now, host: one(args, verb), by: opts.get('by') ?? 'operator' });
    case 'fence-done': {
      const [host, outcome] = need(args, 2, verb);
      if (outcome !== 'ok' && outcome !== 'fail') throw new Error(`fence-done ${host} ${outcome}: say ok or fail`);
      const m = worker(c, host!, opts);
      const record: FenceRecord = {
        ok: outcome === 'ok',
        durationMs: 0,
        attempts: [],
        by: m.id,
        ...(outcome === 'fail' ? { error: 'power still on' } : {}),
      };
      return c.input(m, { type: 'fence_done', at: c.now, host: host!, record });
    }
    case 'recovery-done': {
      const host = one(args, verb);
      const count = (k: string): number => num(opts.get(k) ?? '0');
      const summary: RecoverySummary = {
        selected: count('selected'),
        evacuated: count('evacuated'),
        failed: count('failed'),
        notified: count('notified'),
      };
      return c.input(worker(c, host, opts), { type: 'recovery_done', at: c.now, host, summary });
    }
    case 'compute': {
      const state = args[args.length - 1];
      if (state !== 'up' && state !== 'down') throw new Error(`compute ... ${state}: say up or down`);
      for (const h of need(args.slice(0, -1), 1, verb)) c.host(h).novaCompute = state;
      return;
    }
    case 'compute-disabled': {
      const [host, outcome] = need(args, 2, verb);
      if (outcome !== 'ok' && outcome !== 'already' && outcome !== 'fail')
        throw new Error(`${verb} ${host} ${outcome}: say ok, already or fail`);
      return c.input(worker(c, host!, opts), {
        type: 'compute_disabled',
        at: c.now,
        host: host!,
        ok: outcome !== 'fail',
        ...(outcome === 'fail' ? { reason: 'HTTP 503' } : { already: outcome === 'already' }),
      });
    }
    case 'compute-enabled': {
      const [host, outcome] = need(args, 2, verb);
      if (outcome !== 'ok' && outcome !== 'kept' && outcome !== 'fail') throw new Error(`${verb} ${host} ${outcome}: say ok, kept or fail`);
      return c.input(worker(c, host!, opts), {
        type: 'compute_enable_done',
        at: c.now,
        host: host!,
        ok: outcome !== 'fail',
        ...(outcome === 'fail'
          ? { reason: 'HTTP 503' }
          : { enabled: outcome === 'ok', note: outcome === 'ok' ? 'enabled' : "left disabled: its reason is not instance-ha's" }),
      });
    }
    case 'state':
      for (const id of args.length > 0 ? args : [...c.monitors.keys()]) printState(c, c.monitor(id));
      return;
    case 'show': {
      const [what, state] = need(args, 2, verb);
      if (what !== 'broadcast') throw new Error(`show ${what}: only broadcast`);
      c.showBroadcast = state === 'on';
      return;
    }
    default:
      throw new Error(`unknown command '${verb}'`);
  }
}

function links(c: TraceCluster, verb: 'cut' | 'heal', args: string[]): void {
  if (verb === 'heal' && args.length === 0) return c.cuts.clear();
  const pairs: Array<[string, string]> = [];
  if (args.length === 1 && args[0]!.includes('->')) {
    const [a, b] = args[0]!.split('->');
    pairs.push([a!, b!]);
  } else {
    const [a, b] = need(args, 2, verb);
    pairs.push([a!, b!], [b!, a!]);
  }
  for (const [a, b] of pairs) {
    for (const n of [a, b]) if (!c.monitors.has(n) && !c.hosts.has(n)) throw new Error(`unknown node '${n}'`);
    if (verb === 'cut') c.cuts.add(`${a}->${b}`);
    else c.cuts.delete(`${a}->${b}`);
  }
}

/** The monitor an operator command goes to: `via=`, else the acting coordinator, else the first running. */
function via(c: TraceCluster, opts: Map<string, string>): SimMonitor {
  const id = opts.get('via');
  if (id !== undefined) return c.monitor(id);
  const running = [...c.monitors.values()].filter((m) => m.core);
  const m = running.find((x) => x.core!.acting(c.now)) ?? running[0];
  if (!m) throw new Error('no monitor running');
  return m;
}

function worker(c: TraceCluster, host: string, opts: Map<string, string>): SimMonitor {
  const id = opts.get('via') ?? c.workerOf.get(host);
  if (id === undefined) throw new Error(`no monitor asked for work on '${host}'; say via=`);
  return c.monitor(id);
}

function printState(c: TraceCluster, m: SimMonitor): void {
  const core = m.core;
  if (!core) return c.print(`${m.id} down`);
  const now = c.now;
  const acting = core.acting(now);
  const ms = core.membership;
  const head = formatFields({
    quorate: ms.quorate(now),
    acting,
    coordinator: ms.coordinator(now, acting),
    vote: ms.vote(now, acting),
    epoch: core.coordinator.epoch,
    paused: core.paused(now),
    hears: ms.hears(now),
  });
  c.print(`${m.id}${m.stalled ? ` stalled until=${m.stalledUntil}` : ''} ${head}`);
  const hosts = [...core.tracks.values()]
    .sort((a, b) => a.host.localeCompare(b.host, 'en', { numeric: true }))
    .map((t) => `${t.host}=${t.verdict}`);
  if (hosts.length > 0) c.print(`  hosts ${hosts.join(' ')}`);
  const decisions = core.coordinator.decisionList().sort((a, b) => a.host.localeCompare(b.host, 'en', { numeric: true }));
  if (decisions.length > 0)
    c.print(`  decisions ${decisions.map((d) => `${d.host}=${formatValue({ state: d.state, attempts: d.fenceAttempts })}`).join(' ')}`);
  const maintenance = [...core.maintenance.values()]
    .filter((x) => x.on)
    .map((x) => x.host)
    .sort();
  if (maintenance.length > 0) c.print(`  maintenance ${formatValue(maintenance)}`);
  const hold = core.coordinator.massHold;
  if (hold) c.print(`  mass-hold ${formatFields(hold)}`);
}

function setPath(s: CoreSettings, path: string, raw: string): void {
  const keys = path.split('.');
  let obj = s as unknown as Record<string, unknown>;
  for (const k of keys.slice(0, -1)) {
    if (typeof obj[k] !== 'object' || obj[k] === null) throw new Error(`no setting '${path}'`);
    obj = obj[k] as Record<string, unknown>;
  }
  const last = keys.at(-1)!;
  if (!(last in obj)) throw new Error(`no setting '${path}'`);
  obj[last] =
    raw === 'true' || raw === 'on' ? true : raw === 'false' || raw === 'off' ? false : Number.isNaN(Number(raw)) ? raw : Number(raw);
}

function need(args: string[], n: number, verb: string): string[] {
  if (args.length < n) throw new Error(`${verb}: needs ${n} argument${n > 1 ? 's' : ''}`);
  return args;
}

function one(args: string[], verb: string): string {
  return need(args, 1, verb)[0]!;
}

function num(s: string): number {
  const n = Number(s);
  if (!Number.isFinite(n)) throw new Error(`'${s}' is not a number`);
  return n;
}
