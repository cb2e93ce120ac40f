import { describe, expect, it } from 'vitest';
import { RECOVERY_DEFAULTS, type SelectionConfig } from '../../src/recovery/config.js';
import { byPriority, selectServer, matchesAny, type SelectionInput } from '../../src/recovery/selection.js';
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
    expect(d).toEqual({ action: 'evacuate', priority: 7 });
    expect(selectServer(input({ tags: ['automatic-recovery'], metadata: { 'instance-ha:priority': 'high' } }))).toEqual({
      action: 'evacuate',
      priority: 0,
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
