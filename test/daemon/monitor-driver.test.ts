import { describe, expect, it } from 'vitest';
import type { PersistedState } from '../../src/core/effects.js';
import { defaultCoreSettings } from '../../src/core/settings.js';
import { EventBus } from '../../src/daemon/event-bus.js';
import { MonitorDaemon } from '../../src/daemon/monitor.js';
import type { StateStore } from '../../src/daemon/state-store.js';
import type { Fencer } from '../../src/core/ports.js';
import { silentLogger } from '../../src/log.js';
import { SimProcess, VirtualTime } from '../../src/testbed/clock/virtual-time.js';
import { MemoryNetwork } from '../../src/testbed/net/memory-network.js';
import { Rng } from '../../src/testbed/sim/rng.js';

/** The driver on its own: one monitor on virtual time, with a disk and a sink that can fail. */
class FlakyStore implements StateStore {
  readonly where = '/var/lib/instance-ha/monitor-state.json';
  failing = false;
  saved: PersistedState[] = [];
  load(): PersistedState | undefined {
    return undefined;
  }
  save(state: PersistedState): void {
    if (this.failing) throw new Error('ENOSPC: no space left on device, write');
    this.saved.push(structuredClone(state));
  }
}

function oneMonitor(store: StateStore, bus = new EventBus(silentLogger()), fencer?: Fencer) {
  const time = new VirtualTime();
  const proc = new SimProcess('m1', time);
  const net = new MemoryNetwork(time, new Rng(1), { loss: 0, duplicate: 0, minDelayMs: 0, maxDelayMs: 0 });
  const settings = {
    id: 'm1',
    listen: [MemoryNetwork.address('m1')],
    monitors: [{ id: 'm1', address: MemoryNetwork.address('m1') }],
    keys: {
      monitor: Buffer.alloc(32, 7),
      monitorNext: null,
      sealWith: 'current' as const,
      beaconMaster: Buffer.alloc(32, 8),
      beaconMasterNext: null,
      legacyCluster: null,
    },
    hosts: ['h1'],
    maxClockSkewMs: 60_000,
    core: {
      ...defaultCoreSettings('m1', ['m1']),
      fencing: {
        enabled: !!fencer,
        retryBaseMs: 2000,
        retryMaxMs: 8000,
        ...(fencer?.checkPower ? { powerCheck: { maxInFlight: 4 } } : {}),
      },
    },
  };
  const daemon = new MonitorDaemon({
    settings,
    clock: proc.clock(),
    transport: net.endpoint('m1', (d) => proc.run(d)),
    store,
    bus,
    log: silentLogger(),
    bootId: 'a'.repeat(32),
    ...(fencer ? { fencer } : {}),
  });
  const runUntil = (ms: number): void => {
    while (time.runNext(ms));
  };
  return { daemon, time, runUntil };
}

const alarm = (d: MonitorDaemon, kind: string) => d.snapshot().alarms.find((a) => a.kind === kind);

