import { createHash } from 'node:crypto';

/**
 * Deterministic notification ids. A notification that a successor coordinator (or a retried recovery)
 * may publish again for the same incident gets a name-based UUID (RFC 9562 version 5) of
 * (incident, event type, server), so the repeat carries the SAME message_id and oslo's listener, or
 * any consumer de-duplicating on message_id, drops it. Every other notification keeps a random id.
 */

/** Our own UUID namespace for these names (a fixed random UUID; never change it: ids would change). */
const NAMESPACE = 'b0f7c1d2-5a3e-4c6b-9e8f-1a2b3c4d5e6f';

export function uuidV5(name: string, namespace = NAMESPACE): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const h = createHash('sha1').update(ns).update(name, 'utf8').digest().subarray(0, 16);
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** The message id of a once-per-incident, once-per-server notification. */
export function incidentMessageId(incident: string, eventType: string, serverId: string): string {
  return uuidV5(`${incident}\n${eventType}\n${serverId}`);
}
