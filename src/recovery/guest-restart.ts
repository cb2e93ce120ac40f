import type { GuestRestarter } from '../core/ports.js';
import type { ComputeClient } from '../openstack/compute.js';

export type RebootCompute = Pick<ComputeClient, 'getServer' | 'rebootHard' | 'listInstanceActions' | 'userId'>;

/** guest_restart.max_restarts and .window: the budget, counted again here on Nova's record. */
export interface NovaRestartBudget {
  maxRestarts: number;
  windowMs: number;
}

/**
 * The compute API edge of the guest-crash rule (core/guest-failures.ts). It reads the server first:
 * only one tagged `tag` (automatic-recovery) and placed by Nova on the host that reported the crash is
 * restarted, so a host can never make the coordinator restart another host's server. The restart is
 * a hard reboot (see ComputeClient.rebootHard for why not os-stop/os-start).
 *
 * The core keeps the restart budget in the acting coordinator's memory, which a failover or a restart
 * of that monitor empties. So before a reboot this edge also counts the reboots Nova's action history
 * records for the server in the window, asked by the user instance-ha acts as (any user's, when
 * Keystone did not name ours), and answers `budget_exhausted` at the limit: a crash loop stays a
 * notification whichever monitor acts. A history Nova does not give leaves the core's count alone
 * (said in the reason).
 */
export function createGuestRestarter(
  compute: RebootCompute,
  tag: string,
  budget: NovaRestartBudget | null = null,
  now: () => number = Date.now,
): GuestRestarter {
  return {
    async restart(host, instance, signal) {
      try {
        const srv = await compute.getServer(instance, signal);
        if (!srv) return { outcome: 'gone', reason: `no server ${instance} in the compute API` };
        if (srv.host !== host) return { outcome: 'not_on_host', reason: `Nova places it on ${srv.host ?? 'no host'}, not on ${host}` };
        if (!srv.tags.includes(tag)) return { outcome: 'not_tagged', reason: `not tagged ${tag}: notified only` };
        let note = '';
        if (budget) {
          const counted = await rebootsInWindow(compute, instance, budget, now(), signal);
          if (typeof counted === 'string') note = `; ${counted}`;
          else if (counted >= budget.maxRestarts)
            return {
              outcome: 'budget_exhausted',
              reason:
                `Nova records ${counted} reboot(s) of it by instance-ha in the last ${Math.round(budget.windowMs / 60_000)} min ` +
                `(max_restarts ${budget.maxRestarts}, some by an earlier coordinator): not restarted, notified only`,
            };
        }
        await compute.rebootHard(instance, signal);
        return { outcome: 'restarted', reason: `hard reboot accepted (was ${srv.status})${note}` };
      } catch (err) {
        return { outcome: 'failed', reason: err instanceof Error ? err.message : String(err) };
      }
    },
  };
}

/** Reboots of the server in the window by our user (all users' when ours is unknown), or why they could not be read. */
async function rebootsInWindow(
  compute: RebootCompute,
  instance: string,
  budget: NovaRestartBudget,
  nowMs: number,
  signal: AbortSignal,
): Promise<number | string> {
  try {
    const [actions, me] = await Promise.all([
      compute.listInstanceActions(instance, nowMs - budget.windowMs, signal),
      compute.userId(signal),
    ]);
    if (actions === null) return 'its action history is gone';
    return actions.filter((a) => a.action === 'reboot' && (me === null || a.userId === me)).length;
  } catch (err) {
    if (signal.aborted) throw err;
    return `Nova's action history unreadable (${err instanceof Error ? err.message : String(err)}): budget counted by this coordinator alone`;
  }
}
