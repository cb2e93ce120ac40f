import { describe, expect, it } from 'vitest';
import type { ClusterEvent } from '../../src/core/events.js';
import { toNotification } from '../../src/notify/envelope.js';
import { incidentMessageId, uuidV5 } from '../../src/notify/message-id.js';
import { incidentId } from '../../src/recovery/incident.js';
import { AT, FENCE, fixedDeps, SERVER } from './fixtures.js';

/**
 * Once-per-incident notifications (instance.failed, instance.evacuate.end) that another monitor may
 * publish again get the same message_id everywhere; every other notification keeps a fresh one.
 */
const incident = incidentId('cmp1', { ...FENCE, at: AT });
const failed = (inc: string | undefined): ClusterEvent => ({
  type: 'instance.not_selected',
  at: AT,
  host: 'cmp1',
  server: SERVER,
  reason: 'not selected',
  fence: FENCE,
  ...(inc ? { incident: inc } : {}),
});
const ended = (inc: string, server = SERVER): ClusterEvent => ({
  type: 'instance.evacuate_end',
  at: AT,
  host: 'cmp1',
  server,
  targetHost: 'cmp2',
  durationMs: 5,
  incident: inc,
});

describe('deterministic message ids', () => {
  it('is an RFC 9562 version 5 UUID (SHA-1 name-based, the RFC test vector)', () => {
    // RFC 9562 appendix A.4: DNS namespace, "www.example.com".
    expect(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });

  it('two monitors publishing the same incident and server: the same message_id and _unique_id', () => {
    // Another monitor, another clock and id generator: only the incident, type and server decide.
    const a = toNotification(failed(incident), fixedDeps({ monitorHost: 'mon1' }))!;
    const b = toNotification(failed(incident), fixedDeps({ monitorHost: 'mon2', now: () => AT + 9_000, newId: () => 'x' }))!;
    expect(a.message_id).toBe(b.message_id);
    expect(a._unique_id).toBe(b._unique_id);
    expect(a.message_id).toBe(incidentMessageId(incident, 'instance_ha.instance.failed', SERVER.id));
  });

  it('differs by incident, by event type and by server', () => {
    const other = incidentId('cmp1', { ...FENCE, at: AT + 1 });
    const ids = [
      toNotification(failed(incident), fixedDeps())!.message_id,
      toNotification(failed(other), fixedDeps())!.message_id,
      toNotification(ended(incident), fixedDeps())!.message_id,
      toNotification(ended(incident, { ...SERVER, id: 'another' }), fixedDeps())!.message_id,
      toNotification(failed(incidentId('cmp2', { ...FENCE, at: AT })), fixedDeps())!.message_id,
    ];
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('without an incident (older callers) and for every other event: a fresh id each time', () => {
    let n = 0;
    const deps = fixedDeps({ newId: () => `00000000-0000-4000-8000-00000000000${n++}` });
    expect(toNotification(failed(undefined), deps)!.message_id).not.toBe(toNotification(failed(undefined), deps)!.message_id);
  });

  it('the incident is named the same by every monitor that holds the same fence record', () => {
    expect(incidentId('cmp1', { ...FENCE, at: AT })).toBe(incidentId('cmp1', JSON.parse(JSON.stringify({ ...FENCE, at: AT }))));
    expect(incidentId('cmp1', { ...FENCE, at: AT })).not.toBe(incidentId('cmp1', { ...FENCE, at: AT, by: 'other' }));
  });
});
