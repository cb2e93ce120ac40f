import { describe, expect, it } from 'vitest';
import { encodeBeacon, encodeMonitor } from '../../src/wire/codec.js';
import { Admission } from '../../src/wire/admission.js';
import { deriveHostKey, KeyRing, type MonitorKeys } from '../../src/wire/keys.js';
import type { BeaconBeat, MonitorBeat } from '../../src/core/messages.js';
import { beat, BOOT_A, BOOT_B, k, NOW } from './beacon-beats.js';

const KEYS: MonitorKeys = {
  monitor: k('m'),
  monitorNext: k('n'),
  sealWith: 'current',
  beaconMaster: k('b'),
  beaconMasterNext: k('c'),
  legacyCluster: null,
};
const MAX_SKEW = 60_000;

function admission(keys: Partial<MonitorKeys> = {}): Admission {
  return new Admission({ self: 'm1', monitors: ['m1', 'm2'], keys: new KeyRing({ ...KEYS, ...keys }), maxClockSkewMs: MAX_SKEW });
}
const peer = (o: Partial<MonitorBeat> = {}): MonitorBeat => ({
  from: 'm2',
  bootId: BOOT_A,
  seq: 1,
  sentAtMs: NOW,
  hears: ['m1', 'm2'],
  vote: 'm2',
  acting: true,
  epoch: 1,
  paused: false,
  verdicts: [{ host: 'compute-3', level: 'dead', bootId: BOOT_A }],
  decisions: [{ host: 'compute-3', state: 'fencing', bootId: BOOT_A, sinceMs: 0, fenceAttempts: 0 }],
  maintenance: [],
  ...o,
});
const verdict = (a: ReturnType<Admission['admit']>) => (a.ok ? 'ok' : a.reason);

describe('admission: which key opens which datagram', () => {
  const compute1 = deriveHostKey(k('b'), 'compute-1');
  const compute2 = deriveHostKey(k('b'), 'compute-2');
  const rows: Array<[string, Buffer, string, Partial<MonitorKeys>?]> = [
    ["compute-2's heartbeat under compute-2's key", encodeBeacon(beat(), compute2), 'ok'],
    ["compute-2's heartbeat under compute-2's next key", encodeBeacon(beat(), deriveHostKey(k('c'), 'compute-2')), 'ok'],
    ["compute-2's heartbeat under compute-1's key", encodeBeacon(beat(), compute1), 'forged'],
    ["compute-2's heartbeat under the master key itself", encodeBeacon(beat(), k('b')), 'forged'],
    ["compute-2's heartbeat under the monitor key", encodeBeacon(beat(), k('m')), 'forged'],
    ['a monitor heartbeat under the monitor key', encodeMonitor(peer(), k('m')), 'ok'],
    ['a monitor heartbeat under the next monitor key', encodeMonitor(peer(), k('n')), 'ok'],
    ["a monitor heartbeat under compute-1's key", encodeMonitor(peer(), compute1), 'forged'],
    ['a monitor heartbeat under the master beacon key', encodeMonitor(peer(), k('b')), 'forged'],
    [
      "a monitor heartbeat under compute-1's key, legacy key accepted",
      encodeMonitor(peer(), compute1),
      'forged',
      { legacyCluster: k('L') },
    ],
    ['legacy: a heartbeat under the cluster key', encodeBeacon(beat(), k('L')), 'ok', { legacyCluster: k('L') }],
    [
      'legacy only: a heartbeat under another key',
      encodeBeacon(beat(), compute1),
      'bad_mac',
      { monitor: null, monitorNext: null, beaconMaster: null, beaconMasterNext: null, legacyCluster: k('L') },
    ],
    [
      'after the rollover: the old host key',
      encodeBeacon(beat(), deriveHostKey(k('c'), 'compute-2')),
      'forged',
      { beaconMasterNext: null },
    ],
  ];
  it.each(rows)('%s: %s', (_name, buf, want, keys) => {
    expect(verdict(admission(keys).admit(buf, 0, NOW, '10.0.0.1:7400'))).toBe(want);
  });

  it('remembers which key each sender seals with (status shows it during a rollover)', () => {
    const a = admission({ legacyCluster: k('L') });
    a.admit(encodeBeacon(beat({ host: 'compute-1' }), deriveHostKey(k('c'), 'compute-1')), 0, NOW);
    a.admit(encodeBeacon(beat({ host: 'compute-2' }), k('L')), 0, NOW);
    a.admit(encodeMonitor(peer(), k('m')), 0, NOW);
    expect(Object.fromEntries(a.keyInUse)).toEqual({ 'compute-1': 'next', 'compute-2': 'legacy', m2: 'current' });
  });

  it('raises an alarm naming the source address and the claimed host after a burst of forgeries', () => {
    const a = admission();
    const forged = (seq: number) => encodeBeacon(beat({ seq }), compute1);
    a.admit(forged(1), 0, NOW, '192.0.2.55:4000');
    expect(a.alarms(0).filter((x) => x.kind === 'forged_datagrams')).toEqual([]); // one could be a wrong key being fixed
    for (let i = 2; i <= 5; i++) a.admit(forged(i), i, NOW, '192.0.2.55:4000');
    const alarms = a.alarms(10).filter((x) => x.kind === 'forged_datagrams');
    expect(alarms).toHaveLength(1);
    expect(alarms[0]!.message).toContain('5 forged datagram(s) from 192.0.2.55:4000 claiming to be compute-2');
    // A forged datagram changes nothing: compute-2's real first heartbeat is still its first.
    expect(verdict(a.admit(encodeBeacon(beat(), compute2), 11, NOW))).toBe('ok');
  });

  it('names the monitor a forged monitor heartbeat claims to be', () => {
    const a = admission();
    for (let i = 1; i <= 3; i++) a.admit(encodeMonitor(peer({ seq: i }), compute1), i, NOW, '192.0.2.55:4000');
    expect(a.alarms(5).map((x) => x.message)).toEqual([expect.stringContaining('from 192.0.2.55:4000 claiming to be m2')]);
  });

  it("a forged heartbeat cannot retire a real monitor's boot id", () => {
    const a = admission();
    expect(verdict(a.admit(encodeMonitor(peer({ seq: 1 }), k('m')), 0, NOW))).toBe('ok');
    expect(verdict(a.admit(encodeMonitor(peer({ bootId: BOOT_B, seq: 1 }), compute1), 1, NOW))).toBe('forged');
    expect(verdict(a.admit(encodeMonitor(peer({ seq: 2 }), k('m')), 2, NOW))).toBe('ok');
  });
});

