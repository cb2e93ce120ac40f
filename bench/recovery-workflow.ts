import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../src/log.js';
import { startNovaSim } from '../src/testbed/nova-sim/server.js';
import { ComputeClient } from '../src/openstack/compute.js';
import { RECOVERY_DEFAULTS } from '../src/recovery/config.js';
import { NovaRecoverer } from '../src/recovery/workflow.js';
import { simSession } from './sim-session.js';

/**
 * Recovery of one failed, already fenced host carrying 50 servers (25 tagged), against the
 * simulator adding 50 ms to every compute call and 2 s to every rebuild, with the default
 * settings. Measures from the start of recovery to all 25 evacuations accepted by the API and to
 * all 25 ACTIVE elsewhere (bench:recovery measures the whole path, from the last heartbeat).
 */
const SERVERS = 50;
const TAGGED = 25;

const sim = await startNovaSim({
  hosts: ['compute-1', 'compute-2', 'compute-3', 'compute-4'],
  servers: Array.from({ length: SERVERS }, (_, i) => ({
    name: `vm-${String(i + 1).padStart(2, '0')}`,
    host: 'compute-1',
    tags: i % 2 === 0 ? ['automatic-recovery'] : [],
  })),
  computeLatencyMs: 50,
  claimMs: 100,
  rebuildMs: 2_000,
});
sim.model.killCompute('compute-1');
const log = silentLogger();
const { http, session } = simSession(sim, log);
const journalDir = mkdtempSync(join(tmpdir(), 'iha-bench-'));
let accepted = 0;
let active = 0;
let acceptedAt = 0;
let activeAt = 0;
const t0 = performance.now();
const recoverer = new NovaRecoverer({
  compute: new ComputeClient({ session, http, log }),
  events: { publish: () => undefined },
  log,
  cfg: { ...RECOVERY_DEFAULTS, journalDir },
  onJournalAppend: (r) => {
    if (r.t === 'accepted' && ++accepted === TAGGED) acceptedAt = performance.now();
    if (r.t === 'done' && ++active === TAGGED) activeAt = performance.now();
  },
});
const summary = await recoverer.recover('compute-1', { ok: true, durationMs: 0, attempts: [], by: 'bench' }, new AbortController().signal);
await sim.stop();
rmSync(journalDir, { recursive: true, force: true });
const onceEach = [...sim.model.evacuateAccepted.values()].every((n) => n === 1);
console.log(
  `summary ${JSON.stringify(summary)} evacuate_calls=${[...sim.model.evacuateCalls.values()].reduce((a, b) => a + b, 0)} exactly_once=${onceEach}`,
);
if (summary.evacuated !== TAGGED || !acceptedAt || !activeAt) {
  console.error('bench: not every tagged server was evacuated');
  process.exit(1);
}
console.log(`recovery-workflow instances=${TAGGED} accepted_ms=${Math.round(acceptedAt - t0)} active_ms=${Math.round(activeAt - t0)}`);
