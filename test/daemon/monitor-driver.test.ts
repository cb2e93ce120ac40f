import { describe, expect, it } from 'vitest';
import type { PersistedState } from '../../src/core/effects.js';
import { defaultCoreSettings } from '../../src/core/settings.js';
import { EventBus } from '../../src/daemon/event-bus.js';
import { MonitorDaemon } from '../../src/daemon/monitor.js';
import type { StateStore } from '../../src/daemon/state-store.js';
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

function oneMonitor(store: StateStore, bus = new EventBus(silentLogger())) {
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
    core: defaultCoreSettings('m1', ['m1']),
  };
  const daemon = new MonitorDaemon({
    settings,
    clock: proc.clock(),
    transport: net.endpoint('m1', (d) => proc.run(d)),
    store,
    bus,
    log: silentLogger(),
    bootId: 'a'.repeat(32),
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
});
