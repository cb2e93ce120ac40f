#!/usr/bin/env node
import { parseArgs } from 'node:util';
import type { ServerSpec } from './model.js';
import { startNovaSim } from './server.js';

/**
 * The simulator as a process: `node dist/src/nova-sim/main.js --port 0 --hosts compute-1,compute-2
 * --servers compute-1:4:2`. Prints one JSON line with its URLs, then serves until SIGTERM/SIGINT.
 * `--servers HOST:COUNT:TAGGED` boots COUNT servers on HOST, the first TAGGED tagged automatic-recovery.
 * `--notifications-url amqp://…` also emits Nova's versioned notifications there (oslo v2 envelope, `nova` exchange).
 */
const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    hosts: { type: 'string', default: 'compute-1,compute-2,compute-3' },
    servers: { type: 'string', multiple: true, default: [] },
    mode: { type: 'string', default: 'current' },
    'max-version': { type: 'string' },
    'rebuild-ms': { type: 'string', default: '300' },
    'claim-ms': { type: 'string', default: '50' },
    'latency-ms': { type: 'string', default: '0' },
    'token-delay-ms': { type: 'string', default: '0' },
    'service-down-time-ms': { type: 'string', default: '60000' },
    /** Emit Nova's versioned notifications on this (loopback) RabbitMQ, e.g. amqp://guest:guest@127.0.0.1:5672. */
    'notifications-url': { type: 'string' },
  },
});

const servers: ServerSpec[] = [];
for (const spec of values.servers ?? []) {
  const [host, count, tagged] = spec.split(':');
  if (!host || !count) throw new Error(`--servers wants HOST:COUNT[:TAGGED], got '${spec}'`);
  for (let i = 1; i <= Number(count); i++) {
    servers.push({ name: `vm-${host}-${i}`, host, tags: i <= Number(tagged ?? 0) ? ['automatic-recovery'] : [] });
  }
}
const mode = values.mode === 'zed' ? 'zed' : 'current';
const sim = await startNovaSim({
  port: Number(values.port),
  hosts: values.hosts!.split(','),
  servers,
  mode,
  maxVersion: values['max-version'],
  rebuildMs: Number(values['rebuild-ms']),
  claimMs: Number(values['claim-ms']),
  computeLatencyMs: Number(values['latency-ms']),
  tokenDelayMs: Number(values['token-delay-ms']),
  serviceDownTimeMs: Number(values['service-down-time-ms']),
  ...(values['notifications-url'] ? { notifications: { url: values['notifications-url'] } } : {}),
});
process.stdout.write(
  JSON.stringify({ url: sim.url, authUrl: sim.authUrl, user: 'admin', password: 'admin', project: 'admin-project' }) + '\n',
);
const stop = (): void => void sim.stop().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
