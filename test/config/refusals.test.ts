import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ObjectReader } from '../../src/config/reader.js';
import { IllegalStateError, type ConfigProblem } from '../../src/errors.js';
import { MAX_TIMER_MS } from '../../src/timer-limit.js';
import { allowedExpectedVotes } from '../../src/daemon/monitor-config.js';
import { beaconDoc, fencingSection, merge, monitorDoc, problemsOf, protoKey } from './fixtures.js';

/** One row per refusal: the patch, the key the problem must name and what its reason must say. */
type Row = [what: string, patch: Record<string, unknown>, path: string, reason: RegExp];

const fencing = (extra: Record<string, unknown>): Record<string, unknown> => ({ fencing: merge(fencingSection(), extra) });
const recovery = (extra: Record<string, unknown>): Record<string, unknown> => ({
  ...fencing({}),
  compute: {},
  recovery: extra,
});

const MONITOR_ROWS: Row[] = [
  // The values of the issue: 9999h was accepted and became a 1 ms timer.
  ['fencing.action_timeout 9999h', fencing({ action_timeout: '9999h' }), 'fencing.action_timeout', /between 100ms and 10m, got '9999h'/],
  [
    'a device timeout 9999h',
    fencing({ devices: { d1: { timeout: '9999h' } } }),
    'fencing.devices.d1.timeout',
    /between 100ms and 10m, got '9999h'/,
  ],
  ['max_clock_skew 9999h', { detection: { max_clock_skew: '9999h' } }, 'detection.max_clock_skew', /between 1s and 1h, got '9999h'/],
  ['mass_failure.window 9999h', { mass_failure: { window: '9999h' } }, 'mass_failure.window', /between 1s and 1h, got '9999h'/],
  ['kdump.max_wait 9999h', fencing({ kdump: { max_wait: '9999h' } }), 'fencing.kdump.max_wait', /between 0ms and 1h, got '9999h'/],
  ['power_check.timeout 1h', fencing({ power_check: { timeout: '1h' } }), 'fencing.power_check.timeout', /between 100ms and 30s, got '1h'/],
  ['power_check.max_in_flight 0', fencing({ power_check: { max_in_flight: 0 } }), 'fencing.power_check.max_in_flight', /between 1 and 64/],
  ['a misspelt power_check key', fencing({ power_check: { enable: false } }), 'fencing.power_check.enable', /is not a known setting/],
  ['a duration as a number of ms over the timer limit', fencing({ action_timeout: 2 ** 31 }), 'fencing.action_timeout', /got 2147483648ms/],
  [
    'a duration padded with a megabyte of spaces (the regex used to backtrack for hours)',
    { detection: { tick: `1${' '.repeat(1_000_000)}x` } },
    'detection.tick',
    /must be a duration/,
  ],
  ['a duration below its minimum', { detection: { tick: '1ms' } }, 'detection.tick', /between 5ms and 1s, got '1ms'/],
  [
    'a count without a unit above its maximum',
    { mass_failure: { max_failed_hosts: 1e9 } },
    'mass_failure.max_failed_hosts',
    /between 0 and 100000/,
  ],
  [
    'outbox records above the maximum',
    { notifications: { outbox: { max_records: 1e12 } } },
    'notifications.outbox.max_records',
    /between 1 and 10000000/,
  ],
  [
    'history_max_bytes above the maximum',
    { status_api: { history_max_bytes: 2 ** 40 } },
    'status_api.history_max_bytes',
    /between 65536 and/,
  ],
  // Delays whose minimum is above their maximum.
  [
    'retry_min_delay > retry_max_delay',
    fencing({ retry_min_delay: '20s', retry_max_delay: '10s' }),
    'fencing.retry_min_delay',
    /not be more than retry_max_delay/,
  ],
  [
    'compute min_backoff > max_backoff',
    { compute: { min_backoff: '10s', max_backoff: '1s' } },
    'compute.min_backoff',
    /not be more than max_backoff/,
  ],
  [
    'recovery retry_backoff > max',
    recovery({ retry_backoff: '2m', max_retry_backoff: '1m' }),
    'recovery.retry_backoff',
    /not be more than max_retry_backoff/,
  ],
  [
    'recovery fast_poll_interval > poll_interval',
    recovery({ poll_interval: '1s', fast_poll_interval: '2s' }),
    'recovery.fast_poll_interval',
    /not be more than poll_interval \(1000ms\)/,
  ],
  [
    'recovery min_poll_gap > fast_poll_interval',
    recovery({ fast_poll_interval: '100ms', min_poll_gap: '150ms' }),
    'recovery.min_poll_gap',
    /not be more than fast_poll_interval \(100ms\)/,
  ],
  [
    'recovery nova_notifications.url not amqp',
    recovery({ nova_notifications: { enabled: true, url: 'http://127.0.0.1:5672' } }),
    'recovery.nova_notifications.url',
    /amqp:\/\/ or amqps:\/\/ URL/,
  ],
  [
    'recovery nova_notifications on with no broker at all',
    recovery({ nova_notifications: { enabled: true } }),
    'recovery.nova_notifications',
    /no url and there is no notifications section/,
  ],
  [
    'recovery nova_notifications.exchange with a space',
    recovery({ nova_notifications: { exchange: 'no va' } }),
    'recovery.nova_notifications.exchange',
    /an AMQP exchange name/,
  ],
  [
    'reconnect.initial > max',
    { notifications: { reconnect: { initial: '50s', max: '1s' } } },
    'notifications.reconnect.initial',
    /not be more than reconnect.max/,
  ],
  // Quorum arithmetic.
  [
    'expected_votes above the monitors',
    { expected_votes: 4 },
    'expected_votes',
    /between 2 and 3 with 3 monitors, got 4: votes of monitors that are not configured/,
  ],
  [
    'expected_votes below a safe majority',
    { expected_votes: 1 },
    'expected_votes',
    /between 2 and 3 with 3 monitors, got 1: a quorum of 1 would let two partitions/,
  ],
  [
    'expected_votes 3 of 4 monitors (quorum 2: a 2+2 split would have two quorums)',
    {
      expected_votes: 3,
      monitors: [...(monitorDoc().monitors as object[]), { id: 'm4', address: '127.0.0.1:7403' }],
    },
    'expected_votes',
    /between 4 and 4 with 4 monitors, got 3/,
  ],
  // Endpoints reachable from elsewhere need a token.
  [
    'metrics off loopback without a token',
    { metrics: { listen: '0.0.0.0:9411' } },
    'metrics.listen',
    /not a loopback address: set token_file/,
  ],
  ['a status API token with a space', { status_api: { token: 'a token with spaces inside' } }, 'status_api.token', /printable ASCII/],
  // Names that are not host names.
  ['__proto__ in hosts', { hosts: ['__proto__'] }, 'hosts[0]', /is not a host name/],
  ['a path in hosts', { hosts: ['../../etc/passwd'] }, 'hosts[0]', /is not a host name/],
  ['a host listed twice (case does not make it another)', { hosts: ['cmp1', 'CMP1'] }, 'hosts[1]', /'CMP1' is listed twice/],
  ['a label longer than 63', { hosts: ['a'.repeat(64)] }, 'hosts[0]', /is not a host name/],
  ['a name longer than 253', { hosts: [Array(64).fill('abc').join('.')] }, 'hosts[0]', /more than 253/],
  ['a host name with a control character', { hosts: ['cmp1\u001b[2J'] }, 'hosts[0]', /control characters/],
  ['__proto__ as a monitor id', { id: '__proto__' }, 'id', /is not a host name/],
  [
    'a monitor id listed twice',
    { monitors: [...(monitorDoc().monitors as object[]), { id: 'M2', address: '127.0.0.1:7409' }] },
    'monitors[3].id',
    /'M2' is listed twice/,
  ],
  [
    'two monitors at one address',
    { monitors: [...(monitorDoc().monitors as object[]), { id: 'm4', address: '127.0.0.1:7400' }] },
    'monitors[3].address',
    /already another monitor's address/,
  ],
  ['a listen address twice', { listen: ['0.0.0.0:7400', '0.0.0.0:7400'] }, 'listen[1]', /listed twice/],
  [
    'more than 99 monitors',
    { monitors: Array.from({ length: 100 }, (_, i) => ({ id: `m${i + 1}`, address: `127.0.0.1:${8000 + i}` })) },
    'monitors',
    /at most 99 monitors, got 100/,
  ],
  ['a monitor address that is no host', { monitors: [{ id: 'm1', address: '__proto__:7400' }] }, 'monitors[0].address', /host:port/],
  [
    '__proto__ in the fencing topology',
    fencing({ hosts: protoKey({ levels: [['d1']] }) }),
    'fencing.hosts.__proto__',
    /is not a host name/,
  ],
  ['a topology host twice by case', fencing({ hosts: { CMP1: { levels: [['d1']] } } }), 'fencing.hosts.CMP1', /same host as another entry/],
  ['a device named __proto__', fencing({ devices: protoKey({ agent: 'native-ipmi' }) }), 'fencing.devices.__proto__', /not a valid name/],
  [
    'an agent option named __proto__',
    fencing({ devices: { d1: { options: protoKey('x') } } }),
    'fencing.devices.d1.options.__proto__',
    /not an agent option/,
  ],
  [
    'a native-ipmi seconds option above an hour',
    fencing({ devices: { d1: { options: { power_timeout: 99999 } } } }),
    'fencing.devices.d1.options',
    /power_timeout must be at most 3600/,
  ],
  ['target_hosts twice', recovery({ target_hosts: ['spare1', 'spare1'] }), 'recovery.target_hosts[1]', /listed twice/],
  ['host_modes with a path as host', recovery({ host_modes: { '../x': 'notify' } }), 'recovery.host_modes.../x', /is not a host name/],
  [
    'a notification priority for __proto__',
    { notifications: { priorities: protoKey('WARN') } },
    'notifications.priorities.__proto__',
    /not an event type/,
  ],
  ['a string setting with a newline', { state_dir: '/var/lib/x\nrm -rf /' }, 'state_dir', /single line/],
  ['an inline secret with a newline', { cluster_key: `${'k'.repeat(20)}\nmore` }, 'cluster_key', /single line/],
];

