/**
 * Property-based fuzz of every config reader: random documents built from each reader's keys, and
 * mutations of the shipped examples. Whatever the document, reading it either succeeds or throws a
 * ConfigError whose every problem names a key of the document (or the file, for a whole-document
 * problem), on one line, with no stack trace; and it returns (a hang fails the test by its timeout).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { readBeaconConfig } from '../../src/config/beacon-config.js';
import { loadConfig, parseConfig } from '../../src/config/load.js';
import { readOpsConfig } from '../../src/config/ops-config.js';
import type { ObjectReader } from '../../src/config/reader.js';
import { readMonitorConfig } from '../../src/daemon/monitor-config.js';
import { ConfigError } from '../../src/errors.js';
import { readFencingConfig } from '../../src/fence/config.js';
import { readNotificationsConfig } from '../../src/notify/config.js';
import { readComputeConfig } from '../../src/openstack/config.js';
import { readRecoveryConfig } from '../../src/recovery/config.js';
import { ROOT } from '../helpers/build.js';
import { tempDirs } from '../helpers/temp-dirs.js';
import { KEY } from './fixtures.js';
import { documentOf, mutationsOf, type FilePaths, type Schema } from './schema-arbitraries.js';

const tempDir = tempDirs();
const dir = tempDir('iha-cfgfuzz-');
const keyFile = join(dir, 'cluster.key');
writeFileSync(keyFile, `${KEY}\n`, { mode: 0o600 });
/** A second key: the monitor key and the master beacon key must differ. */
const masterKeyFile = join(dir, 'beacon-master.key');
writeFileSync(masterKeyFile, `${KEY.split('').reverse().join('')}\n`, { mode: 0o600 });
const pwFile = join(dir, 'ipmi.pw');
writeFileSync(pwFile, 'hunter2\n', { mode: 0o600 });
const openFile = join(dir, 'open.key');
writeFileSync(openFile, `${KEY}\n`);
chmodSync(openFile, 0o644);
const fifo = join(dir, 'key.fifo');
execFileSync('mkfifo', ['-m', '600', fifo]);
mkdirSync(join(dir, 'adir'));
/** Every awkward thing a `*_file` key may name: none may hang or escape as a non-ConfigError. */
const FILES: FilePaths = {
  paths: [keyFile, pwFile, openFile, fifo, join(dir, 'adir'), '/dev/zero', '/dev/null', join(dir, 'missing'), 'relative'],
};

