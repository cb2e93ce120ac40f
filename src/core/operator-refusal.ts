import type { HostId } from './events.js';
import type { Input } from './effects.js';
import type { MassHold } from './mass-hold.js';
import type { HostDecision } from './messages.js';

/** The operator commands a monitor may refuse. */
export type OperatorInput = Extract<Input, { type: 'maintenance' | 'ack_mass_failure' | 'forget' | 'confirm_fenced' }>;

export interface OperatorView {
  self: string;
  acting: boolean;
  coordinator: string | null;
  /** Any trace of the host here: heard, in maintenance, or decided. */
  knows(host: HostId): boolean;
  decision(host: HostId): HostDecision | undefined;
  /** How long ago this monitor last heard a host it judges up, else null. */
  heardAgoMs(host: HostId): number | null;
  massHold: MassHold | null;
}

/**
 * Why an operator command is refused, in words that name the input and say what to do instead, or
 * null when it may go ahead. No command may weaken a safety guard by a slip: a mistyped host name,
 * an acknowledgement with nothing to acknowledge, or a confirmation for a host that is not stuck
 * changes nothing.
 */
export function operatorRefusal(input: OperatorInput, v: OperatorView): string | null {
  switch (input.type) {
    case 'maintenance':
      if (input.force || v.knows(input.host)) return null;
      return (
        `unknown host '${input.host}': no monitor here watches a host by that name (instance-ha status lists them); ` +
        'check the spelling, or pass --force to register a host that has not sent a heartbeat yet'
      );
    case 'ack_mass_failure': {
      if (!v.acting) return notCoordinator(v, 'only the coordinator holds hosts');
      const held = v.massHold?.hosts ?? [];
      if (held.length === 0)
        return 'nothing is held by the mass-failure guard: an acknowledgement now would change nothing, so it is refused';
      if (input.hosts && !input.hosts.some((h) => held.includes(h)))
        return `none of ${input.hosts.join(', ')} is held by the mass-failure guard; held now: ${held.join(', ')}`;
      return null;
    }
    case 'forget': {
      if (!v.knows(input.host)) return `unknown host '${input.host}': nothing to forget (instance-ha status lists the hosts)`;
      const state = v.decision(input.host)?.state;
      if (state === 'fencing' || state === 'recovering')
        return `${input.host} is ${state}: wait until that has ended (instance-ha status), then forget it`;
      return null;
    }
    case 'confirm_fenced': {
      if (!v.acting) return notCoordinator(v, 'only the coordinator acts on a fence');
      const state = v.decision(input.host)?.state;
      if (state !== 'fence_failed') {
        const now = state ?? (v.knows(input.host) ? 'not decided failed' : 'unknown here');
        return `${input.host} is ${now}: only a host whose fence failed (state fence_failed) can be confirmed powered off`;
      }
      const ago = v.heardAgoMs(input.host);
      if (ago !== null) return `${input.host} is sending heartbeats (last heard ${ago} ms ago): it is not powered off`;
      return null;
    }
    default: {
      const never: never = input;
      return `unknown command ${JSON.stringify(never)}`;
    }
  }
}

function notCoordinator(v: OperatorView, why: string): string {
  const where = v.coordinator ? `run it on the coordinator, ${v.coordinator}` : 'there is no coordinator now (no quorum)';
  return `this monitor (${v.self}) is not the acting coordinator and ${why}: ${where}`;
}