describe('monitor.yaml refusals', () => {
  it('the base document is valid', () => {
    expect(problemsOf('monitor', monitorDoc())).toEqual([]);
    expect(problemsOf('monitor', merge(monitorDoc(), recovery({})))).toEqual([]);
  });

  it.each(MONITOR_ROWS)('%s', (_what, patch, path, reason) => {
    const problems = problemsOf('monitor', merge(monitorDoc(), patch));
    const hit = problems.find((p) => p.path === path);
    expect(hit, JSON.stringify(problems)).toBeDefined();
    expect(hit!.reason).toMatch(reason);
  });

  it('accepts every value at its bounds (the range is inclusive)', () => {
    const doc = merge(monitorDoc(), {
      ...fencing({
        action_timeout: '10m',
        retry_min_delay: '10m',
        retry_max_delay: '10m',
        kdump: { max_wait: '1h' },
        power_check: { timeout: '30s', max_in_flight: 64 },
      }),
      detection: { max_clock_skew: '1h', tick: '5ms' },
      mass_failure: { window: '1h', max_failed_hosts: 100_000 },
      expected_votes: 2,
      metrics: { listen: '0.0.0.0:9411', token: 'a-long-enough-metrics-token' },
      hosts: ['cmp1', 'a'.repeat(63), 'compute-2.example.org'],
    });
    expect(problemsOf('monitor', doc)).toEqual([]);
  });
});

