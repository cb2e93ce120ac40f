import { setMaxListeners } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import type { FenceRecord } from '../../src/core/events.js';
import { silentLogger } from '../../src/log.js';
import type { RecoveryConfig } from '../../src/recovery/config.js';
import { NovaRecoverer } from '../../src/recovery/workflow.js';
import { startNovaSim, type NovaSim, type NovaSimOptions } from '../../src/testbed/nova-sim/server.js';
import { rabbitReachable, SHARED_RABBIT_URL, sharedBroker } from '../helpers/services.js';
import { EventLog, fastRecoveryConfig, simClient } from '../helpers/sim-client.js';
import { tempDirs } from '../helpers/temp-dirs.js';

/**
 * Tracking that scales (issue #12), over the Nova simulator's real HTTP API: every evacuating
 * server of several fenced hosts followed with listing calls (no GET per server), Nova's versioned
 * notifications on the machine's RabbitMQ as a hint that only hurries the next poll, and the
 * pre-authentication that leaves the first incident no token or version discovery to wait for.
 */
const tempDir = tempDirs();
let sim: NovaSim | null = null;
let recoverer: NovaRecoverer | null = null;
afterEach(async () => {
  await recoverer?.stop();
  recoverer = null;
  await sim?.stop();
  sim = null;
});

const FAILED = ['compute-1', 'compute-2', 'compute-3', 'compute-4'];
const PER_HOST = 10;

async function cloud(opts: Partial<NovaSimOptions> = {}): Promise<NovaSim> {
  sim = await startNovaSim({
    hosts: [...FAILED, 'compute-5', 'compute-6'],
    servers: FAILED.flatMap((h) =>
      Array.from({ length: PER_HOST }, (_, i) => ({ name: `${h}-vm-${i}`, host: h, tags: ['automatic-recovery'] })),
    ),
    claimMs: 20,
    // Rebuilds spread over 0.3–1.5 s, so the servers finish one by one across many polls.
    rebuildMsFor: (id) => 300 + (parseInt(id.slice(0, 6), 16) % 1_200),
    ...opts,
  });
  for (const h of FAILED) sim.model.killCompute(h);
  return sim;
}

function start(s: NovaSim, over: Partial<RecoveryConfig> = {}, renewBeforeMs = 0) {
  const { compute } = simClient(s, { renewBeforeMs });
  const events = new EventLog();
  recoverer = new NovaRecoverer({
    compute,
    events,
    log: silentLogger(),
    // A slow backed-off cadence makes the notifications' effect visible: without them a finished
    // rebuild waits for the next poll, up to poll_interval.
    cfg: fastRecoveryConfig(tempDir('iha-tracking-'), { pollIntervalMs: 1_000, fastPollIntervalMs: 250, minPollGapMs: 50, ...over }),
    broker: sharedBroker(),
    tokenRenewBeforeMs: renewBeforeMs,
  });
  return { r: recoverer, events };
}

async function recoverAll(r: NovaRecoverer) {
  const fence: FenceRecord = { ok: true, durationMs: 1, attempts: [], by: 'mon1', at: Date.now() };
  const ac = new AbortController();
  setMaxListeners(0, ac.signal);
  return Promise.all(FAILED.map((h) => r.recover(h, fence, ac.signal)));
}

function lagsMs(s: NovaSim, events: EventLog): number[] {
  return events.ofType('instance.evacuate_end').map((e) => e.at - s.model.settledAt.get(e.server.id)!);
}

describe('tracking by listing', () => {
  it('follows 40 servers of 4 hosts to ACTIVE elsewhere with listing calls only, each evacuated once', async () => {
    const s = await cloud();
    const { r, events } = start(s);
    const before = s.requests.length;
    const summaries = await recoverAll(r);
    expect(summaries.map((x) => x.evacuated)).toEqual([PER_HOST, PER_HOST, PER_HOST, PER_HOST]);
    for (const [id, n] of s.model.evacuateAccepted) {
      expect(n).toBe(1);
      expect(s.model.servers.get(id)!.host).toMatch(/^compute-[56]$/);
    }
    const made = s.requests.slice(before);
    // No server is polled on its own: tracking is GET /servers/detail?changes-since + GET /os-migrations.
    expect(made.filter((q) => /^GET \/compute\/v2\.1\/servers\/[0-9a-f-]{36}$/.test(q))).toEqual([]);
    const listings = made.filter((q) => q.includes('changes-since') && q.startsWith('GET /compute/v2.1/servers/detail'));
    expect(listings.length).toBe(r.tracker.counters.polls);
    // Far fewer calls than one per server per poll (40 servers × polls).
    expect(r.tracker.counters.calls).toBeLessThanOrEqual(2 * r.tracker.counters.polls + 2 * r.tracker.counters.directReads);
    expect(r.tracker.counters.polls).toBeLessThan(40);
    expect(events.ofType('instance.evacuate_end')).toHaveLength(FAILED.length * PER_HOST);
  });
});

