import type { ClusterEvent } from '../../core/events.js';

/** One narrated step of the demo: what happened, when (since the host was killed), and how long it took. */
export interface StoryStep {
  sinceKillMs: number;
  stepMs: number;
  what: string;
  detail: string;
}

/** A stable identity for an event seen in several status polls (and from several monitors). */
export function eventKey(e: ClusterEvent): string {
  const server = 'server' in e ? e.server.id : '';
  const host = 'host' in e ? e.host : '';
  return `${e.type}|${host}|${server}|${Math.round(e.at)}`;
}

/** The events a person watching the demo cares about, in words. Others return null. */
export function storyStep(e: ClusterEvent): { what: string; detail: string } | null {
  switch (e.type) {
    case 'host.compute_down':
      return {
        what: 'COMPUTE DOWN',
        detail: `${e.host}: nova-compute down ${Math.round(e.downForMs / 1000)} s on a live host; disabling its service (no fence)`,
      };
    case 'host.compute_up':
      return {
        what: 'compute up',
        detail: `${e.host}: nova-compute back; service ${e.serviceEnabled ? 'enabled again' : `left: ${e.note}`}`,
      };
    case 'instance.guest_failed':
      return {
        what: 'GUEST FAILED',
        detail: `${e.instance.slice(0, 8)} on ${e.host}: libvirt ${e.event} ${e.detail}${e.action ? ` [${e.action}]` : ''}; ${
          e.recovery === 'restart' ? 'restarting its server (hard reboot, if tagged)' : `not restarted: ${e.recovery}`
        }`,
      };
    case 'instance.guest_restarted':
      return {
        what: e.outcome === 'restarted' ? 'guest restarted' : `guest ${e.outcome}`,
        detail: `${e.instance.slice(0, 8)}: ${e.reason}`,
      };
    case 'host.suspect':
      return { what: 'suspect', detail: `${e.host}: a quorum of monitors stopped hearing it` };
    case 'host.failed':
      return { what: 'FAILED (quorum)', detail: `${e.host}: dead for ${e.votes.join(', ')}; no monitor hears it` };
    case 'host.fencing':
      return { what: 'fencing', detail: `${e.host}: powering off through its fence devices (attempt ${e.attempt})` };
    case 'host.fenced':
      return {
        what: 'fenced',
        detail:
          `${e.host}: level ${e.record.level ?? '?'}, ${e.record.agent ?? '?'} ${e.record.devices?.join('+') ?? ''}, ` +
          `off verified in ${Math.round(e.record.durationMs)} ms (by ${e.record.by})`,
      };
    case 'host.fence_failed':
      return {
        what: 'FENCE FAILED',
        detail: `${e.host}: ${e.record.error ?? 'fence devices failed'}; retry in ${Math.round(e.retryInMs / 1000)} s; its instances are NOT recovered`,
      };
    case 'host.recovery_start':
      return { what: 'recovery', detail: `${e.host}: compute service forced down, evacuating selected servers` };
    case 'instance.evacuate_start':
      return {
        what: 'evacuate',
        detail: `${e.server.name} (${e.server.id.slice(0, 8)}) from ${e.host}${e.attempt > 1 ? `, attempt ${e.attempt}` : ''}`,
      };
    case 'instance.evacuate_end':
      return { what: 'ACTIVE', detail: `${e.server.name} running on ${e.targetHost} (${Math.round(e.durationMs)} ms)` };
    case 'instance.evacuate_error':
      return { what: e.final ? 'EVACUATE FAILED' : 'evacuate retry', detail: `${e.server.name}: ${e.reason}` };
    case 'instance.not_selected':
      return {
        what: 'notified',
        detail: `${e.server.name}: not selected for automatic recovery (${e.reason}); instance_ha.instance.failed published`,
      };
    case 'host.recovery_end':
      return {
        what: 'recovery complete',
        detail:
          `${e.host}: ${e.summary.evacuated}/${e.summary.selected} evacuated, ${e.summary.failed} failed, ` +
          `${e.summary.notified} notified${e.summary.error ? ` (${e.summary.error})` : ''}`,
      };
    case 'cluster.mass_failure':
      return {
        what: 'MASS FAILURE HELD',
        detail: `${e.hosts.join(', ')}: ${e.limit}; nothing fenced until an operator runs ack-mass-failure`,
      };
    case 'cluster.mass_failure_cleared':
      return {
        what: 'mass failure cleared',
        detail:
          e.how === 'acknowledged'
            ? `acknowledged by ${e.by ?? 'the operator'}: ${e.hosts.join(', ')} released`
            : e.how === 'hosts_returned'
              ? `the hosts came back: ${e.hosts.join(', ')}`
              : 'the held hosts were put in maintenance or forgotten',
      };
    case 'cluster.quorum_lost':
      return { what: 'QUORUM LOST', detail: `hears ${e.votes} of ${e.needed} needed monitors: declaring nothing` };
    case 'cluster.quorum_regained':
      return { what: 'quorum regained', detail: `hears ${e.votes} monitors, ${e.needed} needed` };
    default:
      return null;
  }
}

export function formatTable(steps: readonly StoryStep[]): string {
  const rows = [
    ['T+ (s)', 'STEP (s)', 'WHAT', 'DETAIL'],
    ...steps.map((s) => [(s.sinceKillMs / 1000).toFixed(2), (s.stepMs / 1000).toFixed(2), s.what, s.detail]),
  ];
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => [r[0]!.padStart(widths[0]!), r[1]!.padStart(widths[1]!), r[2]!.padEnd(widths[2]!), r[3]!].join('  ')).join('\n');
}
