import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { startNovaSim, type NovaSim } from '../../src/testbed/nova-sim/server.js';
import { loadCredentials } from '../../src/openstack/credentials.js';
import { KeystoneError, MicroversionError, OpenStackApiError, OpenStackTransportError } from '../../src/openstack/errors.js';
import { createComputeClient } from '../../src/openstack/factory.js';
import { identityBase, KeystoneSession } from '../../src/openstack/keystone.js';
import { negotiate } from '../../src/openstack/microversions.js';
import { simClient, simHttp } from '../helpers/sim-client.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const tempDir = tempDirs();
let sim: NovaSim | null = null;
afterEach(async () => {
  await sim?.stop();
  sim = null;
});

function capture(): { log: ReturnType<typeof createLogger>; lines: () => string } {
  let out = '';
  const dest = new Writable({ write: (c, _e, cb) => ((out += c.toString()), cb()) });
  return { log: createLogger({ level: 'debug', destination: dest }), lines: () => out };
}

describe('microversion negotiation', () => {
  it.each([
    ['2.1', '2.93', { services: '2.53', servicesById: true, evacuate: '2.93', servers: '2.93', migrations: '2.80' }],
    ['2.1', '2.100', { services: '2.53', evacuate: '2.94', servers: '2.94' }],
    ['2.1', '2.60', { services: '2.53', evacuate: '2.60', migrations: '2.60' }],
    ['2.1', '2.30', { services: '2.11', servicesById: false, evacuate: '2.30' }],
  ])('range %s–%s', (lo, hi, want) => {
    expect(negotiate(lo, hi)).toMatchObject(want);
  });
  it.each([
    ['2.1', '2.10', /older than 2.11/],
    ['2.1', '2.20', /older than 2.26/],
    ['2.95', '2.100', /come back stopped/],
  ])('refuses %s–%s with a clear message', (lo, hi, msg) => {
    expect(() => negotiate(lo, hi)).toThrow(MicroversionError);
    expect(() => negotiate(lo, hi)).toThrow(msg);
  });
});

describe('Keystone session', () => {
  it('caches the token, renews it before expiry and after a 401', async () => {
    // Generous margins: the machine running the suite may be loaded.
    sim = await startNovaSim({ hosts: ['c1'], tokenTtlMs: 3_000 });
    const { compute, session } = simClient(sim, { renewBeforeMs: 1_500 });
    await compute.findService('c1');
    await compute.findService('c1');
    expect(sim.keystone.issued).toBe(1);
    await new Promise((r) => setTimeout(r, 1_600)); // inside the renew window
    await compute.findService('c1');
    expect(sim.keystone.issued).toBe(2);
    sim.keystone.revokeAll();
    expect(await compute.findService('c1')).not.toBeNull();
    expect(sim.keystone.issued).toBe(3);
    expect(await session.endpoint('compute')).toBe(`${sim.url}/compute/v2.1`);
  });

  it('shares one token issue among concurrent callers', async () => {
    sim = await startNovaSim({ hosts: ['c1'], tokenDelayMs: 100 });
    const { compute } = simClient(sim);
    await Promise.all([compute.findService('c1'), compute.findService('c1'), compute.listServers({ host: 'c1' })]);
    expect(sim.keystone.issued).toBe(1);
  });

  it('application credentials', async () => {
    sim = await startNovaSim({ hosts: ['c1'] });
    const http = simHttp();
    const session = new KeystoneSession({
      credentials: {
        authUrl: sim.authUrl,
        method: 'application_credential',
        applicationCredentialId: 'ac-admin',
        applicationCredentialSecret: 'ac-secret',
        interface: 'internal',
      },
      http,
      log: http.log,
      renewBeforeMs: 0,
    });
    expect(await session.endpoint('compute')).toBe(`${sim.url}/compute/v2.1`);
  });

  it('bad credentials: a KeystoneError, not retried', async () => {
    sim = await startNovaSim({ hosts: ['c1'] });
    const { compute } = simClient(sim, { password: 'wrong' });
    await expect(compute.findService('c1')).rejects.toThrow(KeystoneError);
    expect(sim.requests.filter((r) => r.includes('auth/tokens'))).toHaveLength(1);
  });

  it('normalizes auth URLs', () => {
    expect(identityBase('http://k:5000')).toBe('http://k:5000/v3');
    expect(identityBase('http://k:5000/v3/')).toBe('http://k:5000/v3');
  });
});

