import type { MonitorConfig } from '../config/monitor-config.js';
import type { MonitorDaemon } from '../daemon/monitor.js';
import type { Logger } from '../log.js';
import { createComputeClient } from '../openstack/factory.js';
import { AutoUnfencer, unfenceHost } from '../recovery/index.js';
import { archiveJournal } from '../recovery/journal.js';

const CHECK_INTERVAL_MS = 1000;

/**
 * The opt-in `recovery.unfence.auto`: the acting coordinator watches every recovered host; once it
 * beats again with a new boot id and a live nova-compute for the quiet period, it is returned to
 * service in Nova and watched again. Returns a stop function (a no-op when not enabled).
 */
export function startAutoUnfence(cfg: MonitorConfig, monitor: MonitorDaemon, log: Logger): () => void {
  const rec = cfg.recovery;
  if (!rec?.recovery.unfence.auto) return () => {};
  const compute = createComputeClient(rec.compute, { log });
  const auto = new AutoUnfencer({
    cfg: rec.recovery.unfence,
    log,
    unfence: async (host, signal) => {
      const res = await unfenceHost(host, {}, { compute, log, cfg: rec.recovery.unfence, isHealthy: async (h) => healthy(monitor, h) }, signal);
      if (res.ok) {
        archiveJournal(rec.recovery.journalDir, host, Date.now());
        if (monitor.acting()) monitor.command({ type: 'clear', at: monitor.nowMs(), host, by: 'auto-unfence' });
        log.info({ host, attempts: res.attempts, durationMs: res.durationMs }, 'host returned to service automatically');
      }
      return res;
    },
  });
  const timer = setInterval(() => {
    if (!monitor.acting()) return;
    for (const d of monitor.core.coordinator.decisionList()) {
      if (d.state !== 'recovered') continue;
      auto.markFenced(d.host);
      if (healthy(monitor, d.host, d.bootId)) auto.hostHealthy(d.host);
      else auto.hostUnhealthy(d.host);
    }
  }, CHECK_INTERVAL_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    auto.stop();
  };
}

/** Beating now, in a new life (not the boot that failed), with nova-compute running. */
function healthy(monitor: MonitorDaemon, host: string, failedBootId?: string): boolean {
  const t = monitor.core.tracks.get(host);
  return !!t && t.heard && t.level === 'up' && t.novaCompute === 'up' && (failedBootId === undefined || t.bootId !== failedBootId);
}
