import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setImmediate as tick } from 'node:timers/promises';
import amqp from 'amqplib';
import { ObjectReader } from '../src/config/reader.js';
import type { ClusterEvent } from '../src/core/events.js';
import { createLogger } from '../src/log.js';
import { readNotificationsConfig, type NotificationsConfig } from '../src/notify/config.js';
import { decodeEnvelope } from '../src/notify/envelope.js';
import { Notifier } from '../src/notify/notifier.js';
import { sharedRabbitNode, startRabbitNode, type RabbitNode } from './rabbit-node.js';

/**
 * `npm run bench:notify`: 10,000 notifications through the durable outbox to RabbitMQ with
 * publisher confirms (durable exchange and queue, persistent messages: the zero-loss setup).
 * First 2,000 at a steady 500/s (latency when not saturated, printed only); then phase 1, 10,000
 * as fast as the window allows; phase 2 the same with the broker app stopped and started once
 * 30 % are confirmed.
 * Latency is per notification, from publish() to the broker's confirm. The producer keeps at most
 * WINDOW (500, env IHA_BENCH_WINDOW) notifications unconfirmed: a monitor never has 10,000 at once, and
 * without a bound p99 would only measure how long the last of 10,000 queued ones waits.
 * `lost` = notifications not found in the queue afterwards. The last line sums both phases' losses
 * and reports phase 1's rate and p99:  notify msgs=10000 per_s=<n> p99_ms=<n> lost=<n>
 */
const MSGS = Number(process.env.IHA_BENCH_MSGS ?? 10_000);
const WINDOW = Number(process.env.IHA_BENCH_WINDOW ?? 500);
const BURST = 50;

interface Result {
  perS: number;
  p99Ms: number;
  lost: number;
  duplicates: number;
}

async function main(): Promise<void> {
  let node: RabbitNode;
  let dedicated = true;
  try {
    node = await startRabbitNode();
  } catch (err) {
    console.error(`dedicated RabbitMQ node unavailable (${(err as Error).message}); using the shared broker`);
    node = sharedRabbitNode(process.env.INSTANCE_HA_RABBIT_URL ?? 'amqp://guest:guest@127.0.0.1:5672/');
    dedicated = false;
  }
  try {
    // Latency when not saturated: what one notification waits at a steady, realistic-to-high rate.
    await phase(node, 'paced_500_per_s', { msgs: 2000, ratePerS: 500 });
    const normal = await phase(node, 'normal', { msgs: MSGS });
    let restart: Result | null = null;
    if (dedicated || process.env.IHA_BENCH_RESTART_SHARED === '1')
      restart = await phase(node, 'broker_restart', { msgs: MSGS, restartMidway: true });
    else console.log('notify phase=broker_restart skipped (shared broker; set IHA_BENCH_RESTART_SHARED=1 to allow)');
    const lost = normal.lost + (restart?.lost ?? 0);
    console.log(`notify msgs=${MSGS} per_s=${Math.round(normal.perS)} p99_ms=${normal.p99Ms.toFixed(1)} lost=${lost}`);
  } finally {
    await node.stop();
  }
}

interface PhaseOptions {
  msgs: number;
  restartMidway?: boolean;
  /** Publish at this steady rate instead of as fast as the window allows. */
  ratePerS?: number;
}

