#!/usr/bin/env node
// The harness's REST chores against its own loopback cloud (Node's fetch, no dependencies):
//   admin.mjs keystone                 service project, service users and the catalog (idempotent)
//   admin.mjs wait-computes N [S]      compute-1..N's nova-compute services report up
//   admin.mjs wait-hypervisors N [S]   ... and their compute nodes are mapped into the cell
//   admin.mjs baseline N PER_HOST      every compute enabled and not forced down; PER_HOST servers
//                                      on each host (odd ones tagged automatic-recovery), ACTIVE,
//                                      each on its own home host: what every test starts from
//   admin.mjs reset-services           every nova-compute service enabled and not forced down
//   admin.mjs status                   services and servers, one line each
// Credentials are the cloud 'instance-ha-ci' of $OS_CLIENT_CONFIG_FILE, written by up.sh.
import { readFileSync } from 'node:fs';

const ADDR = '127.0.0.1';
const KEYSTONE = `http://${ADDR}:5000/v3`;
const NOVA = `http://${ADDR}:8774/v2.1`;
const GLANCE = `http://${ADDR}:9292`;
const REGION = 'RegionOne';
const TAG = 'automatic-recovery';
const IMAGE = 'iha-tiny';
const FLAVOR = 'iha.tiny';
// 2.74 lets a server be booted onto a named host; 2.53 addresses services by id (force-down).
const MICROVERSION = '2.74';
const CATALOG = [
  ['nova', 'compute', NOVA],
  ['placement', 'placement', `http://${ADDR}:8778`],
  ['glance', 'image', GLANCE],
  ['neutron', 'network', `http://${ADDR}:9696`],
];

const servicePassword = process.env.IHA_CLOUD_SERVICE_PASSWORD ?? 'iha-service';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function adminPassword() {
  // clouds.yaml is ours and flat; a two-line scan is enough (no YAML dependency here).
  const text = readFileSync(process.env.OS_CLIENT_CONFIG_FILE, 'utf8');
  const m = /^\s*password:\s*(\S+)\s*$/m.exec(text);
  if (!m) throw new Error(`no password in ${process.env.OS_CLIENT_CONFIG_FILE}`);
  return m[1];
}

