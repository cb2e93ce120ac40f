import { COMPUTE_DOWN_REASON_PREFIX } from '../core/compute-down.js';
import type { ComputeServiceControl } from '../core/ports.js';
import type { ComputeClient } from '../openstack/compute.js';

export type ServiceCompute = Pick<ComputeClient, 'findService' | 'setServiceEnabled'>;

/**
 * The compute API edge of the compute-down rule. It reads the service before each change, so that an
 * operator's disable is never overwritten (its reason kept) nor lifted (enable only while the reason is
 * still ours). The read and the write are two calls: an operator disabling in between is overwritten
 * by our enable, a window of one request that Nova's API gives no way to close (no compare-and-set).
 */
export function createComputeServiceControl(compute: ServiceCompute): ComputeServiceControl {
  return {
    async disable(host, reason, signal) {
      try {
        const svc = await compute.findService(host, signal);
        if (!svc) return { ok: false, reason: `no nova-compute service for host '${host}' in the compute API` };
        if (svc.status === 'disabled' && !(svc.disabledReason ?? '').startsWith(COMPUTE_DOWN_REASON_PREFIX))
          return { ok: true, already: true };
        if (svc.status !== 'disabled') await compute.setServiceEnabled(host, false, reason, signal);
        return { ok: true, already: false };
      } catch (err) {
        return { ok: false, reason: err instanceof Error ? err.message : String(err) };
      }
    },
    async enableIfOurs(host, signal) {
      try {
        const svc = await compute.findService(host, signal);
        if (!svc) return { ok: false, reason: `no nova-compute service for host '${host}' in the compute API` };
        if (svc.status !== 'disabled') return { ok: true, enabled: false, note: 'the service was already enabled' };
        if (!(svc.disabledReason ?? '').startsWith(COMPUTE_DOWN_REASON_PREFIX))
          return { ok: true, enabled: false, note: `left disabled: its reason is not instance-ha's (${svc.disabledReason ?? 'none'})` };
        await compute.setServiceEnabled(host, true, undefined, signal);
        return { ok: true, enabled: true, note: 'enabled' };
      } catch (err) {
        return { ok: false, reason: err instanceof Error ? err.message : String(err) };
      }
    },
  };
}
