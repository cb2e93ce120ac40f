import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FenceDeviceConfig, FencingConfig } from '../../src/fence/config.js';
import { FENCING_DEFAULTS } from '../../src/fence/config.js';
import { TopologyFencer } from '../../src/fence/fencer.js';
import { SimBmc } from '../../src/testbed/bmc/sim-bmc.js';
import { silentLogger } from '../../src/log.js';
import { agentPath, ensureBuilt } from '../helpers/build.js';
import { memoryLogger } from '../helpers/logs.js';

let dir: string;
beforeAll(() => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'iha-fencer-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fake(name: string, options: Record<string, string> = {}, extra: Partial<FenceDeviceConfig> = {}): FenceDeviceConfig {
  return {
    name,
    agent: 'fence_fake',
    agentPath: agentPath('fence_fake'),
    options: { state_file: join(dir, `${name}.state`), ...options },
    timeoutMs: 10_000,
    verify: true,
    ...extra,
  };
}

function config(devices: FenceDeviceConfig[], levels: string[][], o: Partial<FencingConfig> = {}): FencingConfig {
  return {
    ...FENCING_DEFAULTS,
    kdump: { ...FENCING_DEFAULTS.kdump },
    retries: 1,
    retryMinDelayMs: 0,
    retryMaxDelayMs: 0,
    devices: new Map(devices.map((d) => [d.name, d])),
    hosts: new Map([['compute-1', { host: 'compute-1', levels, kdumpAddresses: [] }]]),
    ...o,
  };
}

const state = (name: string): string => readFileSync(join(dir, `${name}.state`), 'utf8').trim();
const signal = (): AbortSignal => new AbortController().signal;