describe('Nova versioned notifications (RabbitMQ)', async () => {
  const haveRabbit = await rabbitReachable();

  it.runIf(haveRabbit)(
    'rebuild.end on the bus (oslo v2 envelope, nova exchange) kicks a poll for the tracked server; the listing still decides',
    async () => {
      const s = await cloud({ notifications: { url: SHARED_RABBIT_URL } });
      const { r, events } = start(s, {
        novaNotifications: { enabled: true, url: null, exchange: 'nova', topic: 'versioned_notifications' },
      });
      await r.start();
      const deadline = Date.now() + 10_000;
      while (!r.alarms().every((a) => a.kind !== 'nova_notifications_lost') && Date.now() < deadline)
        await new Promise((res) => setTimeout(res, 20));
      expect(r.alarms()).toEqual([]);
      const summaries = await recoverAll(r);
      expect(summaries.every((x) => x.evacuated === PER_HOST)).toBe(true);
      expect(r.tracker.counters.kicks).toBeGreaterThan(0);
      const lags = lagsMs(s, events);
      expect(lags).toHaveLength(FAILED.length * PER_HOST);
      // Still the listing decides: every end was published after the simulator marked the server ACTIVE.
      expect(Math.min(...lags)).toBeGreaterThanOrEqual(0);
    },
  );

  it.runIf(haveRabbit)('without any notification on the bus (the cloud emits none), polling alone finishes every server', async () => {
    const s = await cloud();
    const { r } = start(s, { novaNotifications: { enabled: true, url: null, exchange: 'nova-silent', topic: 'versioned_notifications' } });
    await r.start();
    const summaries = await recoverAll(r);
    expect(summaries.every((x) => x.evacuated === PER_HOST)).toBe(true);
    expect(r.tracker.counters.kicks).toBe(0);
  });

  it('the listener losing (or never getting) its broker is the nova_notifications_lost alarm; tracking polls on', async () => {
    const s = await cloud();
    const { r } = start(s, {
      novaNotifications: { enabled: true, url: 'amqp://guest:guest@127.0.0.1:9', exchange: 'nova', topic: 'versioned_notifications' },
    });
    await r.start();
    const deadline = Date.now() + 5_000;
    while (!r.alarms().some((a) => a.kind === 'nova_notifications_lost') && Date.now() < deadline)
      await new Promise((res) => setTimeout(res, 20));
    const alarm = r.alarms().find((a) => a.kind === 'nova_notifications_lost');
    expect(alarm?.message).toMatch(/^Nova notifications not received: .*\(tracking polls alone\)$/);
    expect(alarm?.message).not.toContain('guest:guest');
    const summaries = await recoverAll(r);
    expect(summaries.every((x) => x.evacuated === PER_HOST)).toBe(true);
  });
});

describe('pre-authentication', () => {
  it('authenticates and negotiates at start: the first incident sends no token request and no version discovery', async () => {
    const s = await cloud();
    const { r } = start(s);
    await r.start();
    expect(s.requests.filter((q) => q.startsWith('POST /identity/v3/auth/tokens'))).toHaveLength(1);
    expect(s.requests.filter((q) => /^GET \/compute\/v2\.1\/?$/.test(q))).toHaveLength(1);
    const before = s.requests.length;
    await recoverAll(r);
    const during = s.requests.slice(before);
    expect(during.filter((q) => q.startsWith('POST /identity/v3/auth/tokens'))).toEqual([]);
    expect(during.filter((q) => /^GET \/compute\/v2\.1\/?$/.test(q))).toEqual([]);
  });

  it('keeps the token fresh before it expires, and a Keystone outage is keystone_unreachable until it answers again', async () => {
    // Tokens live 2.5 s and are renewed 2 s before expiry: the 1 s refresh (the lower bound) renews each in time.
    const s = await cloud({ tokenTtlMs: 2_500 });
    const { r } = start(s, {}, 2_000);
    await r.start();
    await new Promise((res) => setTimeout(res, 2_300));
    const issued = s.requests.filter((q) => q.startsWith('POST /identity/v3/auth/tokens')).length;
    expect(issued).toBeGreaterThanOrEqual(2);
    expect(r.alarms()).toEqual([]);
    s.setKeystoneDown(true);
    const deadline = Date.now() + 8_000;
    while (!r.alarms().some((a) => a.kind === 'keystone_unreachable') && Date.now() < deadline)
      await new Promise((res) => setTimeout(res, 50));
    expect(r.alarms().find((a) => a.kind === 'keystone_unreachable')?.message).toMatch(
      /^standby — Keystone token could not be renewed since /,
    );
    s.setKeystoneDown(false);
    const back = Date.now() + 8_000;
    while (r.alarms().length > 0 && Date.now() < back) await new Promise((res) => setTimeout(res, 50));
    expect(r.alarms()).toEqual([]);
  });
});
