import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startNovaSim, type NovaSim } from '../../src/testbed/nova-sim/server.js';

/**
 * The simulator against what a real Nova Zed answered (test/fixtures/nova-zed, captured from the
 * harness in shared/openstack): same status codes, fault names and messages, same shapes.
 */
const FIX = join(import.meta.dirname, '..', 'fixtures', 'nova-zed');
const transcript = readFileSync(join(FIX, 'evacuation-transcript.txt'), 'utf8');

let sim: NovaSim;
/** Waits for a state of the simulator: polled until it holds, failing after the deadline. */
const POLL = { timeout: 5000, interval: 10 };
afterEach(async () => sim?.stop());

async function token(user = 'admin', password = 'admin'): Promise<string> {
  const r = await fetch(`${sim.authUrl}/auth/tokens`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: { methods: ['password'], password: { user: { name: user, domain: { name: 'Default' }, password } } },
        scope: { project: { name: 'admin', domain: { name: 'Default' } } },
      },
    }),
  });
  expect(r.status).toBe(201);
  return r.headers.get('x-subject-token')!;
}

async function call(
  method: string,
  path: string,
  mv: string,
  body?: unknown,
  tok?: string,
): Promise<{ status: number; body: any; headers: Headers }> {
  const r = await fetch(`${sim.url}/compute/v2.1${path}`, {
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
    headers: { 'X-Auth-Token': tok ?? (await token()), 'X-OpenStack-Nova-API-Version': mv, 'Content-Type': 'application/json' },
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : undefined, headers: r.headers };
}

/** The fault message real Nova gave for a request line of the transcript. */
function realFault(requestLine: string): string {
  const i = transcript.indexOf(requestLine);
  expect(i, requestLine).toBeGreaterThanOrEqual(0);
  return /"message": "([^"]*)"/.exec(transcript.slice(i))![1]!;
}