describe('compute client', () => {
  it('retries 5xx and dropped connections on idempotent calls, logs request ids, never secrets', async () => {
    sim = await startNovaSim({ hosts: ['c1'] });
    const { log, lines } = capture();
    const { compute } = simClient(sim, { log });
    sim.injectFault({ kind: 'status', status: 503, path: '/os-services', count: 1 });
    sim.injectFault({ kind: 'drop_before', path: '/os-services', count: 1, skip: 1 });
    expect(await compute.findService('c1')).toMatchObject({ host: 'c1', state: 'up', forcedDown: false });
    expect(sim.requests.filter((r) => r.startsWith('GET /compute/v2.1/os-services'))).toHaveLength(3);
    expect(lines()).toMatch(/"requestId":"req-[0-9a-f-]+"/);
    expect(lines()).not.toMatch(/"password"/);
    expect(lines()).not.toMatch(/gAAAA/); // tokens
  });

  it('times out a stalled call and retries it', async () => {
    sim = await startNovaSim({ hosts: ['c1'] });
    const { compute } = simClient(sim, { http: { requestTimeoutMs: 600 } });
    sim.injectFault({ kind: 'delay', delayMs: 1_500, path: '/os-services', count: 1 });
    expect(await compute.findService('c1')).not.toBeNull();
  });

  it("4xx: never retried, reported with Nova's fault message", async () => {
    sim = await startNovaSim({ hosts: ['c1', 'c2'], servers: [{ name: 'a', host: 'c1' }] });
    const { compute } = simClient(sim);
    const id = [...sim.model.servers.keys()][0]!;
    const err = await compute.evacuate(id, undefined).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenStackApiError);
    expect((err as OpenStackApiError).isServiceInUse).toBe(true);
    expect((err as OpenStackApiError).message).toMatch(/400 badRequest: Compute service of c1 is still in use\. \(request req-/);
    expect(sim.requests.filter((r) => r.includes('/action'))).toHaveLength(1);
  });

  it('evacuate is sent once: a lost answer is a transport error, not a retry', async () => {
    sim = await startNovaSim({ hosts: ['c1', 'c2'], servers: [{ name: 'a', host: 'c1' }] });
    const { compute } = simClient(sim);
    const id = [...sim.model.servers.keys()][0]!;
    sim.model.mustService('c1').forcedDown = true;
    sim.injectFault({ kind: 'drop_after', path: '/action', count: 1 });
    await expect(compute.evacuate(id, undefined)).rejects.toBeInstanceOf(OpenStackTransportError);
    expect(sim.model.evacuateCalls.get(id)).toBe(1);
    expect(sim.model.evacuateAccepted.get(id)).toBe(1);
  });

  it('old clouds: the 2.11 host/binary force-down form; too old: a clear error', async () => {
    sim = await startNovaSim({ hosts: ['c1'], maxVersion: '2.40' });
    const { compute } = simClient(sim);
    await compute.setForcedDown('c1', true);
    await compute.setServiceEnabled('c1', false, 'instance-ha: test');
    expect(sim.requests).toContain('PUT /compute/v2.1/os-services/force-down');
    expect(sim.requests).toContain('PUT /compute/v2.1/os-services/disable-log-reason');
    expect(sim.model.services.get('c1')).toMatchObject({ forcedDown: true, status: 'disabled', disabledReason: 'instance-ha: test' });
    await sim.stop();
    sim = await startNovaSim({ hosts: ['c1'], maxVersion: '2.10' });
    await expect(simClient(sim).compute.findService('c1')).rejects.toThrow(/older than 2.11: no service force-down/);
  });

  it('pages through long server listings', async () => {
    sim = await startNovaSim({ hosts: ['c1'], servers: Array.from({ length: 1203 }, (_, i) => ({ name: `s${i}`, host: 'c1' })) });
    const { compute } = simClient(sim);
    expect((await compute.listServers({ host: 'c1' })).length).toBe(1203);
  });
});