describe('allowedExpectedVotes', () => {
  // Quorum is floor(ev/2)+1: it must be more than half the monitors, and ev at most their number.
  it.each([
    [1, 1, 1],
    [2, 2, 2],
    [3, 2, 3],
    [4, 4, 4],
    [5, 4, 5],
    [6, 6, 6],
    [7, 6, 7],
  ])('%i monitors: %i to %i', (n, min, max) => {
    expect(allowedExpectedVotes(n)).toEqual({ min, max });
    for (let ev = min; ev <= max; ev++) expect(2 * (Math.floor(ev / 2) + 1)).toBeGreaterThan(n);
    if (min > 1) expect(2 * (Math.floor((min - 1) / 2) + 1)).toBeLessThanOrEqual(n);
  });
});

describe('beacon.yaml refusals', () => {
  it.each<Row>([
    ['a host name that is a path', { host: '../../etc/passwd' }, 'host', /is not a host name/],
    ['__proto__ as host', { host: '__proto__' }, 'host', /is not a host name/],
    ['a monitor address twice', { monitors: ['127.0.0.1:7400', '127.0.0.1:7400'] }, 'monitors[1]', /listed twice/],
    ['interval above 10s', { interval: '1h' }, 'interval', /between 50ms and 10s, got '1h'/],
    ['health.timeout 9999h', { health: { timeout: '9999h' } }, 'health.timeout', /between 10ms and 10m/],
  ])('%s', (_what, patch, path, reason) => {
    const problems = problemsOf('beacon', merge(beaconDoc(), patch));
    const hit = problems.find((p) => p.path === path);
    expect(hit, JSON.stringify(problems)).toBeDefined();
    expect(hit!.reason).toMatch(reason);
  });
});