describe('nova-sim vs real Nova (Zed)', () => {
  it('version documents and microversion headers', async () => {
    sim = await startNovaSim({ hosts: ['compute-1'], mode: 'zed' });
    const real = JSON.parse(readFileSync(join(FIX, 'version-root.json'), 'utf8'));
    const doc = await (await fetch(`${sim.url}/compute/v2.1/`)).json();
    expect(doc.version).toMatchObject({
      id: real.version.id,
      status: real.version.status,
      version: real.version.version,
      min_version: real.version.min_version,
    });
    const r = await call('GET', '/os-services', '2.53');
    expect(r.headers.get('openstack-api-version')).toBe('compute 2.53');
    expect(r.headers.get('x-openstack-nova-api-version')).toBe('2.53');
    expect(r.headers.get('x-openstack-request-id')).toMatch(/^req-/);
    const bad = await call('GET', '/os-services', '2.99');
    expect(bad.status).toBe(406);
    expect(bad.body).toEqual({
      computeFault: { code: 406, message: 'Version 2.99 is not supported by the API. Minimum is 2.1 and maximum is 2.93.' },
    });
  });

  it('service shapes by microversion and the update rules', async () => {
    sim = await startNovaSim({ hosts: ['compute-2'] });
    const old = (await call('GET', '/os-services?binary=nova-compute&host=compute-2', '2.10')).body.services[0];
    expect(typeof old.id).toBe('number');
    expect('forced_down' in old).toBe(false);
    const svc = (await call('GET', '/os-services?binary=nova-compute&host=compute-2', '2.53')).body.services[0];
    expect(Object.keys(svc).sort()).toEqual([
      'binary',
      'disabled_reason',
      'forced_down',
      'host',
      'id',
      'state',
      'status',
      'updated_at',
      'zone',
    ]);
    expect(svc.updated_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
    const down = await call('PUT', `/os-services/${svc.id}`, '2.53', { forced_down: true });
    expect(down.body.service).toMatchObject({ forced_down: true, state: 'down', status: 'enabled' });
    expect((await call('PUT', `/os-services/${svc.id}`, '2.53', { status: 'enabled', disabled_reason: 'x' })).body.badRequest.message).toBe(
      realFault('{"status": "enabled", "disabled_reason": "x"}'),
    );
    expect((await call('PUT', `/os-services/${svc.id}`, '2.53', {})).body.badRequest.message).toBe(realFault(`(mv 2.53) {}`));
    const legacyAtNew = await call('PUT', '/os-services/force-down', '2.53', {
      host: 'compute-2',
      binary: 'nova-compute',
      forced_down: true,
    });
    expect(legacyAtNew.body.badRequest.message).toBe(realFault('PUT /os-services/force-down (mv 2.53)'));
    const legacy = await call('PUT', '/os-services/force-down', '2.11', { host: 'compute-2', binary: 'nova-compute', forced_down: true });
    expect(legacy.body).toEqual({ service: { host: 'compute-2', binary: 'nova-compute', forced_down: true } });
  });

  it('host and all_tenants are admin-only (ignored otherwise); tag filters need 2.26', async () => {
    sim = await startNovaSim({
      hosts: ['c1', 'c2'],
      servers: [
        { name: 'a', host: 'c1', tags: ['automatic-recovery'], tenantId: 'tenant-a' },
        { name: 'b', host: 'c1', tags: ['x'], tenantId: 'other' },
        { name: 'c', host: 'c2', tags: ['automatic-recovery', 'x'], tenantId: 'tenant-a' },
      ],
    });
    const names = (r: { body: any }): string[] => r.body.servers.map((s: { name: string }) => s.name).sort();
    expect(names(await call('GET', '/servers/detail?all_tenants=1&host=c1', '2.53'))).toEqual(['a', 'b']);
    expect(names(await call('GET', '/servers/detail?all_tenants=1&tags=automatic-recovery', '2.53'))).toEqual(['a', 'c']);
    expect(names(await call('GET', '/servers/detail?all_tenants=1&tags=automatic-recovery,x', '2.53'))).toEqual(['c']);
    expect(names(await call('GET', '/servers/detail?all_tenants=1&tags-any=automatic-recovery,x', '2.53'))).toEqual(['a', 'b', 'c']);
    expect(names(await call('GET', '/servers/detail?all_tenants=1&not-tags=automatic-recovery', '2.53'))).toEqual(['b']);
    expect(names(await call('GET', '/servers/detail?all_tenants=1&tags=automatic-recovery', '2.25'))).toEqual(['a', 'b', 'c']);
    const demo = await token('demo', 'demo');
    expect(names(await call('GET', '/servers/detail?all_tenants=1&host=c1', '2.53', undefined, demo))).toEqual(['a', 'c']);
    expect((await call('POST', '/servers/x/action', '2.53', { evacuate: {} }, demo)).status).toBe(403);
  });

  it('changes-since lists the servers whose `updated` is at or after it (second precision, as Nova prints it); a bad time is 400', async () => {
    sim = await startNovaSim({
      hosts: ['c1', 'c2'],
      servers: [
        { name: 'a', host: 'c1', tags: ['automatic-recovery'] },
        { name: 'b', host: 'c1', tags: [] },
      ],
      claimMs: 10,
      rebuildMs: 50,
    });
    sim.model.killCompute('c1');
    sim.model.setForcedDown('c1', true);
    const all = await call('GET', '/servers/detail?all_tenants=1', '2.93');
    const updated: string = all.body.servers[0].updated;
    expect(updated).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const a = all.body.servers.find((s: { name: string }) => s.name === 'a').id;
    // Everything was created this second: a window from a minute ago lists both, one from the future none.
    const ago = new Date(Date.now() - 60_000).toISOString();
    const later = new Date(Date.now() + 60_000).toISOString();
    expect((await call('GET', `/servers/detail?all_tenants=1&changes-since=${ago}`, '2.93')).body.servers).toHaveLength(2);
    expect((await call('GET', `/servers/detail?all_tenants=1&changes-since=${later}`, '2.93')).body.servers).toHaveLength(0);
    // A window starting at least a whole second after the creation (Nova's times have seconds only).
    await new Promise((r) => setTimeout(r, 2_100));
    const since = new Date(Date.now() - 1_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    expect((await call('POST', `/servers/${a}/action`, '2.93', { evacuate: {} })).status).toBe(200);
    // Only the evacuated server changed since then.
    const changed = await call('GET', `/servers/detail?all_tenants=1&changes-since=${since}`, '2.93');
    expect(changed.body.servers.map((s: { name: string }) => s.name)).toEqual(['a']);
    const bad = await call('GET', '/servers/detail?all_tenants=1&changes-since=yesterday', '2.93');
    expect(bad.status).toBe(400);
    expect(bad.body.badRequest.message).toMatch(/changes-since/);
  });

  it("evacuate: refusals with real Nova's messages, then accepted -> pre-migrating -> done, ACTIVE elsewhere", async () => {
    // A rebuild long enough for the checks made while it runs (REBUILD, 409, pre-migrating) on a busy machine.
    const servers = [{ name: 'vm', host: 'compute-2' }];
    sim = await startNovaSim({ hosts: ['compute-1', 'compute-2'], servers, claimMs: 20, rebuildMs: 1000 });
    const id = [...sim.model.servers.keys()][0]!;
    const inUse = await call('POST', `/servers/${id}/action`, '2.93', { evacuate: {} });
    expect(inUse.status).toBe(400);
    expect(inUse.body.badRequest.message).toBe('Compute service of compute-2 is still in use.');
    sim.model.killCompute('compute-2');
    expect((await call('POST', `/servers/${id}/action`, '2.93', { evacuate: {} })).status).toBe(400); // service_down_time not over
    sim.model.mustService('compute-2').forcedDown = true;
    expect((await call('POST', `/servers/${id}/action`, '2.93', { evacuate: { host: 'compute-2' } })).body.badRequest.message).toBe(
      realFault('{"evacuate": {"host": "compute-2"}}'),
    );
    expect((await call('POST', `/servers/${id}/action`, '2.93', { evacuate: { host: 'nowhere' } })).body.itemNotFound.message).toBe(
      realFault('{"evacuate": {"host": "nowhere"}}'),
    );
    const missing = '00000000-0000-0000-0000-000000000000';
    expect((await call('POST', `/servers/${missing}/action`, '2.93', { evacuate: {} })).body.itemNotFound.message).toBe(
      realFault(`POST /servers/${missing}/action`),
    );
    const ok = await call('POST', `/servers/${id}/action`, '2.93', { evacuate: {} });
    expect(ok.status).toBe(200);
    expect(ok.body).toBeUndefined();
    const during = (await call('GET', `/servers/${id}`, '2.93')).body.server;
    expect([during.status, during['OS-EXT-STS:task_state'], during['OS-EXT-SRV-ATTR:host']]).toEqual([
      'REBUILD',
      'rebuilding',
      'compute-2',
    ]);
    const conflict = await call('POST', `/servers/${id}/action`, '2.93', { evacuate: {} });
    expect(conflict.status).toBe(409);
    expect(conflict.body.conflictingRequest.message).toBe(`Cannot 'evacuate' instance ${id} while it is in task_state rebuilding`);
    // The destination claimed (accepted -> pre-migrating), then the rebuild done: waited for, state by state.
    await expect
      .poll(async () => (await call('GET', `/os-migrations?instance_uuid=${id}`, '2.80')).body.migrations[0], POLL)
      .toMatchObject({ status: 'pre-migrating', dest_compute: 'compute-1', migration_type: 'evacuation' });
    const server = async (): Promise<unknown[]> => {
      const s = (await call('GET', `/servers/${id}`, '2.93')).body.server;
      return [s.status, s['OS-EXT-STS:task_state'], s['OS-EXT-SRV-ATTR:host']];
    };
    await expect.poll(server, POLL).not.toEqual(['REBUILD', 'rebuilding', 'compute-2']);
    expect(await server()).toEqual(['ACTIVE', null, 'compute-1']);
    const mig = (await call('GET', `/os-migrations?instance_uuid=${id}&migration_type=evacuation`, '2.80')).body.migrations[0];
    const realMig = JSON.parse(/\{"migrations": .*\}/.exec(transcript)![0]).migrations[0];
    expect(Object.keys(mig).sort()).toEqual(Object.keys(realMig).sort());
    expect(mig.status).toBe('done');
    expect((await call('GET', `/os-migrations?instance_uuid=${id}`, '2.1')).body.migrations[0].migration_type).toBeUndefined();
    // Already moved: its new host is up, so a second evacuate is refused with 400 (verify-transcript).
    expect((await call('POST', `/servers/${id}/action`, '2.93', { evacuate: {} })).body.badRequest.message).toBe(
      'Compute service of compute-1 is still in use.',
    );
  });

  it('Zed mode accepts a second evacuate during the rebuild and leaves the server stuck', async () => {
    sim = await startNovaSim({
      hosts: ['compute-1', 'compute-2'],
      servers: [{ name: 'vm', host: 'compute-1' }],
      mode: 'zed',
      claimMs: 20,
      rebuildMs: 80,
    });
    const id = [...sim.model.servers.keys()][0]!;
    sim.model.mustService('compute-1').forcedDown = true;
    expect((await call('POST', `/servers/${id}/action`, '2.93', { evacuate: {} })).status).toBe(200);
    expect((await call('POST', `/servers/${id}/action`, '2.93', { evacuate: {} })).status).toBe(200);
    // Both rebuilds over: one migration left in each end state.
    const ends = async (): Promise<string[]> =>
      (await call('GET', `/os-migrations?instance_uuid=${id}`, '2.80')).body.migrations.map((m: { status: string }) => m.status);
    await expect.poll(ends, POLL).toEqual(['done', 'failed']);
    const s = (await call('GET', `/servers/${id}`, '2.93')).body.server;
    // verify-transcript.txt: status REBUILD, vm_state error, task_state rebuild_block_device_mapping, migrations done + failed.
    expect([s.status, s['OS-EXT-STS:vm_state'], s['OS-EXT-STS:task_state'], s['OS-EXT-SRV-ATTR:host']]).toEqual([
      'REBUILD',
      'error',
      'rebuild_block_device_mapping',
      'compute-2',
    ]);
    expect(
      (await call('GET', `/os-migrations?instance_uuid=${id}`, '2.80')).body.migrations.map((m: { status: string }) => m.status),
    ).toEqual(['done', 'failed']);
    // The way out the harness used: os-resetState (202), invalid states refused like Nova.
    expect((await call('POST', `/servers/${id}/action`, '2.93', { 'os-resetState': { state: 'active' } })).status).toBe(202);
    expect((await call('POST', `/servers/${id}/action`, '2.93', { 'os-resetState': { state: 'bogus' } })).body.badRequest.message).toBe(
      realFault('{"os-resetState": {"state": "bogus"}}'),
    );
  });

  it('force-up is refused while done evacuation records remain, until the compute restarts', async () => {
    sim = await startNovaSim({
      hosts: ['compute-1', 'compute-2'],
      servers: [{ name: 'vm', host: 'compute-1' }],
      claimMs: 5,
      rebuildMs: 20,
      initHostMs: 30,
    });
    const id = [...sim.model.servers.keys()][0]!;
    sim.model.killCompute('compute-1');
    await call('PUT', '/os-services/force-down', '2.11', { host: 'compute-1', binary: 'nova-compute', forced_down: true });
    await call('POST', `/servers/${id}/action`, '2.93', { evacuate: {} });
    const migration = async (): Promise<string> =>
      (await call('GET', `/os-migrations?instance_uuid=${id}`, '2.80')).body.migrations[0].status;
    await expect.poll(migration, POLL).toBe('done');
    const refused = await call('PUT', '/os-services/force-down', '2.11', { host: 'compute-1', binary: 'nova-compute', forced_down: false });
    expect(refused.status).toBe(400);
    expect(refused.body.badRequest.message).toMatch(/^Unable to force up host compute-1 as `done` evacuation migration records remain/);
    sim.model.restartCompute('compute-1');
    // Its init_host moves the record to `completed`; then forcing it up is allowed.
    await expect.poll(migration, POLL).toBe('completed');
    expect(
      (await call('PUT', '/os-services/force-down', '2.11', { host: 'compute-1', binary: 'nova-compute', forced_down: false })).status,
    ).toBe(200);
  });
});
