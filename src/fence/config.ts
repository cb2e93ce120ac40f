/**
 * The `fencing:` section of the monitor configuration. Every problem is reported with its key path
 * (through ObjectReader); secrets come from `password` or, preferably, `password_file`.
 *
 *   fencing:
 *     action_timeout: 60s        # per agent action (off, status, ...)
 *     retries: 2                 # per device, with exponential backoff
 *     retry_min_delay: 1s
 *     retry_max_delay: 10s
 *     kdump: { enabled: false, port: 7410, bind: 0.0.0.0, message_timeout: 15s, max_wait: 300s }
 *     power_check: { enabled: true, timeout: 2s, max_in_flight: 4 }   # a silent host read OFF is declared early
 *     devices:
 *       ipmi-c1: { agent: native-ipmi, options: { ip: 10.0.0.11, username: admin, cipher: 3 }, password_file: /etc/iha/c1.pw }
 *     hosts:
 *       compute-1: { levels: [[ipmi-c1], [pdu-a, pdu-b]], kdump_addresses: [10.0.1.11] }
 */
import { isIP } from 'node:net';
import { describe, type ObjectReader } from '../config/reader.js';
import { validate } from '../fence-agent/options.js';
import { resolveAgent } from './agents.js';
import { NATIVE_AGENTS } from './native-agents.js';

export interface FenceDeviceConfig {
  name: string;
  /** `native-ipmi`, `native-redfish`, an agent name (fence_ipmilan) or an absolute path. */
  agent: string;
  /** Resolved executable; undefined for the native agents. */
  agentPath?: string;
  /** Agent options as stdin names, secrets excluded. */
  options: Record<string, string>;
  password?: string;
  timeoutMs: number;
  /** Check with `status` after `off` (true unless the agent has no status). */
  verify: boolean;
}

export interface HostTopology {
  host: string;
  /** Ordered levels of device names; a level succeeds only when all its devices do. */
  levels: string[][];
  /** Source addresses of this host's fence_kdump messages. */
  kdumpAddresses: string[];
}

export interface KdumpConfig {
  enabled: boolean;
  port: number;
  bind: string;
  /** A host counts as dumping while its last message is younger than this. */
  messageTimeoutMs: number;
  /** Longest wait for a dumping host before powering it off anyway. */
  maxWaitMs: number;
}

/** Early power checks of silent hosts (core/power-checks.ts, docs/fencing.md "Early power checks"). */
export interface PowerCheckConfig {
  enabled: boolean;
  /** The whole check (every first-level device's status, at once); past it, the silence rule decides. */
  timeoutMs: number;
  /** Checks outstanding at once, cluster-wide from the coordinator. */
  maxInFlight: number;
}

export interface FencingConfig {
  actionTimeoutMs: number;
  retries: number;
  retryMinDelayMs: number;
  retryMaxDelayMs: number;
  devices: Map<string, FenceDeviceConfig>;
  hosts: Map<string, HostTopology>;
  kdump: KdumpConfig;
  powerCheck: PowerCheckConfig;
}

/** Every duration and count of the section, in one place (docs/fencing.md lists them). */
export const FENCING_BOUNDS = {
  actionTimeoutMs: { min: 100, max: 600_000 },
  retries: { min: 0, max: 20 },
  retryDelayMs: { min: 0, max: 600_000 },
  kdumpMessageTimeoutMs: { min: 100, max: 600_000 },
  kdumpMaxWaitMs: { min: 0, max: 3_600_000 },
  powerCheckTimeoutMs: { min: 100, max: 30_000 },
  powerCheckMaxInFlight: { min: 1, max: 64 },
} as const;

export const FENCING_DEFAULTS = {
  actionTimeoutMs: 60_000,
  retries: 2,
  retryMinDelayMs: 1000,
  retryMaxDelayMs: 10_000,
  kdump: { enabled: false, port: 7410, bind: '0.0.0.0', messageTimeoutMs: 15_000, maxWaitMs: 300_000 },
  powerCheck: { enabled: true, timeoutMs: 2000, maxInFlight: 4 },
} as const;