const FENCING: Schema = {
  action_timeout: 'duration',
  retries: 'count',
  retry_min_delay: 'duration',
  retry_max_delay: 'duration',
  kdump: { enabled: 'bool', port: 'count', bind: 'address', message_timeout: 'duration', max_wait: 'duration' },
  power_check: { enabled: 'bool', timeout: 'duration', max_in_flight: 'count' },
  devices: {
    '*name': {
      agent: 'agent',
      options: {
        ip: 'string',
        username: 'string',
        cipher: 'count',
        power_timeout: 'number',
        shell_timeout: 'number',
        ssl_insecure: 'bool',
        systems_uri: 'string',
        '*name': 'string',
      },
      password: 'string',
      password_file: 'file',
      timeout: 'duration',
      verify: 'bool',
    },
  },
  hosts: { '*host': { levels: { levels: true }, kdump_addresses: 'strings' } },
};
const NOTIFICATIONS: Schema = {
  enabled: 'bool',
  url: 'string',
  password: 'string',
  password_file: 'file',
  vhost: 'string',
  exchange: 'string',
  topic: 'string',
  durable: 'bool',
  heartbeat: 'duration',
  connect_timeout: 'duration',
  tls: { ca_file: 'file', cert_file: 'file', key_file: 'file', key_passphrase_file: 'file', servername: 'string', verify: 'bool' },
  reconnect: { initial: 'duration', max: 'duration' },
  priorities: { '*name': 'string' },
  outbox: { dir: 'string', max_records: 'count', max_bytes: 'number' },
  max_in_flight: 'count',
  confirm_timeout: 'duration',
  close_timeout: 'duration',
};
const COMPUTE: Schema = {
  cloud: 'string',
  clouds_file: 'file',
  region: 'string',
  interface: 'string',
  cacert: 'file',
  request_timeout: 'duration',
  retries: 'count',
  min_backoff: 'duration',
  max_backoff: 'duration',
  token_renew_before: 'duration',
  auth: {
    auth_url: 'string',
    username: 'string',
    password_file: 'file',
    application_credential_id: 'string',
    application_credential_secret: 'string',
  },
};
const RECOVERY: Schema = {
  mode: 'string',
  host_modes: { '*host': 'string' },
  instance_mode_key: 'string',
  select: {
    tag: 'string',
    flavor_extra_specs: { '*name': 'string' },
    image_properties: { '*name': 'string' },
    aggregate_metadata: { '*name': 'string' },
  },
  exclude: { projects: 'strings', images: 'strings', name_patterns: 'strings' },
  priority_key: 'string',
  target_hosts: 'hosts',
  concurrency: 'count',
  max_in_flight: 'count',
  instance_timeout: 'duration',
  max_attempts: 'count',
  retry_backoff: 'duration',
  max_retry_backoff: 'duration',
  poll_interval: 'duration',
  journal_dir: 'string',
  unfence: { auto: 'bool', quiet_period: 'duration', retry_interval: 'duration', timeout: 'duration' },
};
const OPS: Schema = {
  status_api: {
    enabled: 'bool',
    listen: 'address',
    token: 'string',
    token_file: 'file',
    history_max_bytes: 'number',
    tls: { cert_file: 'file', key_file: 'file' },
  },
  metrics: { enabled: 'bool', listen: 'address', token: 'string', token_file: 'file' },
};
const MONITOR: Schema = {
  id: 'host',
  monitors: { list: { id: 'host', address: 'address' } },
  listen: 'addresses',
  expected_votes: 'count',
  monitor_key: 'string',
  monitor_key_file: 'file',
  monitor_key_next_file: 'file',
  beacon_master_key: 'string',
  beacon_master_key_file: 'file',
  beacon_master_key_next_file: 'file',
  monitor_key_seal: 'string',
  cluster_key: 'string',
  cluster_key_file: 'file',
  state_dir: 'string',
  control_socket: 'string',
  hosts: 'hosts',
  log_level: 'string',
  detection: {
    beacon_interval: 'duration',
    min_missed: 'count',
    max_missed: 'count',
    suspect_missed: 'count',
    min_margin: 'duration',
    false_failure_probability: 'number',
    peer_interval: 'duration',
    peer_timeout: 'duration',
    tick: 'duration',
    stability_window: 'duration',
    pause_threshold: 'duration',
    pause_grace: 'duration',
    max_clock_skew: 'duration',
  },
  mass_failure: { max_failed_fraction: 'number', max_failed_hosts: 'count', window: 'duration' },
  fencing: FENCING,
  notifications: NOTIFICATIONS,
  compute: COMPUTE,
  recovery: RECOVERY,
  ...OPS,
};
const BEACON: Schema = {
  host: 'host',
  monitors: 'addresses',
  interval: 'duration',
  host_key: 'string',
  host_key_file: 'file',
  cluster_key: 'string',
  cluster_key_file: 'file',
  health: { process: 'string', command: 'string', interval: 'duration', timeout: 'duration' },
  log_level: 'string',
};

type Read = (r: ObjectReader) => unknown;
const section =
  (key: string, read: (r: ObjectReader) => unknown): Read =>
  (r) =>
    read(r.object(key));

