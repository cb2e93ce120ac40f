import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { OpenStackApiError } from '../../src/openstack/errors.js';
import { COMPUTE_DEFAULTS } from '../../src/openstack/config.js';
import { createComputeClient } from '../../src/openstack/factory.js';
import type { ComputeClient } from '../../src/openstack/compute.js';
import { SIM_ADMIN, startNovaSim, type NovaSim } from '../../src/testbed/nova-sim/server.js';
import { CLOUD_NAME, CLOUDS_YAML, harnessBaseline, harnessCloudUp, harnessPower } from './harness-cloud.js';
import { tempDirs } from '../helpers/temp-dirs.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The Nova simulator against the real Nova (the harness cloud): the same calls of the product's own
 * compute client, in the same order, on both; what recovery relies on (status codes, Nova's fault
 * classes, service and server states, migration records) must read the same. Where they differ,
 * the simulator is wrong.
 */
const run = await harnessCloudUp('Nova contract (simulator vs real Nova)');
const log = createLogger({ level: 'warn', destination: process.stderr });
const tempDir = tempDirs();
const HOST = 'compute-3';
const TAG = 'automatic-recovery';

/** What one backend does to compute-3 and its tagged server, as the product's client sees it. */
interface Backend {
  client: ComputeClient;
  powerOff(host: string): void;
  powerOn(host: string): void;
}

type Observation = Record<string, unknown>;

/** An error as recovery classifies it; the message text is Nova's and may be reworded by release. */
function outcome(err: unknown): Observation {
  if (err instanceof OpenStackApiError) {
    return { status: err.status, fault: err.faultName, serviceInUse: err.isServiceInUse, doneMigrationsRemain: err.isDoneMigrationsRemain };
  }
  throw err;
}

async function attempt(fn: () => Promise<unknown>): Promise<Observation> {
  try {
    await fn();
    return { ok: true };
  } catch (err) {
    return outcome(err);
  }
}

