import type { HostTrack } from './detector.js';
import type { BeaconBeat, LeftMark } from './messages.js';
import type { VoterView } from './tally.js';

/**
 * The rules of a clean stop (a beacon's "leaving", codec kind 5), pure functions over a host's track.
 *
 * Why a leaving is trusted at all: it is sealed with the host's own key (a host says leaving for
 * itself only), it passed the replay guard on its boot and sequence number, and the core takes it only
 * for the boot this monitor hears now with a sequence number past the last heartbeat. So a recorded
 * leaving of an earlier boot, played back later, names a boot that is no longer the host's and
 * silences nothing.
 *
 * Why one monitor's copy is enough: the leaving is the host's own authenticated word, not a monitor's
 * judgement, so there is nothing to vote on. What quorum protects against is a monitor that did NOT
 * receive it fencing the host alone: every monitor carries its marks in its view (LeftMark), every
 * other monitor adopts them under the same boot rule, and the coordinator takes a host as left only
 * while no monitor's verdict names another boot (clusterLeft).
 */
export type LeavingOutcome = 'left' | 'already_left' | 'stale' | 'other_boot' | 'never_heard';

/** Whether a leaving datagram marks its host left here (and the track takes its sequence number). */
export function acceptLeaving(t: HostTrack | undefined, beat: BeaconBeat): LeavingOutcome {
  if (!t || !t.heard) return 'never_heard';
  if (t.bootId !== beat.bootId) return 'other_boot';
  if (beat.seq <= t.lastSeq) return 'stale';
  // The repeats of one leaving: only the sequence number moves on.
  const already = t.left !== null && t.left.bootId === beat.bootId;
  t.left = { host: beat.host, bootId: beat.bootId, seq: beat.seq, sentAtMs: beat.sentAtMs };
  t.lastSeq = beat.seq;
  return already ? 'already_left' : 'left';
}

/** A heartbeat (already recorded, not stale) ends a clean stop when it is of another boot or later in the same one. */
export function heartbeatEndsLeft(left: LeftMark, beat: Pick<BeaconBeat, 'bootId' | 'seq'>): boolean {
  return beat.bootId !== left.bootId || beat.seq > left.seq;
}

/**
 * Whether a peer's mark is taken here: not when this monitor has heard the host in another boot, nor
 * heard it after the leaving in the same one (it came back), nor when it holds a mark already.
 */
export function adoptable(t: HostTrack, mark: LeftMark): boolean {
  if (t.left !== null) return false;
  if (!t.heard) return true;
  return t.bootId === mark.bootId && t.lastSeq <= mark.seq;
}

/**
 * The host counts as left for a decision: this monitor holds a mark and no voter's verdict on the
 * host names another boot (a monitor that heard the host come back in a new boot and then go silent
 * sees a new failure, which must be judged as one, whatever a stale mark elsewhere says).
 */
export function clusterLeft(left: LeftMark | null, host: string, voters: readonly VoterView[]): boolean {
  if (left === null) return false;
  for (const v of voters) {
    const verdict = v.verdicts.get(host);
    if (verdict && verdict.bootId && verdict.bootId !== left.bootId) return false;
  }
  return true;
}
