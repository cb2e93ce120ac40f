import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MonitorBeat } from '../../src/core/messages.js';
import { defaultCoreSettings, detectionBoundMs } from '../../src/core/settings.js';
import type { StatusSnapshot } from '../../src/core/status-snapshot.js';
import { encodeBeacon, encodeMonitor } from '../../src/wire/codec.js';
import { startOpsCluster, type OpsCluster } from '../helpers/ops-cluster.js';
import { hostState, status, waitForStatus } from '../helpers/processes.js';

/**
 * A compromised compute host, on real processes: three monitors, three beacons (fencing through
 * fence_fake), and a sender that holds compute-1's key file and nothing else. With compute-2's
 * beacon SIGKILLed it keeps sending heartbeats for compute-2 under a fresh boot id, and it forges
 * monitor heartbeats: votes for itself, a dead verdict on compute-3, a decision to fence compute-3,
 * a new boot id for each real monitor. Every one is dropped and counted as forged; compute-2 is
 * declared failed and fenced as if the sender were not there; compute-3 is never fenced; every real
 * monitor keeps its place in the quorum; and each monitor raises an alarm naming the sender.
 */
const hosts = ['compute-1', 'compute-2', 'compute-3'];
const BEACON_MS = 200;
const bound = detectionBoundMs(defaultCoreSettings('mon1', ['mon1', 'mon2', 'mon3']), BEACON_MS);
let c: OpsCluster;
const sock = createSocket('udp4');

beforeAll(async () => {
  c = await startOpsCluster({ monitors: 3, hosts, beaconIntervalMs: BEACON_MS });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
});

afterAll(async () => {
  sock.close();
  await c?.p.cleanup();
});

describe('a compute host holding only its own key', () => {
  it('cannot keep a dead host up, fence a live one, or speak for a monitor', async () => {
    const stolen = Buffer.from(readFileSync(c.layout.hosts.find((h) => h.name === 'compute-1')!.keyFile, 'utf8').trim(), 'utf8');
    const monitors = c.layout.monitors;
    const before = (await status(monitors[0]!.socket))!;
    const coordinator = before.cluster.coordinator;
    expect(coordinator).not.toBeNull();

    c.p.kill('compute-2');
    const fakeBoot = randomBytes(16).toString('hex');
    let seq = 0;
    let sentEach = 0;
    const forgedMonitorBeat = (from: string): MonitorBeat => ({
      from,
      bootId: randomBytes(16).toString('hex'), // a new boot id for a real monitor: would retire its real one
      seq,
      sentAtMs: Date.now(),
      hears: [from],
      vote: from, // votes for itself
      acting: true,
      epoch: 1_000_000 + seq,
      paused: false,
      verdicts: [{ host: 'compute-3', level: 'dead', bootId: fakeBoot }],
      decisions: [{ host: 'compute-3', state: 'fencing', bootId: fakeBoot, sinceMs: 0, fenceAttempts: 0 }],
      maintenance: [],
    });
    const sendAll = async (): Promise<void> => {
      seq++;
      const bufs = [
        encodeBeacon({ host: 'compute-2', bootId: fakeBoot, seq, sentAtMs: Date.now(), intervalMs: BEACON_MS, novaCompute: 'up' }, stolen),
        ...['compute-1', ...monitors.map((m) => m.id)].map((from) => encodeMonitor(forgedMonitorBeat(from), stolen)),
      ];
      for (const m of monitors) for (const b of bufs) await new Promise<void>((r) => sock.send(b, m.port, '127.0.0.1', () => r()));
      sentEach += bufs.length;
    };
    let attacking = true;
    const attack = (async () => {
      while (attacking) {
        await sendAll();
        await new Promise((r) => setTimeout(r, 50));
      }
    })();

    // A deadline far above the detection bound (not a measure of it): with every forgery accepted,
    // compute-2 would stay up for as long as the sender runs.
    const fenced = await waitForStatus(monitors[0]!.socket, (s) => hostState(s, 'compute-2') === 'fenced', bound + 20_000);
    // The sender keeps going a while longer, against a cluster that has already acted.
    await new Promise((r) => setTimeout(r, 1000));
    attacking = false;
    await attack;
    expect(fenced.ok, `compute-2 is ${hostState(fenced.snap, 'compute-2')}`).toBe(true);
    expect(readFileSync(c.powerFile('compute-2'), 'utf8').trim()).toBe('off');

    const snaps = await Promise.all(monitors.map(async (m) => (await status(m.socket))!));
    for (const [i, s] of snaps.entries()) {
      const id = monitors[i]!.id;
      expect(s.counters.dropped.forged, `${id} counted every forgery`).toBeGreaterThanOrEqual(sentEach * 0.99);
      expect(s.counters.dropped.unknown_sender, `${id}: none passed the seal`).toBe(0);
      expect(hostState(s, 'compute-3'), `${id}: compute-3`).toBe('up');
      expect(hostState(s, 'compute-1'), `${id}: compute-1`).toBe('up');
      // The real monitors keep their places: all heard, all voting, the same coordinator.
      expect(s.cluster.votes, `${id} votes`).toBe(3);
      expect(
        s.cluster.members.every((mem) => mem.live),
        JSON.stringify(s.cluster.members),
      ).toBe(true);
      expect(s.cluster.coordinator).toBe(coordinator);
      const alarms = s.alarms.filter((a) => a.kind === 'forged_datagrams').map((a) => a.message);
      expect(
        alarms.some((a) => /from 127\.0\.0\.1:\d+ claiming to be compute-2/.test(a)),
        alarms.join('\n'),
      ).toBe(true);
      expect(
        alarms.some((a) => /claiming to be mon\d/.test(a)),
        alarms.join('\n'),
      ).toBe(true);
    }
    expect(readFileSync(c.powerFile('compute-3'), 'utf8').trim()).toBe('on');
    const events = snaps.flatMap((s: StatusSnapshot) => s.recentEvents);
    expect(events.filter((e) => 'host' in e && e.host === 'compute-3')).toEqual([]);
    // The status API serves the same (which key each host seals with, the alarm), and the metrics the count.
    const api = (await (await fetch(`${c.api[monitors[0]!.id]}/api/status`)).json()) as StatusSnapshot;
    expect(api.hosts.map((h) => `${h.host}:${h.sealedWith}`)).toEqual(['compute-1:current', 'compute-2:current', 'compute-3:current']);
    expect(api.alarms.some((a) => a.kind === 'forged_datagrams' && a.message.includes('claiming to be compute-2'))).toBe(true);
    const metrics = await (await fetch(c.metrics[monitors[0]!.id]!)).text();
    expect(metrics).toMatch(/instance_ha_datagrams_dropped_total\{reason="forged"\} [1-9]/);
    expect(metrics).toMatch(/instance_ha_alarms\{kind="forged_datagrams"\} [1-9]/);
  }, 120_000);
});
