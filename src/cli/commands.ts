import { loadConfig } from '../config/load.js';
import { readBeaconConfig } from '../config/beacon-config.js';
import { readMonitorConfig } from '../config/monitor-config.js';
import { ControlUnreachableError, controlRequest } from '../control/client.js';
import { ConfigError } from '../errors.js';
import type { StatusSnapshot } from '../core/status-snapshot.js';
import { DEFAULT_SOCKET, UsageError, parse } from './args.js';
import { formatStatus, statusExitCode } from './status-format.js';
import { parse as parseYaml } from 'yaml';
import { readFileSync } from 'node:fs';
import { checkFencingAgents } from '../fence/index.js';
import { createLogger } from '../log.js';

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  isTty: boolean;
}

function socketFrom(values: { socket?: string; config?: string }): string {
  if (values.socket) return values.socket;
  if (values.config) return loadConfig(values.config, readMonitorConfig).controlSocket;
  return DEFAULT_SOCKET;
}

export async function statusCommand(args: string[], io: Io): Promise<number> {
  const { values } = parse(args, { json: { type: 'boolean' }, socket: { type: 'string' }, config: { type: 'string' }, watch: { type: 'boolean' } });
  const socket = socketFrom(values);
  const once = async (): Promise<number> => {
    let snap: StatusSnapshot;
    try {
      const res = await controlRequest(socket, 'GET', '/status');
      snap = res.body as unknown as StatusSnapshot;
    } catch (err) {
      if (!(err instanceof ControlUnreachableError)) throw err;
      if (values.json) io.out(JSON.stringify({ error: err.message, reachable: false }));
      else io.err(`UNREACHABLE: ${err.message}`);
      return 2;
    }
    io.out(values.json ? JSON.stringify(snap) : formatStatus(snap, io.isTty));
    return statusExitCode(snap);
  };
  if (!values.watch) return once();
  for (;;) {
    if (io.isTty) io.out('\x1b[2J\x1b[H');
    await once();
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export async function maintenanceCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, { socket: { type: 'string' }, config: { type: 'string' } });
  const [host, onOff] = positionals;
  if (!host || (onOff !== 'on' && onOff !== 'off')) throw new UsageError('usage: instance-ha maintenance HOST on|off');
  const res = await controlRequest(socketFrom(values), 'POST', '/maintenance', { host, on: onOff === 'on', by: process.env.SUDO_USER ?? process.env.USER ?? 'operator' });
  if (res.status !== 200) {
    io.err(`refused: ${String(res.body.error)}`);
    return 1;
  }
  io.out(`${host}: maintenance ${onOff}${onOff === 'on' ? ' (never declared failed while on)' : ''}`);
  return 0;
}

export async function ackMassFailureCommand(args: string[], io: Io): Promise<number> {
  const { values } = parse(args, { socket: { type: 'string' }, config: { type: 'string' } });
  const res = await controlRequest(socketFrom(values), 'POST', '/ack-mass-failure', { by: process.env.SUDO_USER ?? process.env.USER ?? 'operator' });
  if (res.status !== 200) {
    io.err(`refused: ${String(res.body.error)}${res.body.coordinator ? ` (run it on ${String(res.body.coordinator)})` : ''}`);
    return 1;
  }
  io.out('mass failure acknowledged: the held hosts will be declared failed and handled');
  return 0;
}

/** Validates a config file without starting anything. Kind is guessed from the content if not given. */
export async function configCheckCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, { kind: { type: 'string' } });
  const [sub, file] = positionals;
  if (sub !== 'check' || !file) throw new UsageError('usage: instance-ha config check FILE [--kind monitor|beacon]');
  let kind = values.kind;
  if (kind === undefined) {
    try {
      const doc = parseYaml(readFileSync(file, 'utf8')) as Record<string, unknown> | null;
      kind = doc && typeof doc === 'object' && 'id' in doc ? 'monitor' : 'beacon';
    } catch {
      kind = 'monitor';
    }
  }
  if (kind !== 'monitor' && kind !== 'beacon') throw new UsageError(`--kind must be monitor or beacon, got '${kind}'`);
  try {
    if (kind === 'monitor') {
      const cfg = loadConfig(file, readMonitorConfig);
      // Each agent's own metadata says which options it takes: check ours against it.
      if (cfg.fencing) {
        const problems = await checkFencingAgents(cfg.fencing, createLogger({ level: 'silent' }));
        if (problems.length > 0) throw new ConfigError(file, problems);
      }
    } else loadConfig(file, readBeaconConfig);
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err(err.message);
      return 1;
    }
    throw err;
  }
  io.out(`${file}: valid ${kind} configuration`);
  return 0;
}
