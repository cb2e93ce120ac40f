import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeClusterFiles, type ClusterLayout } from '../../src/testbed/demo/cluster-files.js';
import { encodeBeacon, encodeMonitor } from '../../src/wire/codec.js';
import { deriveHostKey } from '../../src/wire/keys.js';
import { Rng } from '../../src/testbed/sim/rng.js';
import { clusterBasePort } from '../helpers/ports.js';
import { Processes, status, waitForStatus } from '../helpers/processes.js';

/**
 * Thousands of hostile datagrams at a live monitor: random, truncated, oversized, bit-flipped,
 * forged with another key, and replays of genuine ones. Each is counted and dropped; the daemon
 * stays up and no host's state moves.
 */
let p: Processes;
let layout: ClusterLayout;
let monitorKey: Buffer;
let master: Buffer;
const sock = createSocket('udp4');

beforeAll(async () => {
  p = new Processes();
  layout = writeClusterFiles(p.dir, { monitors: 1, hosts: ['cmp1', 'cmp2'], basePort: await clusterBasePort(1) });
  const read = (f: string) => Buffer.from(readFileSync(f, 'utf8').replace(/\n$/, ''), 'utf8');
  monitorKey = read(layout.monitorKeyFile);
  master = read(layout.beaconMasterKeyFile);
  p.start('mon1', ['monitor', '--config', layout.monitors[0]!.config]);
  for (const h of layout.hosts) p.start(h.name, ['beacon', '--config', h.config]);
  const ok = await waitForStatus(
    layout.monitors[0]!.socket,
    (s) => s.hosts.every((h) => h.lastHeartbeatAgeMs !== null && h.state === 'up') && s.hosts.length === 2,
    10_000,
  );
  expect(ok.ok).toBe(true);
});

afterAll(async () => {
  sock.close();
  await p?.cleanup();
});

function send(buf: Buffer): Promise<void> {
  return new Promise((resolve) => sock.send(buf, layout.monitors[0]!.port, '127.0.0.1', () => resolve()));
}

describe('hostile datagrams', () => {
  it('are counted and dropped without crashing the monitor or changing any state', async () => {
    const rng = new Rng(20261121);
    const bootId = randomBytes(16).toString('hex');
    const genuine = (seq: number, host = 'cmp1') =>
      encodeBeacon({ host, bootId, seq, sentAtMs: Date.now(), intervalMs: 500, novaCompute: 'up' }, deriveHostKey(master, host));
    const otherKey = randomBytes(32);
    const sent = { malformed: 0, forged: 0, oversized: 0, replay: 0 };
    // One genuine heartbeat from a host that does not exist yet, which we then replay many times.
    const recorded = genuine(1, 'ghost-replayed');
    await send(recorded);
    for (let i = 0; i < 4000; i++) {
      switch (i % 8) {
        case 0:
          await send(randomBytes(1 + rng.int(1400)));
          sent.malformed++; // random bytes almost never even carry the magic
          break;
        case 1: {
          const g = genuine(1000 + i);
          await send(g.subarray(0, rng.int(g.length)));
          sent.malformed++;
          break;
        }
        case 2: {
          const g = Buffer.from(genuine(1000 + i, 'ghost-flipped'));
          g[5 + rng.int(g.length - 5)]! ^= 1 << rng.int(8);
          await send(g);
          sent.forged++;
          break;
        }
        case 3:
          await send(
            encodeBeacon({ host: 'ghost-forged', bootId, seq: i, sentAtMs: Date.now(), intervalMs: 500, novaCompute: 'up' }, otherKey),
          );
          sent.forged++;
          break;
        case 4:
          await send(
            encodeMonitor(
              {
                from: 'mon1',
                bootId: 'x',
                seq: i,
                sentAtMs: Date.now(),
                hears: [],
                vote: null,
                acting: true,
                epoch: 99,
                paused: false,
                verdicts: [{ host: 'cmp1', level: 'dead', bootId: 'x' }],
                decisions: [{ host: 'cmp2', state: 'fenced', bootId: 'x', sinceMs: 0, fenceAttempts: 1 }],
                maintenance: [],
              },
              otherKey,
            ),
          );
          sent.forged++;
          break;
        case 5:
          await send(recorded);
          sent.replay++;
          break;
        case 6:
          if (i % 64 === 6) {
            await send(Buffer.concat([Buffer.from('IHA\x01\x01'), randomBytes(60_100)]));
            sent.oversized++;
          } else {
            await send(Buffer.concat([Buffer.from('IHA\x01'), randomBytes(rng.int(300))]));
            sent.malformed++;
          }
          break;
        case 7: {
          // A monitor beat from a monitor that is not configured, sealed with the right key.
          await send(
            encodeMonitor(
              {
                from: 'intruder',
                bootId: 'x',
                seq: i,
                sentAtMs: Date.now(),
                hears: [],
                vote: null,
                acting: true,
                epoch: 99,
                paused: false,
                verdicts: [],
                decisions: [{ host: 'cmp2', state: 'fenced', bootId: 'x', sinceMs: 0, fenceAttempts: 1 }],
                maintenance: [],
              },
              monitorKey,
            ),
          );
          break;
        }
      }
    }
    const s = await waitForStatus(layout.monitors[0]!.socket, (x) => x.counters.dropped.replay >= sent.replay, 5000);
    expect(p.alive('mon1')).toBe(true);
    const d = s.snap!.counters.dropped;
    expect(d.replay).toBe(sent.replay);
    // Wrong seals are forgeries (the host's key picked from the name it claims, then checked); a flipped
    // bit in the magic, a length or the health byte reads as malformed instead.
    expect(d.forged).toBeGreaterThanOrEqual(sent.forged * 0.9);
    expect(d.forged + d.malformed).toBeGreaterThanOrEqual(sent.forged + sent.malformed - 5);
    expect(d.bad_mac).toBe(0);
    expect(d.oversized).toBeGreaterThan(0);
    expect(d.unknown_sender).toBe(500);
    // A burst of forgeries is an alarm naming where they come from and whom they claim to be.
    const forgedAlarm = s.snap!.alarms.find((a) => a.kind === 'forged_datagrams' && a.message.includes('claiming to be ghost-forged'));
    expect(forgedAlarm?.message, JSON.stringify(s.snap!.alarms)).toMatch(/from 127\.0\.0\.1:\d+ claiming/);
    const hosts = s.snap!.hosts.map((h) => [h.host, h.state]);
    expect(hosts).toEqual([
      ['cmp1', 'up'],
      ['cmp2', 'up'],
      ['ghost-replayed', expect.any(String)],
    ]);
    const events = (await status(layout.monitors[0]!.socket))!.recentEvents;
    expect(events.filter((e) => 'host' in e && (e.host === 'cmp1' || e.host === 'cmp2'))).toEqual([]);
  });
});