describe('the reader itself', () => {
  const reader = (doc: unknown): { r: ObjectReader; problems: ConfigProblem[] } => {
    const problems: ConfigProblem[] = [];
    return { r: ObjectReader.root(doc, problems), problems };
  };

  it('refuses to be given a duration bound a timer cannot honour, or a min above the max (a bug, caught by any test)', () => {
    const { r } = reader({});
    expect(() => r.durationMs('x', { default: 1, min: 0, max: MAX_TIMER_MS + 1 })).toThrow(IllegalStateError);
    expect(() => r.durationMs('x', { default: 1, min: 10, max: 5 })).toThrow(IllegalStateError);
    expect(() => r.number('x', { default: 1, min: 0, max: Infinity })).toThrow(IllegalStateError);
    expect(r.durationMs('x', { default: 7, min: 0, max: MAX_TIMER_MS })).toBe(7);
  });

  it('bounds lists, strings and the keys of operator-named mappings', () => {
    const { r, problems } = reader({
      many: Array.from({ length: 17 }, (_, i) => `127.0.0.1:${7400 + i}`),
      long: 'x'.repeat(4097),
      devices: { 'a b': {}, ok: {} },
      toString: 'a key, not the prototype method',
    });
    r.stringList('many', { maxItems: 16 });
    r.string('long');
    expect(r.entries('devices', { names: 'name' }).map(([k]) => k)).toEqual(['ok']);
    expect(r.string('toString')).toBe('a key, not the prototype method');
    expect(r.has('constructor')).toBe(false);
    expect(problems.map((p) => `${p.path}: ${p.reason}`)).toEqual([
      'many: must list at most 16 entries, got 17',
      'long: must be at most 4096 characters, got 4097',
      "devices.a b: is not a valid name (1-63 letters, digits and . _ -, starting with a letter or digit), got 'a b'",
    ]);
  });

  it('a key twice in one mapping is refused by the YAML reading, naming the file', () => {
    const text = `${stringify(monitorDoc())}fencing:\n  hosts:\n    cmp1: { levels: [d1] }\n    cmp1: { levels: [d1] }\n`;
    expect(problemsOf('monitor', text)).toEqual([
      { path: '', reason: expect.stringMatching(/is not valid YAML: Map keys must be unique/) },
    ]);
  });
});