async function phase(node: RabbitNode, name: string, o: PhaseOptions): Promise<Result> {
  const MSGS = o.msgs;
  const restartMidway = o.restartMidway ?? false;
  const cfg = benchConfig(node.url);
  const sentAt = new Map<string, number>();
  let counter = 0;
  const newId = (): string => {
    const id = `00000000-0000-4000-8000-${(++counter).toString(16).padStart(12, '0')}`;
    sentAt.set(id, performance.now());
    return id;
  };
  const log = createLogger({ level: 'error', destination: process.stderr });
  const n = new Notifier({ config: cfg, monitorHost: 'bench', log, newId });
  const latencies: number[] = [];
  let wake: (() => void) | null = null;
  let disruption: Promise<void> | null = null;
  n.onConfirmed((batch) => {
    const now = performance.now();
    for (const r of batch) {
      const t = sentAt.get(r.id);
      if (t !== undefined) latencies.push(now - t);
      sentAt.delete(r.id);
    }
    wake?.();
  });
  await n.start();
  const t0 = performance.now();
  let published = 0;
  let stopped = false;
  while (published < MSGS) {
    if (restartMidway && !stopped && latencies.length >= MSGS * 0.3) {
      // Pause the producer until the broker is really down, so the outage lands mid-stream;
      // then publish on (into the outbox) while it comes back.
      stopped = true;
      await node.stopApp();
      disruption = node.startApp();
    }
    const outstanding = published - latencies.length;
    if (outstanding >= WINDOW) {
      await new Promise<void>((r) => (wake = r));
      continue;
    }
    if (o.ratePerS) {
      // Paced: 10 ms ticks, publishing what the rate allows by now (timers run late; catch up).
      const due = Math.min(MSGS, Math.floor(((performance.now() - t0) / 1000) * o.ratePerS) + 1);
      while (published < due) n.publish(event(++published));
      await new Promise((r) => setTimeout(r, 10));
      continue;
    }
    const burst = Math.min(BURST, MSGS - published, WINDOW - outstanding);
    for (let i = 0; i < burst; i++) n.publish(event(++published));
    await tick();
  }
  while (n.status().backlog > 0) await new Promise<void>((r) => (wake = r));
  const elapsedS = (performance.now() - t0) / 1000;
  await disruption;
  const closed = await n.close();
  const { unique, total } = await countQueue(node.url, `${cfg.topic}.error`);
  await cleanup(node.url, cfg);
  rmSync(cfg.outbox.dir, { recursive: true, force: true });
  latencies.sort((a, b) => a - b);
  const pct = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))] ?? NaN;
  const p99Ms = pct(0.99);
  const r = { perS: MSGS / elapsedS, p99Ms, lost: MSGS - unique, duplicates: total - unique };
  console.log(
    `notify phase=${name} msgs=${MSGS} per_s=${Math.round(r.perS)} p50_ms=${pct(0.5).toFixed(1)} p99_ms=${p99Ms.toFixed(1)} lost=${r.lost} ` +
      `duplicates=${r.duplicates} outbox_left=${closed.backlog} elapsed_s=${elapsedS.toFixed(2)}`,
  );
  return r;
}

function event(i: number): ClusterEvent {
  return {
    type: 'instance.not_selected',
    at: Date.now(),
    host: 'cmp1',
    reason: 'not tagged for automatic recovery',
    fence: null,
    server: { id: `srv-${i}`, name: `vm-${i}`, projectId: 'p-bench', userId: 'u-bench', tags: [], host: 'cmp1' },
  };
}

function benchConfig(url: string): NotificationsConfig {
  const tag = `iha-bench-${process.pid}-${Date.now()}`;
  const problems: { path: string; reason: string }[] = [];
  const cfg = readNotificationsConfig(
    new ObjectReader(
      {
        enabled: true,
        url,
        exchange: tag,
        topic: `${tag}-notifications`,
        durable: true,
        max_in_flight: 500,
        reconnect: { initial: '100ms', max: '1s' },
        outbox: { dir: mkdtempSync(join(tmpdir(), 'iha-bench-')) },
      },
      'notifications',
      problems,
    ),
  );
  if (problems.length) throw new Error(JSON.stringify(problems));
  return cfg;
}

async function countQueue(url: string, queue: string): Promise<{ unique: number; total: number }> {
  const conn = await amqp.connect(url);
  const ch = await conn.createChannel();
  await ch.prefetch(1000);
  const { messageCount } = await ch.checkQueue(queue);
  const ids = new Set<string>();
  let total = 0;
  await new Promise<void>((resolve) => {
    if (messageCount === 0) return resolve();
    void ch.consume(queue, (m) => {
      if (!m) return;
      total++;
      const id = decodeEnvelope(m.content.toString('utf8'))?.message_id;
      if (id) ids.add(id);
      ch.ack(m);
      if (total === messageCount) resolve();
    });
  });
  await conn.close();
  return { unique: ids.size, total };
}

async function cleanup(url: string, cfg: NotificationsConfig): Promise<void> {
  const conn = await amqp.connect(url);
  const ch = await conn.createChannel();
  await ch.deleteQueue(`${cfg.topic}.error`);
  await ch.deleteExchange(cfg.exchange);
  await conn.close();
}

await main();
