import { describe, expect, it } from 'vitest';
import { RECOVERY_DEFAULTS, type SelectionConfig } from '../../src/recovery/config.js';
import { byPriority, localDiskPolicyOf, rootDiskOf, selectServer, matchesAny, type SelectionInput } from '../../src/recovery/selection.js';
import type { Server } from '../../src/openstack/types.js';

const server = (over: Partial<Server> = {}): Server => ({
  id: 'id-1',
  name: 'web-1',
  status: 'ACTIVE',
  host: 'cmp1',
  vmState: 'active',
  taskState: null,
  projectId: 'p1',
  userId: 'u1',
  tags: [],
  metadata: {},
  imageId: 'img-1',
  flavorExtraSpecs: {},
  ...over,
});
const input = (s: Partial<Server>, sel: Partial<SelectionConfig> = {}, over: Partial<SelectionInput> = {}): SelectionInput => ({
  server: server(s),
  hostMode: 'evacuate',
  hostAggregates: [],
  imageProperties: new Map(),
  select: { ...RECOVERY_DEFAULTS.select, ...sel },
  instanceModeKey: 'instance-ha:mode',
  priorityKey: 'instance-ha:priority',
  host: 'cmp1',
  // These tables are about opting in: cmp1's instance storage is shared, so the local-disk policy
  // (its own describe below, on the real defaults) does not hold anything back here.
  sharedStorage: { hosts: ['cmp1'], aggregates: [] },
  localDisk: RECOVERY_DEFAULTS.localDisk,
  ...over,
});

describe('selectServer', () => {
  const table: Array<[string, SelectionInput, string]> = [
    ['tagged server is evacuated', input({ tags: ['automatic-recovery'] }), 'evacuate'],
    ['untagged server is only notified', input({}), 'notify:not selected'],
    ['custom tag', input({ tags: ['ha'] }, { tag: 'ha' }), 'evacuate'],
    [
      'flavor extra spec selector',
      input({ flavorExtraSpecs: { evacuable: 'True' } }, { flavorExtraSpecs: { evacuable: 'true' } }),
      'evacuate',
    ],
    [
      'image property selector',
      input({}, { imageProperties: { evacuable: 'true' } }, { imageProperties: new Map([['img-1', { evacuable: 'true' }]]) }),
      'evacuate',
    ],
    [
      'image gone does not select',
      input({}, { imageProperties: { evacuable: 'true' } }, { imageProperties: new Map([['img-1', null]]) }),
      'notify:not selected',
    ],
    [
      'aggregate metadata selector',
      input({}, { aggregateMetadata: { ha: 'on' } }, { hostAggregates: [{ name: 'a', hosts: ['cmp1'], metadata: { ha: 'on' } }] }),
      'evacuate',
    ],
    ['exclude project wins over tag', input({ tags: ['automatic-recovery'] }, { excludeProjects: ['p1'] }), 'notify:excluded: project p1'],
    ['exclude image wins over tag', input({ tags: ['automatic-recovery'] }, { excludeImages: ['img-1'] }), 'notify:excluded: image img-1'],
    [
      'exclude name pattern (amphorae)',
      input({ name: 'amphora-123', tags: ['automatic-recovery'] }, { excludeNamePatterns: ['^amphora-'] }),
      'notify:excluded: name',
    ],
    ['host mode notify', input({ tags: ['automatic-recovery'] }, {}, { hostMode: 'notify' }), 'notify:host recovery mode'],
    ['instance mode notify', input({ tags: ['automatic-recovery'], metadata: { 'instance-ha:mode': 'notify' } }), 'notify:server metadata'],
    ['paused server: Nova refuses', input({ tags: ['automatic-recovery'], vmState: 'paused' }), 'notify:vm_state paused'],
    ['stopped server is evacuated', input({ tags: ['automatic-recovery'], vmState: 'stopped' }), 'evacuate'],
    ['error server is evacuated', input({ tags: ['automatic-recovery'], vmState: 'error' }), 'evacuate'],
  ];
  it.each(table)('%s', (_name, i, want) => {
    const d = selectServer(i);
    const got = d.action === 'evacuate' ? 'evacuate' : `notify:${d.reason}`;
    expect(got.startsWith(want)).toBe(true);
  });

  it('reads the priority from metadata', () => {
    const d = selectServer(input({ tags: ['automatic-recovery'], metadata: { 'instance-ha:priority': '7' } }));
    expect(d).toEqual({ action: 'evacuate', priority: 7, rootDisk: 'shared' });
    expect(selectServer(input({ tags: ['automatic-recovery'], metadata: { 'instance-ha:priority': 'high' } }))).toEqual({
      action: 'evacuate',
      priority: 0,
      rootDisk: 'shared',
    });
  });
});

