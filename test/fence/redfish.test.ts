import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeTestCerts, type TestCerts } from '../../bench/test-certs.js';
import { redfishPowerDevice } from '../../src/fence-agent/redfish-agent.js';
import { FENCING_DEFAULTS, type FenceDeviceConfig } from '../../src/fence/config.js';
import { createDevice } from '../../src/fence/devices.js';
import { parseAgentMetadata } from '../../src/fence/metadata.js';
import { startRedfishBmc, type RedfishBmc, type RedfishBmcOptions } from '../../src/testbed/bmc/redfish-bmc.js';
import { agentPath, ensureBuilt } from '../helpers/build.js';
import { memoryLogger } from '../helpers/logs.js';
import { haveTools } from '../helpers/require.js';

/**
 * Native Redfish fencing against the project's test BMC. First the BMC is proven to speak real
 * Redfish — Debian's own clients (ClusterLabs fence_redfish, redfishtool) drive it over TLS checked
 * against the test CA — then our agent and the fencer's in-process device fence it the same way.
 */
const execFileP = promisify(execFile);
const run = haveTools('Redfish fencing against the test BMC', ['fence_redfish', 'redfishtool', 'openssl']);
let certs: TestCerts;
let dir: string;
const bmcs: RedfishBmc[] = [];

async function bmc(o: Partial<RedfishBmcOptions> = {}): Promise<RedfishBmc> {
  const b = await startRedfishBmc({ key: readFileSync(certs.serverKey, 'utf8'), cert: readFileSync(certs.serverCert, 'utf8'), ...o });
  bmcs.push(b);
  return b;
}

/** Runs an agent with options on stdin, as Pacemaker does; never rejects. */
async function agent(path: string, opts: Record<string, string>, env: NodeJS.ProcessEnv = process.env) {
  const input = Object.entries(opts)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n');
  return new Promise<{ code: number; out: string; err: string }>((resolve) => {
    const child = execFile(path, [], { env, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, out: stdout, err: stderr }),
    );
    child.stdin!.end(input);
  });
}

const opts = (b: RedfishBmc, extra: Record<string, string> = {}): Record<string, string> => ({
  ip: b.host,
  ipport: String(b.port),
  username: b.username,
  password: b.password,
  ...extra,
});

function deviceConfig(b: RedfishBmc, options: Record<string, string> = {}): FenceDeviceConfig {
  return {
    name: 'rf',
    agent: 'native-redfish',
    options: { ip: b.host, ipport: String(b.port), username: b.username, ssl_ca: certs.caFile, power_timeout: '5', ...options },
    password: b.password,
    timeoutMs: FENCING_DEFAULTS.actionTimeoutMs,
    verify: true,
  };
}

