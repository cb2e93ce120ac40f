#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.js';
import { readMonitorConfig } from '../daemon/monitor-config.js';
import { createLogger } from '../log.js';
import { createComputeClient } from '../openstack/factory.js';
import { NovaRecoverer } from '../recovery/workflow.js';

/**
 * Runs the recovery of one (already fenced) host and exits: `node dist/src/testbed/run-host.js
 * --config monitor.yaml --host compute-1`. Events go to stdout as JSON lines, logs to stderr.
 * For the crash tests, INSTANCE_HA_CRASH_AFTER_STEP=N makes the process SIGKILL itself right
 * after its N-th durable journal append.
 */
const { values } = parseArgs({
  options: { config: { type: 'string' }, host: { type: 'string' }, by: { type: 'string', default: 'run-host' } },
});
if (!values.config || !values.host) {
  process.stderr.write('usage: run-host --config FILE --host HOST\n');
  process.exit(64);
}
const sections = loadConfig(values.config, readMonitorConfig).recovery;
if (!sections) {
  process.stderr.write(`${values.config}: no recovery section: nothing to recover with\n`);
  process.exit(78);
}
const { compute, recovery } = sections;
const log = createLogger({ destination: process.stderr, base: { tool: 'run-host' } });
const crashAfter = Number(process.env.INSTANCE_HA_CRASH_AFTER_STEP ?? 0);
let appends = 0;
const recoverer = new NovaRecoverer({
  compute: createComputeClient(compute, { log }),
  events: { publish: (e) => void process.stdout.write(JSON.stringify(e) + '\n') },
  log,
  cfg: recovery,
  onJournalAppend: () => {
    if (crashAfter > 0 && ++appends === crashAfter) process.kill(process.pid, 'SIGKILL');
  },
});
const ac = new AbortController();
process.on('SIGTERM', () => ac.abort(new Error('SIGTERM')));
const summary = await recoverer.recover(values.host, { ok: true, durationMs: 0, attempts: [], by: values.by! }, ac.signal);
process.stdout.write(JSON.stringify({ type: 'summary', summary }) + '\n');
process.exit(summary.error ? 1 : 0);