describe('TopologyFencer with fence_fake agents', () => {
  it('tries levels in order; a level succeeds only when all its devices are verified off', async () => {
    const f = new TopologyFencer({
      config: config([fake('broken', { fail_action: 'off' }), fake('pdu-a'), fake('pdu-b')], [['broken'], ['pdu-a', 'pdu-b']]),
      log: silentLogger(),
      monitorId: 'ctl1',
    });
    const rec = await f.fence('compute-1', signal());
    expect(rec).toMatchObject({ ok: true, level: 2, devices: ['pdu-a', 'pdu-b'], agent: 'fence_fake', by: 'ctl1' });
    expect(state('pdu-a')).toBe('off');
    expect(state('pdu-b')).toBe('off');
    // level 1: off failed, status ON, retried once; level 2: off + status for each device
    expect(rec.attempts.map((a) => `${a.level}:${a.device}:${a.action}:${a.ok ? 'ok' : 'fail'}`)).toEqual([
      '1:broken:off:fail',
      '1:broken:status:ok',
      '1:broken:off:fail',
      '1:broken:status:ok',
      '2:pdu-a:off:ok',
      '2:pdu-a:status:ok',
      '2:pdu-b:off:ok',
      '2:pdu-b:status:ok',
    ]);
    expect(rec.attempts[0]!.detail).toMatch(/simulated failure of off/);
    expect(rec.attempts[0]!.exitCode).toBe(1);
  });

  it('a failed off on a host already off counts, after status confirms OFF (BMCs answer 409)', async () => {
    writeFileSync(join(dir, 'already.state'), 'off\n');
    const f = new TopologyFencer({
      config: config([fake('already', { fail_action: 'off' })], [['already']]),
      log: silentLogger(),
      monitorId: 'ctl1',
    });
    const rec = await f.fence('compute-1', signal());
    expect(rec).toMatchObject({ ok: true, level: 1 });
    expect(rec.attempts.map((a) => `${a.action}:${a.ok}`)).toEqual(['off:false', 'status:true']);
  });

  it('with verify off too, an off refused on a host already off counts once status reads OFF; while it reads ON it does not', async () => {
    writeFileSync(join(dir, 'noverify.state'), 'off\n');
    const f = new TopologyFencer({
      config: config([fake('noverify', { fail_action: 'off' }, { verify: false })], [['noverify']], { retries: 0 }),
      log: silentLogger(),
      monitorId: 'ctl1',
    });
    const rec = await f.fence('compute-1', signal());
    expect(rec).toMatchObject({ ok: true, level: 1 });
    expect(rec.attempts.map((a) => `${a.action}:${a.ok}`)).toEqual(['off:false', 'status:true']);
    writeFileSync(join(dir, 'noverify.state'), 'on\n');
    const on = await f.fence('compute-1', signal());
    expect(on.ok).toBe(false);
    expect(on.error).toMatch(/off failed \(exit 1\)/);
  });

  it('an agent whose off "succeeds" while status still reads ON is not a fence', async () => {
    const liar = join(dir, 'fence_liar');
    writeFileSync(liar, '#!/bin/sh\ncat >/dev/null\necho "Success: Powered OFF"\nexit 0\n', { mode: 0o755 });
    const f = new TopologyFencer({
      config: config([{ ...fake('liar'), agentPath: liar }], [['liar']]),
      log: silentLogger(),
      monitorId: 'ctl1',
    });
    const rec = await f.fence('compute-1', signal());
    expect(rec.ok).toBe(false);
    expect(rec.error).toMatch(/power not verified off after off: status on/);
  });

  it('fence_fake itself polls and fails an off whose power never goes off (power_timeout)', async () => {
    const f = new TopologyFencer({
      config: config([fake('noop', { power_off_noop: '1', power_timeout: '0.3' })], [['noop']], { retries: 0 }),
      log: silentLogger(),
      monitorId: 'ctl1',
    });
    const rec = await f.fence('compute-1', signal());
    expect(rec.ok).toBe(false);
    expect(rec.error).toMatch(/power did not reach OFF within 300ms/);
  });

  it('a hanging agent is killed at its timeout and the failure recorded; the next level is tried', async () => {
    const f = new TopologyFencer({
      config: config([fake('hang', { hang: '1' }, { timeoutMs: 500 }), fake('ok')], [['hang'], ['ok']], { retries: 0 }),
      log: silentLogger(),
      monitorId: 'ctl1',
    });
    const rec = await f.fence('compute-1', signal());
    expect(rec).toMatchObject({ ok: true, level: 2 });
    expect(rec.attempts[0]).toMatchObject({ device: 'hang', action: 'off', ok: false, exitCode: null });
    expect(rec.attempts[0]!.detail).toMatch(/timed out after 500ms \(process group killed\)/);
  });

  it('no topology, or no level succeeding: ok false with the reasons, never a throw', async () => {
    const f = new TopologyFencer({
      config: config([fake('bad', { fail_action: 'off' })], [['bad']], { retries: 0 }),
      log: silentLogger(),
      monitorId: 'ctl1',
    });
    expect(await f.fence('compute-9', signal())).toMatchObject({ ok: false, error: "no fencing topology for host 'compute-9'" });
    const rec = await f.fence('compute-1', signal());
    expect(rec.ok).toBe(false);
    expect(rec.error).toMatch(/level 1 device bad: off failed \(exit 1\)/);
  });

  it('a password printed by an agent on stderr is redacted in the record and the logs', async () => {
    const { log, text } = memoryLogger();
    const dev = fake(
      'leaky',
      { fail_action: 'off', stderr_echo: 'connecting with password Hunter2-Secret' },
      { password: 'Hunter2-Secret' },
    );
    const f = new TopologyFencer({ config: config([dev], [['leaky']], { retries: 0 }), log, monitorId: 'ctl1' });
    const rec = await f.fence('compute-1', signal());
    expect(JSON.stringify(rec)).not.toContain('Hunter2-Secret');
    expect(rec.attempts[0]!.detail).toContain('[redacted]');
    expect(text()).not.toContain('Hunter2-Secret');
    expect(text()).toContain('fence attempt');
  });

  it('with fence_kdump enabled, a dumping host is waited for before the power-off, and the wait recorded', async () => {
    const calls: string[] = [];
    const kdump = {
      waitWhileDumping: async (host: string, addresses: readonly string[]) => {
        calls.push(`${host}:${addresses.join(',')}`);
        return { dumping: true, waitedMs: 1234 };
      },
    };
    const cfg = config([fake('k')], [['k']]);
    cfg.kdump.enabled = true;
    cfg.hosts.get('compute-1')!.kdumpAddresses = ['10.0.0.5'];
    const rec = await new TopologyFencer({ config: cfg, log: silentLogger(), monitorId: 'ctl1', kdump }).fence('compute-1', signal());
    expect(calls).toEqual(['compute-1:10.0.0.5']);
    expect(rec.ok).toBe(true);
    expect(rec.attempts[0]).toMatchObject({
      level: 0,
      device: 'kdump',
      action: 'wait',
      ok: true,
      durationMs: 1234,
      detail: 'waited for the crash dump to finish',
    });
    expect(rec.attempts[1]).toMatchObject({ level: 1, action: 'off' });
  });

  it('operator actions: status and on through the first level', async () => {
    writeFileSync(join(dir, 'op.state'), 'off\n');
    const f = new TopologyFencer({ config: config([fake('op')], [['op']]), log: silentLogger(), monitorId: 'ctl1' });
    expect(await f.hostAction('compute-1', 'status', signal())).toMatchObject({ ok: true, power: { op: 'off' } });
    expect(await f.hostAction('compute-1', 'on', signal())).toMatchObject({ ok: true, power: { op: 'on' } });
    expect(state('op')).toBe('on');
  });
});

