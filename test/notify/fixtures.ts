import type { ClusterEvent, FenceRecord, ServerRef } from '../../src/core/events.js';
import type { EnvelopeDeps } from '../../src/notify/envelope.js';

/** Deterministic inputs shared by the notify tests. */
export const AT = Date.UTC(2026, 10, 21, 8, 15, 0, 123);

export function counterIds(prefix = 0): () => string {
  let n = prefix;
  return () => `00000000-0000-4000-8000-${(++n).toString(16).padStart(12, '0')}`;
}

export function fixedDeps(over: Partial<EnvelopeDeps> = {}): EnvelopeDeps {
  return { monitorHost: 'ctl1', now: () => AT, newId: counterIds(), ...over };
}

export const FENCE: FenceRecord = {
  ok: true,
  level: 1,
  devices: ['ipmi-cmp1'],
  agent: 'fence_ipmilan',
  durationMs: 4200,
  attempts: [{ level: 1, device: 'ipmi-cmp1', agent: 'fence_ipmilan', action: 'off', exitCode: 0, ok: true, durationMs: 4200 }],
  by: 'ctl1',
};

export const SERVER: ServerRef = {
  id: '9d2b7c1e-0000-4000-8000-00000000beef',
  name: 'web-1',
  projectId: 'p-42',
  userId: 'u-7',
  tags: ['team-a'],
  host: 'cmp1',
};

export function hostFailed(host: string, at = AT): ClusterEvent {
  return { type: 'host.failed', at, host, bootId: 'boot-1', votes: ['ctl1', 'ctl2'], lastHeardAt: at - 3000 };
}

export function notRecovered(i: number): ClusterEvent {
  return {
    type: 'instance.not_selected',
    at: AT,
    host: 'cmp1',
    server: { ...SERVER, id: `srv-${i}`, name: `vm-${i}` },
    reason: 'not tagged for automatic recovery',
    fence: FENCE,
  };
}