/** Reads `doc` as `file`; fails the property on anything but success or a well-formed ConfigError. */
function readsCleanly(doc: unknown, read: Read, file = 'fuzz.yaml'): void {
  const text = stringify(doc);
  try {
    parseConfig(text, file, read);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw new Error(`not a ConfigError for:\n${text}`, { cause: err });
    expect(err.message.startsWith(`${file}: `)).toBe(true);
    expect(err.message).not.toMatch(/\n\s+at /);
    const top = new Set(doc && typeof doc === 'object' && !Array.isArray(doc) ? Object.keys(doc) : []);
    for (const p of err.problems) {
      // One line each: a value's newline or escape sequence never splits or repaints the report.
      expect(`${p.path} ${p.reason}`).not.toMatch(/[\u0000-\u001f\u007f]/);
      if (p.path === '') continue; // a whole-document problem: named by the file
      const head = p.path.split(/[.[]/)[0]!;
      // Required keys are named though absent; every other problem names a key the document has.
      if (
        !['id', 'monitors', 'monitor_key', 'beacon_master_key', 'host_key', 'cluster_key', 'compute', 'fencing', 'recovery'].includes(head)
      )
        // A secret is named by its setting (`monitor_key_next`) whether given inline or as `…_file`.
        expect(
          [...top].map((k) => k.replace(/_file$/, '')),
          `${p.path}: ${p.reason}`,
        ).toContain(head.replace(/_file$/, ''));
    }
  }
}

const READERS: Array<[string, Schema, Read, number]> = [
  ['monitor', MONITOR, (r) => readMonitorConfig(r), 400],
  ['beacon', BEACON, (r) => readBeaconConfig(r), 300],
  ['fencing', { fencing: FENCING }, section('fencing', readFencingConfig), 300],
  ['notifications', { notifications: NOTIFICATIONS }, section('notifications', readNotificationsConfig), 250],
  ['compute', { compute: COMPUTE }, section('compute', readComputeConfig), 200],
  ['recovery', { recovery: RECOVERY }, section('recovery', readRecoveryConfig), 250],
  ['ops (status_api, metrics)', OPS, (r) => readOpsConfig(r), 250],
];

describe('config readers under random documents', () => {
  it.each(READERS)('%s: success or a ConfigError naming the key, never anything else', (_name, schema, read, numRuns) => {
    fc.assert(
      fc.property(documentOf(schema, FILES), (doc) => readsCleanly(doc, read)),
      { numRuns },
    );
  });
});

/** The shipped examples, with their key files pointed at files this test made. */
function example(name: string): Record<string, unknown> {
  const text = readFileSync(join(ROOT, 'examples', name), 'utf8')
    // Every key file the examples name (monitor, master beacon, host) points at the test's own.
    .replaceAll('/etc/instance-ha/beacon-master.key', masterKeyFile)
    .replace(/\/etc\/instance-ha\/[\w.-]+\.key/g, keyFile)
    // Every password file the example names (BMC, Keystone, RabbitMQ) points at one this test made.
    .replace(/\/etc\/instance-ha\/[\w.-]+\.pw/g, pwFile);
  return parse(text) as Record<string, unknown>;
}

describe('mutations of the shipped examples', () => {
  it.each([
    ['monitor.yaml', readMonitorConfig],
    ['beacon.yaml', readBeaconConfig],
  ] as const)('%s still loads, and every mutation of it reads cleanly', (name, read) => {
    const doc = example(name);
    const file = join(dir, name);
    writeFileSync(file, stringify(doc));
    expect(() => loadConfig(file, read)).not.toThrow();
    fc.assert(
      fc.property(mutationsOf(doc), (mutated) => readsCleanly(mutated, read)),
      { numRuns: 400 },
    );
  });

  it('random bytes spliced into monitor.yaml: a ConfigError naming the file or key (non-UTF-8 included)', () => {
    const bytes = Buffer.from(stringify(example('monitor.yaml')));
    const file = join(dir, 'spliced.yaml');
    fc.assert(
      fc.property(fc.nat({ max: bytes.length - 1 }), fc.uint8Array({ minLength: 1, maxLength: 8 }), (at, junk) => {
        writeFileSync(file, Buffer.concat([bytes.subarray(0, at), junk, bytes.subarray(at)]));
        try {
          loadConfig(file, readMonitorConfig);
        } catch (err) {
          if (!(err instanceof ConfigError)) throw err;
          expect(err.message.startsWith(`${file}: `)).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });
});
