import type { FenceRecord, HostId } from '../core/events.js';
import { uuidV5 } from '../notify/message-id.js';

/**
 * How far before the verified fence the successor looks for the incident's evacuations in Nova: the
 * fence time is the coordinator's clock, Nova's records are the database's; NTP keeps them well
 * within this. An evacuation of the host is never older than its fence (the core orders them).
 */
export const INCIDENT_CLOCK_MARGIN_MS = 60_000;

/**
 * The incident's name, the same on every monitor: the host and its verified fence, as the
 * coordinator recorded it in the shared decision (who fenced, and when). Notification ids and the
 * journal are keyed by it; it is not a secret.
 */
export function incidentId(host: HostId, fence: FenceRecord): string {
  const when = fence.at !== undefined ? String(fence.at) : JSON.stringify(fence);
  return uuidV5(`incident\n${host}\n${fence.by}\n${when}`);
}

/** Nova prints UTC times without a zone (`2026-11-21T10:30:55.000000`); epoch ms, NaN if unreadable. */
export function novaTimeMs(s: string | null): number {
  if (!s) return NaN;
  return Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(s) ? s : `${s}Z`);
}