describe('the monitor driver', () => {
  it('raises state_write_failed while the state cannot be written, keeps retrying, and clears it once a write succeeds', async () => {
    const store = new FlakyStore();
    store.failing = true;
    const { daemon, runUntil } = oneMonitor(store);
    await daemon.start();
    // An operator's mark is durable state: the driver must try to write it at once.
    daemon.command({ type: 'maintenance', at: 10, host: 'h1', on: true, by: 'test' });
    const raised = alarm(daemon, 'state_write_failed');
    expect(raised?.message).toContain('/var/lib/instance-ha/monitor-state.json');
    expect(raised?.message).toContain('ENOSPC');
    expect(daemon.snapshot().alarms.length).toBeGreaterThan(0); // status exits 1 on any alarm
    runUntil(5_000);
    expect(alarm(daemon, 'state_write_failed')?.message).toMatch(/\(\d+ tries\)/);
    store.failing = false;
    runUntil(7_000);
    expect(alarm(daemon, 'state_write_failed')).toBeUndefined();
    expect(store.saved.at(-1)?.maintenance).toEqual([expect.objectContaining({ host: 'h1', on: true })]);
  });

  it('contains a sink that throws: the other sinks still get every event, and status shows the failure', async () => {
    const bus = new EventBus(silentLogger());
    const got: string[] = [];
    bus.subscribe('broken', {
      publish() {
        throw new Error('sink exploded');
      },
    });
    bus.subscribe('good', { publish: (ev) => got.push(ev.type) });
    const { daemon, runUntil } = oneMonitor(new FlakyStore(), bus);
    await daemon.start();
    runUntil(1000);
    expect(got).toContain('cluster.quorum_regained');
    expect(alarm(daemon, 'event_sink_failed')?.message).toContain("'broken'");
    expect(daemon.snapshot().recentEvents.map((e) => e.type)).toContain('cluster.quorum_regained');
  });

  it('holds a fence while its decision cannot be written, says so in status, and fences once when the write succeeds', async () => {
    const store = new FlakyStore();
    store.failing = true;
    const fenced: string[] = [];
    const fencer: Fencer = {
      fence: (host) => {
        fenced.push(host);
        return Promise.resolve({ ok: true, durationMs: 1, attempts: [], by: 'm1' });
      },
    };
    const { daemon, runUntil } = oneMonitor(store, new EventBus(silentLogger()), fencer);
    await daemon.start();
    // h1 never beats: declared failed once its silence passes the detector's bound.
    runUntil(20_000);
    expect(daemon.core.coordinator.decision('h1')?.state).toBe('fencing');
    expect(fenced, 'no fence before the decision is on disk').toEqual([]);
    expect(alarm(daemon, 'state_write_failed')).toBeDefined();
    expect(alarm(daemon, 'action_held')?.message).toMatch(
      /^fencing h1: waits for the state write to \/var\/lib\/instance-ha\/monitor-state\.json/,
    );
    store.failing = false;
    runUntil(22_000);
    await Promise.resolve();
    expect(fenced).toEqual(['h1']);
    expect(alarm(daemon, 'action_held')).toBeUndefined();
    expect(alarm(daemon, 'state_write_failed')).toBeUndefined();
    // The decision that was on disk before the fence ran is the one the fence belongs to.
    expect(store.saved.some((s) => s.decisions.some((d) => d.host === 'h1' && d.state === 'fencing'))).toBe(true);
  });

  it('raises power_check_failed when a silent host cannot be read, counts every check, and clears once its fence succeeds', async () => {
    let fenceOk = false;
    const fencer: Fencer = {
      fence: () =>
        Promise.resolve({ ok: fenceOk, durationMs: 1, attempts: [], by: 'm1', ...(fenceOk ? {} : { error: 'bmc-h1 timed out' }) }),
      checkPower: () => Promise.resolve({ off: false, read: false, detail: 'bmc-h1=failed (timed out)' }),
    };
    const { daemon, runUntil } = oneMonitor(new FlakyStore(), new EventBus(silentLogger()), fencer);
    await daemon.start();
    // h1 never beats: suspect after two missed heartbeats, when the power check is asked.
    runUntil(1_400);
    await new Promise((r) => setImmediate(r));
    expect(daemon.snapshot().counters.powerChecks).toEqual({ off: 0, on: 0, unread: 1 });
    const raised = alarm(daemon, 'power_check_failed');
    expect(raised?.message).toMatch(/^could not read the power state of silent host h1: bmc-h1=failed \(timed out\);/);
    expect(raised?.since).toMatch(/^\d{4}-\d\d-\d\dT/);
    // The fence fails too (as the check foretold): both alarms stand.
    runUntil(20_000);
    await new Promise((r) => setImmediate(r));
    expect(alarm(daemon, 'fence_failed')).toBeDefined();
    expect(alarm(daemon, 'power_check_failed')).toBeDefined();
    // Its devices answer a retried fence: the power check alarm is over, the count stays.
    fenceOk = true;
    runUntil(40_000);
    await new Promise((r) => setImmediate(r));
    expect(daemon.core.coordinator.decision('h1')?.state).toBe('fenced');
    expect(alarm(daemon, 'power_check_failed')).toBeUndefined();
    expect(daemon.snapshot().counters.powerChecks?.unread).toBe(1);
  });
});
