import type { MonitorConfig } from '../daemon/monitor-config.js';
import type { Unfencer } from '../core/ports.js';
import type { Logger } from '../log.js';
import { createComputeClient } from '../openstack/factory.js';
import { unfenceHost } from '../recovery/index.js';
import { archiveJournal } from '../recovery/journal.js';

/**
 * The edge behind the opt-in `recovery.unfence.auto`. When to unfence is the core's rule (a recovered
 * host healthy again for the quiet period, see core/auto-unfence.ts); this only does it in Nova
 * (clear forced-down, enable; Nova's 400 while done evacuations remain is retried) and archives the
 * host's recovery journal. Null when not enabled.
 */
export function createUnfencer(cfg: MonitorConfig, log: Logger): Unfencer | null {
  const rec = cfg.recovery;
  if (!rec?.recovery.unfence.auto) return null;
  const compute = createComputeClient(rec.compute, { log });
  return {
    async unfence(host, signal) {
      const res = await unfenceHost(host, {}, { compute, log, cfg: rec.recovery.unfence }, signal);
      if (!res.ok) return { ok: false, reason: res.reason };
      archiveJournal(rec.recovery.journalDir, host, Date.now());
      log.info({ host, attempts: res.attempts, durationMs: res.durationMs }, 'host returned to service automatically');
      return { ok: true };
    },
  };
}