describe('admission: clock skew', () => {
  const key = deriveHostKey(k('b'), 'compute-2');
  const send = (a: Admission, o: Partial<BeaconBeat>, wallNow = NOW, at = 0) => verdict(a.admit(encodeBeacon(beat(o), key), at, wallNow));
  const FIVE_MIN = 5 * 60_000;

  const rows: Array<[string, Array<[Partial<BeaconBeat>, string]>]> = [
    [
      "a known boot whose sender's clock jumps minutes ahead is still heard",
      [
        [{ seq: 1 }, 'ok'],
        [{ seq: 2, sentAtMs: NOW + FIVE_MIN }, 'ok'],
        [{ seq: 3, sentAtMs: NOW + FIVE_MIN }, 'ok'],
      ],
    ],
    [
      "a known boot whose sender's clock jumps behind is still heard",
      [
        [{ seq: 1 }, 'ok'],
        [{ seq: 2, sentAtMs: NOW - FIVE_MIN }, 'ok'],
      ],
    ],
    [
      'a replayed datagram of the known boot is refused by its sequence number, whatever its time',
      [
        [{ seq: 10 }, 'ok'],
        [{ seq: 11, sentAtMs: NOW + FIVE_MIN }, 'ok'],
        [{ seq: 10 }, 'replay'],
        [{ seq: 11, sentAtMs: NOW + FIVE_MIN }, 'replay'],
      ],
    ],
    ['a first boot with a skewed time is refused (it could be an old recording)', [[{ seq: 1, sentAtMs: NOW - FIVE_MIN }, 'clock_skew']]],
    [
      'a new boot id with a skewed time is refused; the known boot goes on being heard',
      [
        [{ seq: 1 }, 'ok'],
        [{ bootId: BOOT_B, seq: 1, sentAtMs: NOW + FIVE_MIN }, 'clock_skew'],
        [{ seq: 2, sentAtMs: NOW + FIVE_MIN }, 'ok'],
      ],
    ],
    [
      'a new boot id within the bound is taken, and the old boot is never taken back',
      [
        [{ seq: 1 }, 'ok'],
        [{ bootId: BOOT_B, seq: 1, sentAtMs: NOW + 30_000 }, 'ok'],
        [{ seq: 2 }, 'replay'],
      ],
    ],
  ];
  it.each(rows)('%s', (_name, steps) => {
    const a = admission();
    expect(steps.map(([o]) => send(a, o))).toEqual(steps.map(([, want]) => want));
  });

  it('raises a clock_skew alarm naming the host and its offset, and clears it when the clock is fixed', () => {
    const a = admission();
    send(a, { seq: 1 });
    expect(a.alarms(0)).toEqual([]);
    send(a, { seq: 2, sentAtMs: NOW + FIVE_MIN }, NOW, 1);
    const alarm = a.alarms(2).find((x) => x.kind === 'clock_skew');
    expect(alarm?.message).toContain('host compute-2: clock +300.0s');
    send(a, { seq: 3, sentAtMs: NOW + 100 }, NOW, 3);
    expect(a.alarms(4)).toEqual([]);
  });

  it('a replayed old datagram does not pass for a skewed clock', () => {
    const a = admission();
    const old = encodeBeacon(beat({ seq: 1, sentAtMs: NOW }), key);
    expect(verdict(a.admit(old, 0, NOW))).toBe('ok');
    expect(verdict(a.admit(encodeBeacon(beat({ seq: 2, sentAtMs: NOW + FIVE_MIN }), key), 1, NOW + FIVE_MIN))).toBe('ok');
    expect(verdict(a.admit(old, 2, NOW + FIVE_MIN))).toBe('replay');
    expect(a.alarms(3)).toEqual([]);
  });

  it('names a host whose datagrams are refused for skew too (a new boot with a wrong clock)', () => {
    const a = admission();
    send(a, { seq: 1, sentAtMs: NOW - 2 * FIVE_MIN });
    expect(a.alarms(1).map((x) => x.message)).toEqual([expect.stringContaining('host compute-2: clock -600.0s')]);
  });
});