async function passwordToken(user, password, project) {
  const body = {
    auth: {
      identity: { methods: ['password'], password: { user: { name: user, domain: { name: 'Default' }, password } } },
      scope: { project: { name: project, domain: { name: 'Default' } } },
    },
  };
  const r = await fetch(`${KEYSTONE}/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (r.status !== 201) return null;
  return r.headers.get('x-subject-token');
}

class Api {
  static async connect() {
    const token = await passwordToken('admin', adminPassword(), 'admin');
    if (!token) throw new Error('Keystone refused the admin password');
    return new Api(token);
  }

  constructor(token) {
    this.token = token;
  }

  async call(method, url, body, { ok = [200, 201, 202, 204], headers = {} } = {}) {
    const h = { 'x-auth-token': this.token, 'x-openstack-nova-api-version': MICROVERSION, ...headers };
    let payload;
    if (body instanceof Uint8Array) payload = body;
    else if (body !== undefined) {
      payload = JSON.stringify(body);
      h['content-type'] = 'application/json';
    }
    const r = await fetch(url, { method, headers: h, body: payload });
    const text = await r.text();
    if (!ok.includes(r.status)) throw new Error(`${method} ${url} -> ${r.status} ${text.slice(0, 400)}`);
    return text && (r.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : null;
  }

  async find(collection, query) {
    const q = new URLSearchParams(query).toString();
    return (await this.call('GET', `${KEYSTONE}/${collection}?${q}`))[collection][0];
  }

  async ensure(collection, single, query, body) {
    return (await this.find(collection, query)) ?? (await this.call('POST', `${KEYSTONE}/${collection}`, { [single]: body }))[single];
  }
}

async function keystone() {
  const api = await Api.connect();
  const project = await api.ensure('projects', 'project', { name: 'service' }, { name: 'service', domain_id: 'default' });
  const role = await api.find('roles', { name: 'admin' });
  for (const [name, type, url] of CATALOG) {
    const user = await api.ensure('users', 'user', { name }, { name, domain_id: 'default', password: servicePassword });
    await api.call('PUT', `${KEYSTONE}/projects/${project.id}/users/${user.id}/roles/${role.id}`);
    // Only reset a password that no longer works: a change revokes the running services' tokens.
    if (!(await passwordToken(name, servicePassword, 'service'))) {
      await api.call('PATCH', `${KEYSTONE}/users/${user.id}`, { user: { password: servicePassword } });
    }
    const service = await api.ensure('services', 'service', { type }, { name, type });
    for (const iface of ['public', 'internal', 'admin']) {
      const ep = await api.find('endpoints', { service_id: service.id, interface: iface });
      if (ep && ep.url === url) continue;
      if (ep) await api.call('DELETE', `${KEYSTONE}/endpoints/${ep.id}`);
      await api.call('POST', `${KEYSTONE}/endpoints`, { endpoint: { service_id: service.id, interface: iface, url, region_id: REGION } });
    }
  }
  console.log(`keystone: project service, users and catalog for ${CATALOG.map((c) => c[0]).join(', ')}`);
}

const hostNames = (n) => Array.from({ length: n }, (_, i) => `compute-${i + 1}`);

async function services(api) {
  return (await api.call('GET', `${NOVA}/os-services?binary=nova-compute`)).services;
}

async function until(what, seconds, check) {
  const deadline = Date.now() + seconds * 1000;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await check();
      if (last === true) return;
    } catch (err) {
      last = err.message;
    }
    await sleep(500);
  }
  throw new Error(`${what} not reached in ${seconds} s (last: ${JSON.stringify(last)})`);
}

async function waitComputes(n, seconds) {
  const api = await Api.connect();
  await until(`${n} nova-compute services up`, seconds, async () => {
    const up = new Set((await services(api)).filter((s) => s.state === 'up').map((s) => s.host));
    const missing = hostNames(n).filter((h) => !up.has(h));
    return missing.length === 0 || `waiting for ${missing.join(', ')}`;
  });
  console.log(`computes: ${hostNames(n).join(', ')} up`);
}

async function waitHypervisors(n, seconds) {
  const api = await Api.connect();
  await until(`${n} hypervisors mapped`, seconds, async () => {
    const hv = (await api.call('GET', `${NOVA}/os-hypervisors/detail`)).hypervisors;
    const names = new Set(hv.map((h) => h.service?.host));
    const missing = hostNames(n).filter((h) => !names.has(h));
    return missing.length === 0 || `waiting for ${missing.join(', ')}`;
  });
}

async function image(api) {
  const found = (await api.call('GET', `${GLANCE}/v2/images?name=${IMAGE}`)).images.find((i) => i.status === 'active');
  if (found) return found.id;
  const img = await api.call('POST', `${GLANCE}/v2/images`, {
    name: IMAGE,
    disk_format: 'raw',
    container_format: 'bare',
    visibility: 'public',
  });
  // The fake driver never reads the image: a small blob of zeros is enough.
  await api.call('PUT', `${GLANCE}/v2/images/${img.id}/file`, new Uint8Array(64 * 1024), {
    headers: { 'content-type': 'application/octet-stream' },
  });
  await until('image active', 60, async () => (await api.call('GET', `${GLANCE}/v2/images/${img.id}`)).status === 'active');
  return img.id;
}

async function flavor(api) {
  const all = (await api.call('GET', `${NOVA}/flavors?is_public=None`)).flavors;
  const found = all.find((f) => f.name === FLAVOR);
  if (found) return found.id;
  return (await api.call('POST', `${NOVA}/flavors`, { flavor: { name: FLAVOR, id: FLAVOR, ram: 64, vcpus: 1, disk: 1 } })).flavor.id;
}

async function unlimitedQuota(api) {
  const project = (await api.call('GET', `${KEYSTONE}/auth/tokens`, undefined, { headers: { 'x-subject-token': api.token } })).token.project
    .id;
  await api.call('PUT', `${NOVA}/os-quota-sets/${project}`, { quota_set: { instances: -1, cores: -1, ram: -1 } });
}

async function allServers(api) {
  return (await api.call('GET', `${NOVA}/servers/detail?all_tenants=1&name=^srv-c`)).servers;
}

// A test may have left a host forced down or disabled: every test starts from a healthy cloud.
// First of all, since a forced-down service reads "down" to wait-computes however alive it is.
// Nova refuses (400) to force up a host while `done` evacuation records remain on it: a compute
// just powered on marks them completed once its init is through, so keep asking a while.
async function resetServices(api, seconds = 120) {
  await until('every nova-compute service enabled and not forced down', seconds, async () => {
    const left = (await services(api)).filter((s) => s.forced_down || s.status !== 'enabled');
    for (const s of left) {
      await api.call('PUT', `${NOVA}/os-services/${s.id}`, { forced_down: false, status: 'enabled' }, { ok: [200, 400] });
    }
    return left.length === 0 || `${left.map((s) => s.host).join(', ')} still forced down or disabled`;
  });
}

async function baseline(n, perHost) {
  const api = await Api.connect();
  await resetServices(api);
  await unlimitedQuota(api);
  const imageRef = await image(api);
  const flavorRef = await flavor(api);
  const want = new Map();
  for (const host of hostNames(n)) {
    for (let j = 1; j <= perHost; j++) want.set(`srv-c${host.split('-')[1]}-${j}`, { host, tagged: j % 2 === 1 });
  }
  // A server that moved, failed or is not ours any more is deleted and booted again at home.
  const existing = await allServers(api);
  const keep = new Set();
  for (const s of existing) {
    const home = want.get(s.name);
    if (home && s.status === 'ACTIVE' && s['OS-EXT-SRV-ATTR:host'] === home.host && !keep.has(s.name)) keep.add(s.name);
    else await api.call('DELETE', `${NOVA}/servers/${s.id}`, undefined, { ok: [204, 404] });
  }
  await until('stale servers deleted', 120, async () => {
    const left = (await allServers(api)).filter((s) => !keep.has(s.name));
    return left.length === 0 || `${left.length} still deleting`;
  });
  const boot = (name, home) =>
    api.call('POST', `${NOVA}/servers`, {
      server: { name, imageRef, flavorRef, networks: 'none', host: home.host, ...(home.tagged ? { tags: [TAG] } : {}) },
    });
  for (const [name, home] of want) if (!keep.has(name)) await boot(name, home);
  // A compute just revived (a test powered it off and on) is schedulable again only once Nova's
  // periodic task has synced its traits (up to a minute): a boot on it can fail NoValidHost though
  // nothing is wrong. Such a server is deleted and booted again, a few times; any other error stops.
  const reboots = new Map();
  await until('servers ACTIVE', 180, async () => {
    const list = await allServers(api);
    for (const error of list.filter((s) => s.status === 'ERROR')) {
      const why = JSON.stringify(error.fault ?? {});
      const tries = reboots.get(error.name) ?? 0;
      if (!/No valid host/i.test(why) || tries >= 5) throw new Error(`server ${error.name} went to ERROR: ${why}`);
      reboots.set(error.name, tries + 1);
      console.log(`server ${error.name} not scheduled yet (NoValidHost): booting it again (${tries + 1}/5)`);
      await api.call('DELETE', `${NOVA}/servers/${error.id}`, undefined, { ok: [204, 404] });
      await until(`${error.name} deleted`, 60, async () => !(await allServers(api)).some((s) => s.id === error.id) || 'deleting');
      await new Promise((r) => setTimeout(r, 5_000));
    }
    // Whatever is wanted and not there (deleted above, or a boot an earlier round could not send) is booted now.
    const present = new Set((await allServers(api)).map((s) => s.name));
    for (const [name, home] of want) if (!present.has(name)) await boot(name, home);
    const active = list.filter((s) => s.status === 'ACTIVE').length;
    return active === want.size || `${active}/${want.size} ACTIVE`;
  });
  console.log(`servers: ${want.size} ACTIVE on ${n} hosts (${keep.size} kept, ${want.size - keep.size} booted)`);
}

async function status() {
  const api = await Api.connect();
  for (const s of await services(api)) {
    console.log(`service ${s.host} state=${s.state} status=${s.status} forced_down=${s.forced_down}`);
  }
  for (const s of await allServers(api)) {
    console.log(`server ${s.name} ${s.status} on ${s['OS-EXT-SRV-ATTR:host']} tags=${(s.tags ?? []).join(',')}`);
  }
}

const [cmd, a, b] = process.argv.slice(2);
const commands = {
  keystone: () => keystone(),
  'wait-computes': () => waitComputes(Number(a), Number(b ?? 120)),
  'wait-hypervisors': () => waitHypervisors(Number(a), Number(b ?? 60)),
  'reset-services': async () => resetServices(await Api.connect()),
  baseline: () => baseline(Number(a), Number(b)),
  status: () => status(),
};
if (!commands[cmd]) {
  console.error(`usage: admin.mjs ${Object.keys(commands).join('|')} ...`);
  process.exit(64);
}
commands[cmd]().catch((err) => {
  console.error(`admin.mjs ${cmd}: ${err.message}`);
  process.exit(1);
});
