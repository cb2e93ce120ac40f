import { setMaxListeners } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import type { ComputeClient } from '../../src/openstack/compute.js';
import { COMPUTE_DEFAULTS } from '../../src/openstack/config.js';
import { createComputeClient } from '../../src/openstack/factory.js';
import { RECOVERY_DEFAULTS, type RecoveryConfig } from '../../src/recovery/config.js';
import { NovaRecoverer } from '../../src/recovery/workflow.js';
import { sharedBroker } from '../helpers/services.js';
import { EventLog } from '../helpers/sim-client.js';
import { tempDirs } from '../helpers/temp-dirs.js';
import { CLOUD_NAME, CLOUDS_YAML, evacuationsFrom, harnessBaseline, harnessCloudUp, harnessPower } from './harness-cloud.js';

/**
 * Tracking by listing against the harness's real Nova (Zed), which up.sh configures with
 * `notification_format = versioned` and `driver = messagingv2` on the machine's RabbitMQ: a lost
 * host's tagged servers are followed to ACTIVE elsewhere with the listing poller, once with the
 * Nova notification listener on (it must hear the evacuation's notifications for those servers)
 * and once with no listener at all (polling alone). Run it under the machine's cloud lock:
 *   flock /tmp/iha-cloud.lock npx vitest run test/openstack/tracking-real-cloud.test.ts
 */
const run = await harnessCloudUp('tracking on the real cloud');
const tempDir = tempDirs();
const log = createLogger({ level: 'warn', destination: process.stderr });
let compute: ComputeClient;
const lost: string[] = [];

async function until(what: string, ms: number, pred: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await pred().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${what}: not within ${ms} ms`);
}

async function loseAndRecover(host: string, over: Partial<RecoveryConfig>) {
  const before = await compute.listServers({ host });
  const tagged = before.filter((s) => s.tags.includes('automatic-recovery') && s.status === 'ACTIVE');
  expect(tagged.length).toBeGreaterThan(0);
  const events = new EventLog();
  const r = new NovaRecoverer({
    compute,
    events,
    log,
    // The harness boots from an image (local root): opted in to the rebuild, as the check is tracking.
    cfg: {
      ...RECOVERY_DEFAULTS,
      journalDir: tempDir('iha-cloud-tracking-'),
      instanceTimeoutMs: 300_000,
      localDisk: { ...RECOVERY_DEFAULTS.localDisk, default: 'rebuild' },
      ...over,
    },
    broker: sharedBroker(),
    tokenRenewBeforeMs: COMPUTE_DEFAULTS.tokenRenewBeforeMs,
  });
  await r.start();
  if (over.novaNotifications?.enabled)
    await until('the Nova notification listener connects', 15_000, async () => r.novaNotificationsStatus()!.connected);
  const since = new Date(Date.now() - 5_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  lost.push(host);
  harnessPower('off', host);
  const ac = new AbortController();
  setMaxListeners(0, ac.signal);
  const started = Date.now();
  const summary = await r.recover(host, { ok: true, durationMs: 0, attempts: [], by: 'tracking-test', at: Date.now() }, ac.signal);
  const tookMs = Date.now() - started;
  const status = r.novaNotificationsStatus();
  await r.stop();
  expect(summary).toMatchObject({ selected: tagged.length, evacuated: tagged.length, failed: 0 });
  for (const s of tagged) {
    const now = await compute.getServer(s.id);
    expect(now).toMatchObject({ status: 'ACTIVE', taskState: null });
    expect(now!.host).not.toBe(host);
  }
  // Exactly once each, as Nova's own records say.
  const migrations = (await evacuationsFrom(host, since)).filter((m) => tagged.some((s) => s.id === m.instance_uuid));
  expect(migrations.map((m) => m.instance_uuid).sort()).toEqual(tagged.map((s) => s.id).sort());
  return { r, summary, tookMs, status, tagged };
}

describe.runIf(run)('evacuation tracking on the harness cloud (real Nova, versioned notifications)', () => {
  beforeAll(() => {
    harnessBaseline();
    compute = createComputeClient({ cloud: CLOUD_NAME, cloudsFile: CLOUDS_YAML, ...COMPUTE_DEFAULTS }, { log });
  }, 300_000);

  afterAll(async () => {
    // Leave the cloud at its baseline: computes back on, forced_down cleared once Nova allows it
    // (the restarted compute moves its `done` evacuations to `completed`), enabled, servers at home.
    for (const h of lost) harnessPower('on', h);
    for (const h of lost) {
      await until(`${h} forced_down cleared`, 180_000, async () => {
        await compute.setForcedDown(h, false);
        return true;
      }).catch(() => undefined);
      await compute.setServiceEnabled(h, true, undefined).catch(() => undefined);
    }
    harnessBaseline();
  }, 600_000);

  it('with the listener on: the evacuation notifications of the tracked servers arrive and ask for polls; the listing decides', async () => {
    const { r, tookMs, status } = await loseAndRecover('compute-1', {
      novaNotifications: { enabled: true, url: null, exchange: 'nova', topic: 'versioned_notifications' },
    });
    console.log(
      `compute-1 recovered in ${tookMs} ms with notifications: ${JSON.stringify(status?.byType)} kicks=${status?.kicks} polls=${r.tracker.counters.polls}`,
    );
    expect(status?.byType['instance.rebuild.end'] ?? 0).toBeGreaterThan(0);
    expect(status!.kicks).toBeGreaterThan(0);
  }, 300_000);

  it('with no listener (notifications off in instance-ha): polling alone follows every server to its end', async () => {
    const { r, tookMs, status } = await loseAndRecover('compute-2', {});
    console.log(
      `compute-2 recovered in ${tookMs} ms by polling alone: polls=${r.tracker.counters.polls} calls=${r.tracker.counters.calls}`,
    );
    expect(status).toBeNull();
    expect(r.tracker.counters.kicks).toBe(0);
  }, 300_000);
});