/** Reads the `fencing` mapping (pass `root.object('fencing')`); calls finish() on everything it reads. */
export function readFencingConfig(r: ObjectReader): FencingConfig {
  const kr = r.object('kdump');
  const kdump: KdumpConfig = {
    enabled: kr.boolean('enabled', FENCING_DEFAULTS.kdump.enabled),
    port: kr.number('port', { default: FENCING_DEFAULTS.kdump.port, min: 1, max: 65535, integer: true }),
    bind: kr.string('bind', { default: FENCING_DEFAULTS.kdump.bind }) ?? FENCING_DEFAULTS.kdump.bind,
    messageTimeoutMs: kr.durationMs('message_timeout', {
      default: FENCING_DEFAULTS.kdump.messageTimeoutMs,
      ...FENCING_BOUNDS.kdumpMessageTimeoutMs,
    }),
    maxWaitMs: kr.durationMs('max_wait', { default: FENCING_DEFAULTS.kdump.maxWaitMs, ...FENCING_BOUNDS.kdumpMaxWaitMs }),
  };
  if (kdump.enabled && !isIP(kdump.bind)) kr.problem('bind', `must be an IP address, got '${kdump.bind}'`);
  kr.finish();
  const pr = r.object('power_check');
  const powerCheck: PowerCheckConfig = {
    enabled: pr.boolean('enabled', FENCING_DEFAULTS.powerCheck.enabled),
    timeoutMs: pr.durationMs('timeout', { default: FENCING_DEFAULTS.powerCheck.timeoutMs, ...FENCING_BOUNDS.powerCheckTimeoutMs }),
    maxInFlight: pr.number('max_in_flight', {
      default: FENCING_DEFAULTS.powerCheck.maxInFlight,
      ...FENCING_BOUNDS.powerCheckMaxInFlight,
      integer: true,
    }),
  };
  pr.finish();
  const cfg: FencingConfig = {
    actionTimeoutMs: r.durationMs('action_timeout', { default: FENCING_DEFAULTS.actionTimeoutMs, ...FENCING_BOUNDS.actionTimeoutMs }),
    retries: r.number('retries', { default: FENCING_DEFAULTS.retries, ...FENCING_BOUNDS.retries, integer: true }),
    retryMinDelayMs: r.durationMs('retry_min_delay', { default: FENCING_DEFAULTS.retryMinDelayMs, ...FENCING_BOUNDS.retryDelayMs }),
    retryMaxDelayMs: r.durationMs('retry_max_delay', { default: FENCING_DEFAULTS.retryMaxDelayMs, ...FENCING_BOUNDS.retryDelayMs }),
    devices: new Map(),
    hosts: new Map(),
    kdump,
    powerCheck,
  };
  if (cfg.retryMinDelayMs > cfg.retryMaxDelayMs)
    r.problem('retry_min_delay', `must not be more than retry_max_delay (${cfg.retryMaxDelayMs}ms), got ${cfg.retryMinDelayMs}ms`);
  for (const [name, dr] of r.entries('devices', { names: 'name', maxItems: 10_000 }))
    cfg.devices.set(name, readDevice(name, dr, cfg.actionTimeoutMs));
  for (const [host, hr] of r.entries('hosts', { names: 'host' })) {
    const levels = readLevels(hr, cfg.devices);
    const kdumpAddresses = hr.stringList('kdump_addresses', { maxItems: 16 });
    for (const a of kdumpAddresses) if (!isIP(a)) hr.problem('kdump_addresses', `'${a}' is not an IP address`);
    hr.finish();
    cfg.hosts.set(host, { host, levels, kdumpAddresses });
  }
  r.finish();
  return cfg;
}