describe('credentials', () => {
  it('reads a clouds.yaml cloud (password and application credential)', () => {
    const dir = tempDir('iha-clouds-');
    const file = join(dir, 'clouds.yaml');
    writeFileSync(
      file,
      [
        'clouds:',
        '  pw:',
        '    auth: {auth_url: "http://k:5000/v3", username: admin, password: s3cret, project_name: admin, user_domain_name: Default, project_domain_name: Default}',
        '    region_name: RegionOne',
        '    interface: internal',
        '  ac:',
        '    auth_type: v3applicationcredential',
        '    auth: {auth_url: "http://k:5000", application_credential_id: abc, application_credential_secret: xyz}',
      ].join('\n'),
    );
    expect(loadCredentials({ cloud: 'pw', file, env: {} })).toMatchObject({
      method: 'password',
      username: 'admin',
      password: 's3cret',
      regionName: 'RegionOne',
      interface: 'internal',
    });
    expect(loadCredentials({ cloud: 'ac', env: { OS_CLIENT_CONFIG_FILE: file } })).toMatchObject({
      method: 'application_credential',
      applicationCredentialId: 'abc',
    });
    expect(() => loadCredentials({ cloud: 'nope', file, env: {} })).toThrow(/cloud 'nope' not found/);
  });

  it('reads OS_* variables and names what is missing', () => {
    expect(
      loadCredentials({
        env: { OS_AUTH_URL: 'http://k/v3', OS_USERNAME: 'u', OS_PASSWORD: 'p', OS_PROJECT_NAME: 'x', OS_INTERFACE: 'publicURL' },
      }),
    ).toMatchObject({ method: 'password', interface: 'public', projectName: 'x' });
    expect(() => loadCredentials({ env: {} })).toThrow(/no cloud configured/);
    expect(() => loadCredentials({ env: { OS_AUTH_URL: 'http://k/v3', OS_USERNAME: 'u' } })).toThrow(/without a password/);
  });

  it('createComputeClient works end to end from OS_* variables', async () => {
    sim = await startNovaSim({ hosts: ['c1'] });
    const { log } = capture();
    const c = createComputeClient(
      { requestTimeoutMs: 2000, retries: 1, minBackoffMs: 5, maxBackoffMs: 10, tokenRenewBeforeMs: 0 },
      {
        log,
        env: {
          OS_AUTH_URL: sim.authUrl,
          OS_USERNAME: 'admin',
          OS_PASSWORD: 'admin',
          OS_PROJECT_NAME: 'admin',
          OS_REGION_NAME: 'RegionOne',
        },
      },
    );
    expect((await c.versions()).max).toBe('2.96');
  });
});

describe('migrations paging', () => {
  it('follows migrations_links past the 1000-record page', async () => {
    sim = await startNovaSim({ hosts: ['c1'] });
    for (let i = 0; i < 1501; i++) {
      sim.model.migrations.push({
        id: i + 1,
        uuid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
        instanceUuid: 'x',
        sourceCompute: 'c1',
        destCompute: 'c2',
        status: 'completed',
        createdAt: new Date().toISOString(),
        updatedAt: null,
        userId: 'u',
        projectId: 'p',
      });
    }
    const { compute } = simClient(sim);
    expect((await compute.listMigrations({ sourceCompute: 'c1' })).length).toBe(1501);
  });
});

describe('custom CA bundle', () => {
  it('trusts the configured cacert (and refuses the server without it)', async () => {
    const { execFileSync } = await import('node:child_process');
    const { readFileSync } = await import('node:fs');
    const dir = tempDir('iha-tls-');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    sim = await startNovaSim({
      hosts: ['c1'],
      tls: { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') },
    });
    const env = { OS_AUTH_URL: sim.authUrl, OS_USERNAME: 'admin', OS_PASSWORD: 'admin', OS_PROJECT_NAME: 'admin' };
    const base = { requestTimeoutMs: 2000, retries: 0, minBackoffMs: 5, maxBackoffMs: 10, tokenRenewBeforeMs: 0 };
    const { log } = capture();
    const trusted = createComputeClient({ ...base, cacert: join(dir, 'cert.pem') }, { log, env });
    expect((await trusted.findService('c1'))?.host).toBe('c1');
    const untrusted = createComputeClient(base, { log, env });
    await expect(untrusted.findService('c1')).rejects.toBeInstanceOf(OpenStackTransportError);
  });
});

describe('inline compute.auth', () => {
  it('authenticates with credentials from the monitor config', async () => {
    sim = await startNovaSim({ hosts: ['c1'] });
    const { log } = capture();
    const c = createComputeClient(
      {
        requestTimeoutMs: 2000,
        retries: 1,
        minBackoffMs: 5,
        maxBackoffMs: 10,
        tokenRenewBeforeMs: 0,
        auth: { authUrl: sim.authUrl, username: 'admin', password: 'admin', projectName: 'admin' },
      },
      { log, env: {} },
    );
    expect((await c.findService('c1'))?.host).toBe('c1');
  });
});
