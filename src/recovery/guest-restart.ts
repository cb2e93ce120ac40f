import type { GuestRestarter } from '../core/ports.js';
import type { ComputeClient } from '../openstack/compute.js';

export type RebootCompute = Pick<ComputeClient, 'getServer' | 'rebootHard'>;

/**
 * The compute API edge of the guest-crash rule (core/guest-failures.ts). It reads the server first:
 * only one tagged `tag` (automatic-recovery) and placed by Nova on the host that reported the crash is
 * restarted, so a host can never make the coordinator restart another host's server. The restart is
 * a hard reboot (see ComputeClient.rebootHard for why not os-stop/os-start).
 */
export function createGuestRestarter(compute: RebootCompute, tag: string): GuestRestarter {
  return {
    async restart(host, instance, signal) {
      try {
        const srv = await compute.getServer(instance, signal);
        if (!srv) return { outcome: 'gone', reason: `no server ${instance} in the compute API` };
        if (srv.host !== host) return { outcome: 'not_on_host', reason: `Nova places it on ${srv.host ?? 'no host'}, not on ${host}` };
        if (!srv.tags.includes(tag)) return { outcome: 'not_tagged', reason: `not tagged ${tag}: notified only` };
        await compute.rebootHard(instance, signal);
        return { outcome: 'restarted', reason: `hard reboot accepted (was ${srv.status})` };
      } catch (err) {
        return { outcome: 'failed', reason: err instanceof Error ? err.message : String(err) };
      }
    },
  };
}