function readDevice(name: string, dr: ObjectReader, defaultTimeoutMs: number): FenceDeviceConfig {
  const agent = dr.requiredString('agent');
  const password = dr.secret('password');
  const options: Record<string, string> = Object.create(null) as Record<string, string>;
  const rawOptions = dr.raw('options');
  if (rawOptions !== undefined && rawOptions !== null && (typeof rawOptions !== 'object' || Array.isArray(rawOptions)))
    dr.problem('options', 'must be a mapping of agent option names to values');
  const entries =
    rawOptions && typeof rawOptions === 'object' && !Array.isArray(rawOptions) ? Object.entries(rawOptions as Record<string, unknown>) : [];
  for (const [key, v] of entries) {
    const path = `options.${key}`;
    if (!/^[a-z][a-z0-9_-]{0,63}$/.test(key)) {
      dr.problem(path.slice(0, 90), 'is not an agent option name (lower-case letters, digits, _ and -)');
    } else if (['action', 'password', 'passwd'].includes(key)) {
      dr.problem(
        path,
        key === 'action'
          ? 'is chosen by the fencer, not configured'
          : `is a secret: set the device's 'password' or 'password_file' instead`,
      );
    } else if (typeof v === 'string' || typeof v === 'number') {
      if (/[\u0000-\u001f\u007f]/.test(String(v)) || String(v).length > 4096)
        dr.problem(path, 'must be a single line of at most 4096 characters');
      else options[key.replace(/-/g, '_')] = String(v);
    } else if (typeof v === 'boolean') {
      options[key.replace(/-/g, '_')] = v ? '1' : '0';
    } else {
      dr.problem(path, 'must be a string, number or boolean');
    }
  }
  if (password !== undefined && /[\r\n]/.test(password)) dr.problem('password', 'must be a single line');
  const dev: FenceDeviceConfig = {
    name,
    agent,
    options,
    password,
    timeoutMs: dr.durationMs('timeout', { default: defaultTimeoutMs, ...FENCING_BOUNDS.actionTimeoutMs }),
    verify: dr.boolean('verify', true),
  };
  const native = NATIVE_AGENTS.get(agent);
  if (native) {
    const def = native.definition;
    const parsed = new Map(Object.entries(options));
    if (password !== undefined) parsed.set('password', password);
    parsed.set('action', 'off');
    const unknown = Object.keys(options).filter((k) => !def.options.some((o) => o.name === k || o.aliases?.includes(k)));
    for (const k of unknown) dr.problem(`options.${k}`, `is not an option of ${native.name} (see ${native.executable} -o metadata)`);
    for (const p of [...validate(parsed, def.options), ...(def.check?.(parsed) ?? [])]) dr.problem('options', p.replace(/^Failed: /, ''));
  } else if (agent) {
    dev.agentPath = resolveAgent(agent);
    if (!dev.agentPath) dr.problem('agent', `'${agent}' not found (looked in agents/, PATH, /usr/sbin, /sbin; or give an absolute path)`);
  }
  dr.finish();
  return dev;
}

function readLevels(hr: ObjectReader, devices: Map<string, FenceDeviceConfig>): string[][] {
  const raw = hr.raw('levels');
  const key = hr.keyPath('levels');
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > 16) {
    hr.problems.push({ path: key, reason: 'must be a list of 1 to 16 levels, each a list of device names' });
    return [];
  }
  return raw.map((level: unknown, i) => {
    const names = typeof level === 'string' ? [level] : level;
    if (!Array.isArray(names) || names.length === 0 || names.length > 16 || names.some((n) => typeof n !== 'string')) {
      hr.problems.push({ path: `${key}[${i}]`, reason: 'must be a device name or a list of 1 to 16 device names' });
      return [];
    }
    for (const n of names as string[])
      if (!devices.has(n)) hr.problems.push({ path: `${key}[${i}]`, reason: `names unknown device ${describe(n)}` });
    return names as string[];
  });
}