async function until<T>(what: string, seconds: number, fn: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${seconds} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The scripted session, one observation per step; ids, names and times are left out on purpose. */
async function session(b: Backend): Promise<Array<[string, Observation]>> {
  const c = b.client;
  const out: Array<[string, Observation]> = [];
  const note = (step: string, o: Observation) => out.push([step, o]);
  const svc = async () => {
    const s = (await c.findService(HOST))!;
    return { status: s.status, state: s.state, forcedDown: s.forcedDown, disabledReason: s.disabledReason };
  };

  const versions = await c.versions();
  note('versions', { max: versions.max, evacuate: versions.evacuate });
  note('service while up', await svc());
  const servers = await c.listServers({ host: HOST });
  const tagged = servers.find((s) => s.tags.includes(TAG))!;
  note('servers on the host', {
    count: servers.length,
    tagged: servers.filter((s) => s.tags.includes(TAG)).length,
    statuses: [...new Set(servers.map((s) => s.status))],
    vm: [...new Set(servers.map((s) => s.vmState))],
    task: [...new Set(servers.map((s) => s.taskState))],
  });
  note('unknown server', { found: await c.getServer('00000000-0000-4000-8000-000000000000') });
  note('evacuate while the compute is up', await attempt(() => c.evacuate(tagged.id, undefined)));

  b.powerOff(HOST);
  note('service right after the power loss', await svc());
  note('force down', await attempt(() => c.setForcedDown(HOST, true)));
  note('service forced down', await svc());
  note('disable', await attempt(() => c.setServiceEnabled(HOST, false, 'instance-ha contract test')));
  note('service disabled', await svc());
  note('evacuate', await attempt(() => c.evacuate(tagged.id, undefined)));
  const moved = await until('server ACTIVE elsewhere', 120, async () => {
    const s = await c.getServer(tagged.id);
    return s && s.status === 'ACTIVE' && s.host !== HOST && s.taskState === null ? s : undefined;
  });
  note('evacuated server', { status: moved.status, vm: moved.vmState, task: moved.taskState, elsewhere: moved.host !== HOST });
  const done = await until('migration done', 60, async () => {
    const m = (await c.listMigrations({ instanceUuid: tagged.id })).filter((x) => x.sourceCompute === HOST);
    return m.length > 0 && m.every((x) => x.status === 'done') ? m : undefined;
  });
  note('migrations after the evacuation', {
    count: done.length,
    status: done[0]!.status,
    type: done[0]!.migrationType,
    toMovedHost: done[0]!.destCompute === moved.host,
  });
  // No capacity: every other compute disabled, Nova accepts the evacuate and the scheduler finds no host.
  const other = servers.find((s) => s.id !== tagged.id)!;
  const others = ['compute-1', 'compute-2'];
  for (const h of others) await c.setServiceEnabled(h, false, 'instance-ha contract test: no capacity');
  note('evacuate with no capacity left', await attempt(() => c.evacuate(other.id, undefined)));
  const stuck = await until('evacuation with no capacity settled', 120, async () => {
    const m = (await c.listMigrations({ instanceUuid: other.id })).filter((x) => x.sourceCompute === HOST);
    const settled = m.length > 0 && m.every((x) => !['accepted', 'pre-migrating', 'migrating'].includes(x.status));
    const srv = await c.getServer(other.id);
    return settled && srv && srv.taskState === null ? { m, srv } : undefined;
  });
  note('no capacity: the server', { status: stuck.srv.status, vm: stuck.srv.vmState, host: stuck.srv.host === HOST ? 'source' : 'moved' });
  note('no capacity: the migration', { count: stuck.m.length, status: stuck.m[0]!.status });
  for (const h of others) await c.setServiceEnabled(h, true, undefined);
  note('by source host', { count: (await c.listMigrations({ sourceCompute: HOST })).filter((m) => m.instanceUuid === tagged.id).length });
  note('evacuate again once it has moved', await attempt(() => c.evacuate(tagged.id, undefined)));
  note('force up before the compute restarted', await attempt(() => c.setForcedDown(HOST, false)));

  b.powerOn(HOST);
  await until('migration completed after the restart', 120, async () => {
    const m = (await c.listMigrations({ instanceUuid: tagged.id })).filter((x) => x.sourceCompute === HOST);
    return m.every((x) => x.status === 'completed') ? true : undefined;
  });
  note('migration after the compute restarted', { status: 'completed' });
  note('force up', await attempt(() => c.setForcedDown(HOST, false)));
  note('enable', await attempt(() => c.setServiceEnabled(HOST, true, undefined)));
  const back = await svc();
  note('service back', { status: back.status, forcedDown: back.forcedDown, disabledReason: back.disabledReason });
  // A crashed guest's restart: the hard reboot, then the action history the restart budget is counted on.
  const before = Date.now() - 1_000;
  note('hard reboot', await attempt(() => c.rebootHard(tagged.id)));
  const me = await c.userId();
  const actions = (await c.listInstanceActions(tagged.id, before))!;
  note('actions since the reboot', {
    actions: actions.map((a) => a.action),
    byUs: actions.every((a) => me !== null && a.userId === me),
    startTimeReadable: actions.every((a) => Math.abs(Date.parse(`${a.startTime}Z`) - Date.now()) < 300_000),
  });
  note('actions of an unknown server', { found: await c.listInstanceActions('00000000-0000-4000-8000-000000000000', before) });
  return out;
}

describe.runIf(run)('the Nova simulator answers as the real Nova does', () => {
  let sim: NovaSim | undefined;
  afterAll(async () => {
    await sim?.stop();
    harnessPower('on', HOST);
  });

  it('the same client session reads the same on both', async () => {
    harnessBaseline();
    const real: Backend = {
      client: createComputeClient({ cloud: CLOUD_NAME, cloudsFile: CLOUDS_YAML, ...COMPUTE_DEFAULTS }, { log }),
      powerOff: (h) => harnessPower('off', h),
      powerOn: (h) => harnessPower('on', h),
    };
    const realSession = await session(real);

    // The simulator seeded as the harness baseline is: two servers per host, the odd one tagged.
    const hosts = ['compute-1', 'compute-2', 'compute-3'];
    sim = await startNovaSim({
      hosts,
      mode: 'zed',
      servers: hosts.flatMap((h, i) => [1, 2].map((j) => ({ name: `srv-c${i + 1}-${j}`, host: h, tags: j % 2 === 1 ? [TAG] : [] }))),
    });
    const pw = join(tempDir('iha-contract-'), 'password');
    writeFileSync(pw, SIM_ADMIN.password, { mode: 0o600 });
    const simulated: Backend = {
      client: createComputeClient(
        {
          ...COMPUTE_DEFAULTS,
          auth: {
            authUrl: sim.authUrl,
            username: 'admin',
            password: SIM_ADMIN.password,
            userDomainName: 'Default',
            projectName: 'admin',
            projectDomainName: 'Default',
          },
        },
        { log },
      ),
      powerOff: (h) => sim!.model.killCompute(h),
      powerOn: (h) => sim!.model.restartCompute(h),
    };
    const simSession = await session(simulated);
    console.log(`real Nova session:\n${realSession.map(([s, o]) => `  ${s}: ${JSON.stringify(o)}`).join('\n')}`);
    expect(simSession).toEqual(realSession);
  }, 600_000);
});