describe('TopologyFencer with the in-process native-ipmi device (simulated BMC)', () => {
  it('fences: off then status confirming off, one process, no agent started', async () => {
    const bmc = await SimBmc.start();
    try {
      const dev: FenceDeviceConfig = {
        name: 'bmc',
        agent: 'native-ipmi',
        options: { ip: bmc.host, ipport: String(bmc.port), username: 'admin', cipher: '3' },
        password: 'password',
        timeoutMs: 5000,
        verify: true,
      };
      const f = new TopologyFencer({ config: config([dev], [['bmc']]), log: silentLogger(), monitorId: 'ctl1' });
      const rec = await f.fence('compute-1', signal());
      expect(rec).toMatchObject({ ok: true, level: 1, agent: 'native-ipmi' });
      expect(rec.attempts.map((a) => `${a.action}:${a.exitCode}`)).toEqual(['off:0', 'status:2']);
      expect(bmc.power).toBe('off');
      const again = await f.fence('compute-1', signal());
      expect(again.ok).toBe(true);
      expect(again.attempts[0]!.detail).toBe('already off');
      expect(bmc.history).toEqual(['off']);
    } finally {
      await bmc.close();
    }
  });

  it('a wrong password is a failed fence with a clear, secret-free reason', async () => {
    const bmc = await SimBmc.start({ password: 'the-real-one' });
    try {
      const dev: FenceDeviceConfig = {
        name: 'bmc',
        agent: 'native-ipmi',
        options: { ip: bmc.host, ipport: String(bmc.port), username: 'admin' },
        password: 'Wr0ng-Pass',
        timeoutMs: 5000,
        verify: true,
      };
      const rec = await new TopologyFencer({
        config: config([dev], [['bmc']], { retries: 0 }),
        log: silentLogger(),
        monitorId: 'ctl1',
      }).fence('compute-1', signal());
      expect(rec.ok).toBe(false);
      expect(rec.error).toMatch(/wrong password/);
      expect(JSON.stringify(rec)).not.toContain('Wr0ng-Pass');
      expect(bmc.power).toBe('on');
    } finally {
      await bmc.close();
    }
  });
});

describe('TopologyFencer.checkPower (the early power check of a silent host)', () => {
  const fencer = (devices: FenceDeviceConfig[], levels: string[][], o: Partial<FencingConfig> = {}): TopologyFencer =>
    new TopologyFencer({ config: config(devices, levels, o), log: silentLogger(), monitorId: 'ctl1' });
  const setPower = (name: string, p: 'on' | 'off'): void => writeFileSync(join(dir, `${name}.state`), `${p}\n`);

  it('reads OFF only when every first-level device reads off; it powers nothing off itself', async () => {
    setPower('psu-a', 'off');
    setPower('psu-b', 'on');
    const f = fencer([fake('psu-a'), fake('psu-b'), fake('pdu')], [['psu-a', 'psu-b'], ['pdu']]);
    expect(await f.checkPower('compute-1', signal())).toEqual({ off: false, read: true, detail: 'psu-a=off, psu-b=on' });
    expect(state('psu-b')).toBe('on');
    setPower('psu-b', 'off');
    expect(await f.checkPower('compute-1', signal())).toEqual({ off: true, read: true, detail: 'psu-a=off, psu-b=off' });
  });

  it('a device that fails or hangs is no OFF reading, bounded by power_check.timeout', async () => {
    setPower('gone', 'off');
    const failing = fencer([fake('gone', { fail_action: 'status' })], [['gone']]);
    expect(await failing.checkPower('compute-1', signal())).toMatchObject({
      off: false,
      read: false,
      detail: expect.stringMatching(/^gone=failed/),
    });
    setPower('stuck', 'off');
    const hanging = fencer([fake('stuck', { hang: '1' })], [['stuck']], { powerCheck: { enabled: true, timeoutMs: 300, maxInFlight: 4 } });
    const started = Date.now();
    const r = await hanging.checkPower('compute-1', signal());
    expect(r).toMatchObject({ off: false, read: false, detail: expect.stringMatching(/^stuck=failed/) });
    // Well inside the device's own 10 s action timeout: the check's bound cut it short.
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('never reads OFF through a device not trusted to verify, nor for a host without a topology', async () => {
    setPower('blind', 'off');
    const f = fencer([fake('blind', {}, { verify: false })], [['blind']]);
    expect(await f.checkPower('compute-1', signal())).toMatchObject({ off: false, read: false, detail: expect.stringContaining('blind') });
    expect(await f.checkPower('compute-9', signal())).toEqual({ off: false, read: false, detail: 'no fencing topology' });
  });
});