describe('ordering and matching', () => {
  it('orders by priority, then name, then id', () => {
    const xs = [
      { priority: 0, name: 'b', id: '2' },
      { priority: 5, name: 'z', id: '9' },
      { priority: 0, name: 'a', id: '3' },
      { priority: 0, name: 'a', id: '1' },
    ];
    expect(xs.sort(byPriority).map((x) => x.id)).toEqual(['9', '1', '3', '2']);
  });
  it('matches any pair, case-insensitive values', () => {
    expect(matchesAny({ a: 'TRUE' }, { a: 'true' })).toBe(true);
    expect(matchesAny({ a: 'x' }, { a: 'true', b: 'y' })).toBe(false);
    expect(matchesAny({}, {})).toBe(false);
  });
});

describe('local-disk policy (never rebuild away the data of a server by default)', () => {
  const tagged = ['automatic-recovery'];
  // The real defaults: no shared storage declared, local_disk: notify.
  const base = (s: Partial<Server>, over: Partial<SelectionInput> = {}): SelectionInput =>
    input({ tags: tagged, ...s }, {}, { sharedStorage: RECOVERY_DEFAULTS.sharedStorage, ...over });
  const rack = { name: 'rack-a', hosts: ['cmp1'], metadata: {} };

  it('holds a local-root server by default, saying why and how to opt in', () => {
    const d = selectServer(base({}));
    expect(d).toMatchObject({ action: 'notify', held: true });
    if (d.action !== 'notify') throw new Error('unreachable');
    expect(d.reason).toMatch(/^local root disk on cmp1 .*lose its data \(recovery\.local_disk: notify\)/);
    expect(d.reason).toContain('instance-ha:local-disk=rebuild');
  });

  it('evacuates a server booted from a volume (image "") whatever the policy', () => {
    expect(selectServer(base({ imageId: null }))).toEqual({ action: 'evacuate', priority: 0, rootDisk: 'volume' });
  });

  it('evacuates a local-image server on a host or aggregate declared shared', () => {
    expect(selectServer(base({}, { sharedStorage: { hosts: ['CMP1'], aggregates: [] } }))).toMatchObject({ rootDisk: 'shared' });
    const byAggregate = base({}, { hostAggregates: [rack], sharedStorage: { hosts: [], aggregates: ['rack-a'] } });
    expect(selectServer(byAggregate)).toMatchObject({ action: 'evacuate', rootDisk: 'shared' });
    // An aggregate the host is not in says nothing about it.
    expect(rootDiskOf({ ...byAggregate, hostAggregates: [] })).toBe('local');
  });

  it('rebuilds a local-root server only when opted in, most specific first', () => {
    const ld = RECOVERY_DEFAULTS.localDisk;
    expect(selectServer(base({}, { localDisk: { ...ld, default: 'rebuild' } }))).toMatchObject({ action: 'evacuate', rootDisk: 'local' });
    expect(selectServer(base({ metadata: { 'instance-ha:local-disk': 'Rebuild' } }))).toMatchObject({ action: 'evacuate' });
    expect(selectServer(base({}, { localDisk: { ...ld, hosts: { cmp1: 'rebuild' } } }))).toMatchObject({ action: 'evacuate' });
    const agg = { ...ld, aggregates: { 'rack-a': 'rebuild' as const } };
    expect(selectServer(base({}, { hostAggregates: [rack], localDisk: agg }))).toMatchObject({ action: 'evacuate' });
    // The server's own word wins over the host's opt-in: its owner keeps its data.
    const keep = base(
      { metadata: { 'instance-ha:local-disk': 'notify' } },
      { localDisk: { ...ld, default: 'rebuild', hosts: { cmp1: 'rebuild' } } },
    );
    expect(selectServer(keep)).toMatchObject({ action: 'notify', held: true });
    // A host entry beats its aggregates; an unknown metadata value is ignored.
    const hostSays = base(
      { metadata: { 'instance-ha:local-disk': 'yes' } },
      { hostAggregates: [rack], localDisk: { ...agg, hosts: { cmp1: 'notify' } } },
    );
    expect(localDiskPolicyOf(hostSays)).toEqual({ value: 'notify', from: 'recovery.local_disk.hosts.cmp1' });
  });

  it('two aggregates that disagree: notify wins (losing data needs a clear yes)', () => {
    const other = { name: 'batch', hosts: ['cmp1'], metadata: {} };
    const i = base(
      {},
      {
        hostAggregates: [other, rack],
        localDisk: { ...RECOVERY_DEFAULTS.localDisk, aggregates: { batch: 'rebuild', 'rack-a': 'notify' } },
      },
    );
    expect(localDiskPolicyOf(i)).toEqual({ value: 'notify', from: 'recovery.local_disk.aggregates.rack-a' });
  });

  it('exclusions and modes still come first: an untagged local server is not selected, not held', () => {
    const d = selectServer(base({ tags: [] }));
    expect(d).toMatchObject({ action: 'notify' });
    expect('held' in d).toBe(false);
  });
});
