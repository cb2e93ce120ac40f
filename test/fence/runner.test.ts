import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveAgent } from '../../src/fence/agents.js';
import { checkOptions, parseAgentMetadata } from '../../src/fence/metadata.js';
import { excerpt, redact } from '../../src/fence/redact.js';
import { runAgentProcess, stdinFor } from '../../src/fence/runner.js';
import { silentLogger } from '../../src/log.js';
import { agentPath, ensureBuilt } from '../helpers/build.js';
import { memoryLogger } from '../helpers/logs.js';

let dir: string;
const log = silentLogger();

function script(name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/bash\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
}

function pidAlive(pid: number): boolean {
  // A killed process may linger as a zombie until reaped (PID 1 reaps lazily here): check its state.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

beforeAll(() => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'iha-runner-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('redaction', () => {
  it('removes configured secrets and password-looking options', () => {
    expect(redact('login s3cret! failed', ['s3cret!'])).toBe('login [redacted] failed');
    expect(redact('password=abc passwd: xyz', [])).toBe('password=[redacted] passwd: [redacted]');
    expect(redact('ipmitool -I lanplus -P hunter2 -U admin', [])).toBe('ipmitool -I lanplus -P [redacted] -U admin');
    expect(redact('-P [set]', [])).toBe('-P [set]');
    expect(excerpt('x'.repeat(1000) + 'END', [], 10)).toBe('…xxxxxxxEND');
  });
});

describe('agent runner', () => {
  it('passes options on stdin only: not in argv, not in the environment', async () => {
    const out = join(dir, 'seen');
    const agent = script('fence_probe', `cat > ${out}.stdin; echo "$0 $*" > ${out}.argv; env > ${out}.env; exit 0`);
    const r = await runAgentProcess(
      { path: agent, action: 'off', options: { ip: '10.0.0.1', password: 'hunter2' }, secrets: ['hunter2'], timeoutMs: 5000 },
      log,
    );
    expect(r).toMatchObject({ outcome: 'ok', exitCode: 0 });
    expect(readFileSync(`${out}.stdin`, 'utf8')).toBe('action=off\nip=10.0.0.1\npassword=hunter2\n');
    expect(readFileSync(`${out}.argv`, 'utf8')).not.toContain('hunter2');
    expect(readFileSync(`${out}.env`, 'utf8')).not.toContain('hunter2');
  });

  it('refuses option values that would inject stdin lines', async () => {
    expect(() => stdinFor('off', { ip: '1.2.3.4\naction=on' })).toThrow(/newline/);
    await expect(
      runAgentProcess({ path: '/bin/true', action: 'off', options: { ip: 'a\nb' }, secrets: [], timeoutMs: 1000 }, log),
    ).rejects.toThrow(/newline/);
  });

  it('maps exit codes: status 0 = on, 2 = off, 1 = failed; a missing agent is a spawn error', async () => {
    const st = join(dir, 'fake.state');
    const fake = agentPath('fence_fake');
    expect(
      (await runAgentProcess({ path: fake, action: 'status', options: { state_file: st }, secrets: [], timeoutMs: 10_000 }, log)).outcome,
    ).toBe('ok');
    expect(
      (await runAgentProcess({ path: fake, action: 'off', options: { state_file: st }, secrets: [], timeoutMs: 10_000 }, log)).outcome,
    ).toBe('ok');
    expect(
      (await runAgentProcess({ path: fake, action: 'status', options: { state_file: st }, secrets: [], timeoutMs: 10_000 }, log)).outcome,
    ).toBe('off');
    const failed = await runAgentProcess(
      { path: fake, action: 'on', options: { state_file: st, fail_action: 'on' }, secrets: [], timeoutMs: 10_000 },
      log,
    );
    expect(failed).toMatchObject({ outcome: 'failed', exitCode: 1 });
    expect(failed.stderr).toMatch(/simulated failure of on/);
    expect(
      (await runAgentProcess({ path: join(dir, 'nope'), action: 'off', options: {}, secrets: [], timeoutMs: 1000 }, log)).outcome,
    ).toBe('spawn_error');
  });

  it('kills the whole process group of a hanging agent on timeout, even one ignoring SIGTERM', async () => {
    const pidFile = join(dir, 'child.pid');
    const agent = script('fence_hang', `trap '' TERM; sleep 1000 & echo $! > ${pidFile}; while true; do wait; done`);
    const r = await runAgentProcess({ path: agent, action: 'off', options: {}, secrets: [], timeoutMs: 1500 }, log); // long enough for bash to start on a loaded machine
    expect(r.outcome).toBe('timeout');
    const child = Number(readFileSync(pidFile, 'utf8'));
    // The group's SIGKILL is sent before the runner answers; on a loaded machine it lands a moment later.
    await expect.poll(() => pidAlive(child), { timeout: 3000, interval: 50 }).toBe(false);
  });

  it('stops on abort', async () => {
    const agent = script('fence_slow', 'sleep 1000');
    const ac = new AbortController();
    const p = runAgentProcess({ path: agent, action: 'off', options: {}, secrets: [], timeoutMs: 60_000, signal: ac.signal }, log);
    ac.abort();
    expect((await p).outcome).toBe('timeout');
  });

  it('redacts a password the agent prints on stderr, in the result and in our logs', async () => {
    const { log: mlog, text } = memoryLogger();
    const agent = script('fence_leaky', 'read -r a; read -r p; echo "debug: running ipmitool -P ${p#password=} and $p" >&2; exit 1');
    const r = await runAgentProcess(
      { path: agent, action: 'off', options: { password: 'Sup3r-Secret' }, secrets: ['Sup3r-Secret'], timeoutMs: 5000 },
      mlog,
    );
    expect(r.outcome).toBe('failed');
    expect(r.stderr).toContain('[redacted]');
    expect(r.stderr).not.toContain('Sup3r-Secret');
    mlog.warn({ detail: r.stderr }, 'fence attempt');
    expect(text()).not.toContain('Sup3r-Secret');
  });
});

describe('agent metadata', () => {
  it('parses our own agent metadata and checks options against it', async () => {
    const r = await runAgentProcess(
      { path: agentPath('fence_ipmi'), action: 'metadata', options: {}, secrets: [], timeoutMs: 10_000 },
      log,
    );
    const meta = parseAgentMetadata(r.stdout);
    expect(meta.name).toBe('fence_ipmi');
    expect(meta.actions.has('off') && meta.actions.has('status')).toBe(true);
    expect(checkOptions(meta, { ip: '127.0.0.1', username: 'admin', cipher: '3' }, { hasPassword: true })).toEqual([]);
    expect(checkOptions(meta, { ipaddress: 'x', privlvl: 'root', ipport: 'abc' }, { hasPassword: false })).toEqual([
      "option 'ipaddress' is not a parameter of fence_ipmi",
      "option 'privlvl' must be one of callback, user, operator, administrator, got 'root'",
      "option 'ipport' must be a whole number, got 'abc'",
      "option 'ip' is required by fence_ipmi",
      "option 'username' is required by fence_ipmi",
    ]);
    expect(checkOptions(meta, { ipaddr: '127.0.0.1', login: 'admin' }, { hasPassword: true })).toEqual([]);
  });
  it('finds agents in agents/ and refuses names that are not fence agents', () => {
    expect(resolveAgent('fence_fake')).toBe(agentPath('fence_fake'));
    expect(resolveAgent('../etc/passwd')).toBeUndefined();
    expect(resolveAgent('bash')).toBeUndefined();
    expect(existsSync(agentPath('fence_ipmi'))).toBe(true);
  });
});