describe.runIf(run)('Redfish: the test BMC, Debian clients, our agent and device', () => {
  beforeAll(async () => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'iha-redfish-'));
    certs = await makeTestCerts(dir);
  });
  afterEach(async () => {
    await Promise.all(bmcs.splice(0).map((b) => b.stop()));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("the test BMC speaks Redfish: Debian's fence_redfish verifies its certificate, reads status, powers it off and on", async () => {
    const b = await bmc();
    // python-requests takes the CA bundle from the environment: TLS is checked, not switched off.
    const env = { ...process.env, REQUESTS_CA_BUNDLE: certs.caFile };
    const fr = (action: string, extra: Record<string, string> = {}) => agent('fence_redfish', { ...opts(b, extra), ssl: '1', action }, env);
    expect((await fr('status')).out).toMatch(/Status: ON/);
    const off = await fr('off');
    expect([off.code, off.out.trim()]).toEqual([0, 'Success: Powered OFF']);
    expect(b.power()).toBe('Off');
    expect(await fr('status')).toMatchObject({ code: 2 });
    expect((await fr('on')).code).toBe(0);
    expect(b.power()).toBe('On');
    expect(b.resets()).toEqual(['ForceOff', 'On']);
    expect((await fr('status', { password: 'wrong' })).code).not.toBe(0);
  });

  it("the test BMC speaks Redfish: Debian's redfishtool lists the system and resets it, with basic and session auth", async () => {
    const b = await bmc();
    const rt = (...args: string[]) =>
      execFileP('redfishtool', ['-r', `${b.host}:${b.port}`, '-u', b.username, '-p', b.password, '-S', 'Always', ...args], {
        timeout: 30_000,
      });
    const systems = JSON.parse((await rt('Systems')).stdout) as { Members: Array<{ '@odata.id': string }> };
    expect(systems.Members.map((m) => m['@odata.id'])).toEqual(['/redfish/v1/Systems/1']);
    await rt('Systems', '-I', '1', 'reset', 'ForceOff');
    expect(b.power()).toBe('Off');
    const sys = JSON.parse((await rt('-A', 'Session', 'Systems', '-I', '1', 'get')).stdout) as { PowerState: string };
    expect(sys.PowerState).toBe('Off');
    expect(b.requests()).toContain('POST /redfish/v1/SessionService/Sessions');
  });

  it('fence_redfish_native: status, verified off, already off, on — with the exit codes of fence-agents', async () => {
    const b = await bmc({ transitionMs: 300 });
    const path = agentPath('fence_redfish_native');
    const our = (action: string, extra: Record<string, string> = {}) =>
      agent(path, { ...opts(b, { ssl_ca: certs.caFile, ...extra }), action });
    expect(await our('status')).toMatchObject({ code: 0, out: 'Status: ON\n' });
    const off = await our('off');
    expect([off.code, off.out]).toEqual([0, 'Success: Powered OFF\n']);
    // Verified: the agent answered only once the BMC said Off (PoweringOff is not off).
    expect(b.power()).toBe('Off');
    expect(await our('status')).toMatchObject({ code: 2, out: 'Status: OFF\n' });
    expect((await our('off')).out).toBe('Success: Already OFF\n');
    expect(b.resets()).toEqual(['ForceOff']);
    expect((await our('on')).code).toBe(0);
    // On is not a fence: a system on its way up (PoweringOn) counts as on, so the agent may answer first.
    expect(['PoweringOn', 'On']).toContain(b.power());
    const meta = parseAgentMetadata((await our('metadata')).out);
    expect([...meta.parameters.keys()]).toEqual(
      expect.arrayContaining(['ip', 'ipport', 'username', 'password', 'ssl_insecure', 'systems_uri', 'redfish_uri']),
    );
  });

  it("checks the BMC's certificate unless told not to, and never prints the password", async () => {
    const b = await bmc();
    const path = agentPath('fence_redfish_native');
    const unchecked = await agent(path, { ...opts(b), action: 'status' });
    expect(unchecked.code).toBe(1);
    expect(unchecked.err).toMatch(/certificate/);
    expect(await agent(path, { ...opts(b, { ssl_insecure: '1' }), action: 'status' })).toMatchObject({ code: 0 });
    const wrong = await agent(path, { ...opts(b, { ssl_ca: certs.caFile, password: 'not-it-Secret9' }), action: 'status', verbose: '1' });
    expect(wrong.code).toBe(1);
    expect(wrong.err).toMatch(/401/);
    expect(wrong.out + wrong.err).not.toContain('not-it-Secret9');
  });

  it('the native-redfish device fences with a session, deletes it after, and reports an already-off host as fenced without a reset', async () => {
    const b = await bmc({ alreadyInStateStatus: 409 });
    const { log, text } = memoryLogger();
    const dev = createDevice(deviceConfig(b, { redfish_auth: 'session' }), log);
    const off = await dev.run('off', new AbortController().signal);
    expect(off).toMatchObject({ ok: true, power: 'off' });
    expect(b.power()).toBe('Off');
    expect(b.sessions()).toBe(0);
    const again = await dev.run('off', new AbortController().signal);
    expect(again).toMatchObject({ ok: true, power: 'off', detail: 'already off' });
    expect(b.resets()).toEqual(['ForceOff']);
    expect(await dev.run('status', new AbortController().signal)).toMatchObject({ ok: true, power: 'off', exitCode: 2 });
    expect(text()).not.toContain(b.password);
  });

  it('a BMC answering 5xx fails the attempt with its status, and a slow power-off is verified only at Off', async () => {
    const failing = await bmc();
    failing.failNext(10, 503);
    const res = await createDevice(deviceConfig(failing), memoryLogger().log).run('off', new AbortController().signal);
    expect(res.ok).toBe(false);
    expect(res.detail).toMatch(/503/);
    expect(failing.power()).toBe('On');

    const slow = await bmc({ transitionMs: 800 });
    const seen: string[] = [];
    slow.onPower((p) => seen.push(p));
    const ok = await createDevice(deviceConfig(slow), memoryLogger().log).run('off', new AbortController().signal);
    expect([ok.ok, slow.power(), seen]).toEqual([true, 'Off', ['Off']]);
  });

  it('two systems and no systems_uri: refused, naming both; systems_uri picks one', async () => {
    const b = await bmc({ systems: 2 });
    const ambiguous = await createDevice(deviceConfig(b), memoryLogger().log).run('status', new AbortController().signal);
    expect(ambiguous.ok).toBe(false);
    expect(ambiguous.detail).toMatch(/Systems\/1.*Systems\/2.*systems_uri/);
    const chosen = await createDevice(deviceConfig(b, { systems_uri: '/redfish/v1/Systems/1' }), memoryLogger().log).run(
      'status',
      new AbortController().signal,
    );
    expect(chosen).toMatchObject({ ok: true, power: 'on' });
  });
});

describe('Redfish power device: a refused Reset is judged by the state read again', () => {
  const device = (code: number, after: 'On' | 'Off' | 'PoweringOff') =>
    redfishPowerDevice({ reset: async () => code, powerState: async () => after });

  it.each([
    [409, 'Off'],
    [400, 'Off'],
    [409, 'PoweringOff'],
  ] as const)('ForceOff answered %i with the system %s: accepted (the loop then polls for Off)', async (code, after) => {
    await expect(device(code, after).setPower('off')).resolves.toBeUndefined();
  });

  it.each([409, 400])('ForceOff answered %i with the system still On: an error naming both', async (code) => {
    await expect(device(code, 'On').setPower('off')).rejects.toThrow(new RegExp(`refused \\(${code}\\) and PowerState is On`));
  });

  it('PoweringOff is never read as off', async () => {
    expect(await device(204, 'PoweringOff').getPower()).toBe('on');
  });
});
