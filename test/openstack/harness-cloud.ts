import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireServices } from '../helpers/services.js';

/**
 * The project's own real cloud (test/openstack/harness/up.sh): where it is, whether it answers, and
 * the few admin calls the tests make that the product's client does not (os-migrations, power).
 */
export const HARNESS_DIR = fileURLToPath(new URL('./harness', import.meta.url));
export const CLOUD_DIR = process.env.IHA_CLOUD_DIR ?? '/var/lib/instance-ha-cloud';
export const CLOUDS_YAML = join(CLOUD_DIR, 'clouds.yaml');
export const CLOUD_NAME = 'instance-ha-ci';
const KEYSTONE = 'http://127.0.0.1:5000/v3';
const NOVA = 'http://127.0.0.1:8774/v2.1';
/** The harness's admin password (env.sh's default unless the caller set another). */
export const ADMIN_PASSWORD = process.env.IHA_CLOUD_ADMIN_PASSWORD ?? 'iha-admin';
const UP_HINT = 'bring it up with test/openstack/harness/up.sh (as root; .ci/run does)';

async function answers(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(3000) });
    return true;
  } catch {
    return false;
  }
}

/**
 * True when the harness cloud is up. Absent, the suites skip on a developer's machine but fail
 * under INSTANCE_HA_REQUIRE_SERVICES=1 (CI), because CI brings the cloud up before the tests.
 */
export async function harnessCloudUp(what: string): Promise<boolean> {
  const up = existsSync(CLOUDS_YAML) && (await answers(KEYSTONE)) && (await answers(`${NOVA}/`));
  if (up) return true;
  if (requireServices) throw new Error(`${what}: the real cloud is not up (${CLOUDS_YAML}, Keystone, Nova); ${UP_HINT}`);
  console.log(`${what} skipped: the real cloud is not up; ${UP_HINT}`);
  return false;
}

/** The environment the product's compute client reads the harness credentials from. */
export function cloudEnv(): NodeJS.ProcessEnv {
  return { ...process.env, OS_CLIENT_CONFIG_FILE: CLOUDS_YAML, OS_CLOUD: CLOUD_NAME };
}

/** power.sh off|on HOST: the host's nova-compute dies without a word to Nova, or starts again. */
export function harnessPower(action: 'off' | 'on', host: string): void {
  execFileSync(join(HARNESS_DIR, 'power.sh'), [action, host], { stdio: 'inherit' });
}

/** Puts every compute back to the baseline (enabled, up, servers at home): each test starts there. */
export function harnessBaseline(computes = 3, perHost = 2): void {
  // A host a test left forced down reads "down" however alive its nova-compute is: reset first.
  execFileSync('node', [join(HARNESS_DIR, 'admin.mjs'), 'reset-services'], { stdio: 'inherit', env: cloudEnv() });
  execFileSync('node', [join(HARNESS_DIR, 'admin.mjs'), 'wait-computes', String(computes), '180'], { stdio: 'inherit', env: cloudEnv() });
  execFileSync('node', [join(HARNESS_DIR, 'admin.mjs'), 'baseline', String(computes), String(perHost)], {
    stdio: 'inherit',
    env: cloudEnv(),
  });
}

export interface Migration {
  instance_uuid: string;
  migration_type: string;
  source_compute: string;
  dest_compute: string | null;
  status: string;
  created_at: string;
}

/** An admin token for the checks: one per call is fine at this rate. */
async function adminToken(): Promise<string> {
  const auth = await fetch(`${KEYSTONE}/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: { methods: ['password'], password: { user: { name: 'admin', domain: { name: 'Default' }, password: ADMIN_PASSWORD } } },
        scope: { project: { name: 'admin', domain: { name: 'Default' } } },
      },
    }),
  });
  if (auth.status !== 201) throw new Error(`Keystone: ${auth.status}`);
  return auth.headers.get('x-subject-token')!;
}

/** An admin call on Nova at microversion 2.59 (paged, filterable os-migrations; services by id). */
export async function adminCall<T>(method: 'GET' | 'PUT', path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { 'x-auth-token': await adminToken(), 'x-openstack-nova-api-version': '2.59' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(`${NOVA}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}

export function adminGet<T>(path: string): Promise<T> {
  return adminCall<T>('GET', path);
}

/**
 * Forces a compute's nova-compute service down (or clears it): a down host is no scheduling target
 * (ComputeFilter), which is how the tests take the cloud's spare capacity away and give it back.
 * Not `status: disabled`: on this harness a status change makes nova-api call the compute over RPC
 * (the COMPUTE_STATUS_DISABLED trait) and wait 60 s for a reply that never comes; forced_down is
 * only the service record.
 */
export async function setComputeForcedDown(host: string, forcedDown: boolean): Promise<void> {
  const q = new URLSearchParams({ binary: 'nova-compute', host });
  const { services } = await adminGet<{ services: Array<{ id: string }> }>(`/os-services?${q}`);
  if (services.length !== 1) throw new Error(`os-services: ${services.length} nova-compute services on ${host}`);
  await adminCall('PUT', `/os-services/${services[0]!.id}`, { forced_down: forcedDown });
}

/** Evacuations of `host`'s servers created since `sinceIso`, from Nova's own migration records. */
export async function evacuationsFrom(host: string, sinceIso: string): Promise<Migration[]> {
  const q = new URLSearchParams({ source_compute: host, migration_type: 'evacuation', 'changes-since': sinceIso });
  const { migrations } = await adminGet<{ migrations: Migration[] }>(`/os-migrations?${q}`);
  return migrations;
}
