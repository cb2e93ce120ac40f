import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeClusterFiles } from '../../src/testbed/demo/cluster-files.js';
import { agentPath, ensureBuilt } from '../helpers/build.js';
import { clusterBasePort } from '../helpers/ports.js';
import { CLI } from '../helpers/processes.js';
import { tempDirs } from '../helpers/temp-dirs.js';

/**
 * `instance-ha monitor` on a corrupt, mistyped or newer-format state file, or a corrupt recovery
 * journal: exit 65 with one line naming the file, what is wrong and what to do; never a stack trace.
 */
const tempDir = tempDirs();

async function monitorWith(
  files: Record<string, string>,
  recovery = false,
): Promise<{ code: number | null; stderr: string; file: string }> {
  const dir = tempDir('iha-corrupt-');
  const layout = writeClusterFiles(dir, {
    monitors: 1,
    hosts: ['cmp1'],
    basePort: await clusterBasePort(1),
    monitorExtra: () =>
      recovery
        ? {
            compute: { auth: { auth_url: 'http://127.0.0.1:9/v3', username: 'a', password_file: join(dir, 'pw'), project_name: 'p' } },
            recovery: { journal_dir: join(dir, 'journal') },
            fencing: {
              devices: { 'fake-cmp1': { agent: agentPath('fence_fake'), options: { state_file: join(dir, 'power') } } },
              hosts: { cmp1: { levels: [['fake-cmp1']] } },
            },
          }
        : {},
  });
  writeFileSync(join(dir, 'pw'), 'x\n', { mode: 0o600 });
  const stateDir = layout.monitors[0]!.stateDir;
  mkdirSync(join(dir, 'journal'), { recursive: true });
  mkdirSync(stateDir, { recursive: true });
  let file = '';
  for (const [name, text] of Object.entries(files)) {
    file = name.startsWith('journal/') ? join(dir, name) : join(stateDir, name);
    writeFileSync(file, text);
  }
  const r = spawnSync(process.execPath, [CLI, 'monitor', '--config', layout.monitors[0]!.config], { encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, stderr: r.stderr, file };
}

describe('a monitor refuses a state file it cannot read', () => {
  beforeAll(() => ensureBuilt());

  it.each([
    ['truncated JSON', '{"knownHosts":["cmp1"],"decis', /not valid JSON/],
    [
      'a wrong type',
      '{"decisions":[{"host":"cmp1","state":"fenced","bootId":7,"sinceMs":1,"fenceAttempts":1}]}',
      /'decisions\[0\]\.bootId' must be a string/,
    ],
    ['a newer format', '{"format":99,"knownHosts":[]}', /written by instance-ha state format 99, this build reads up to format 1; upgrade/],
  ])('%s: exit 65, one line naming the file and what to do', async (_what, text, why) => {
    const r = await monitorWith({ 'monitor-state.json': text });
    expect(r.code).toBe(65);
    const lines = r.stderr.trim().split('\n');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toContain(`instance-ha monitor: ${r.file}: `);
    expect(lines[0]).toMatch(why);
    expect(r.stderr).not.toMatch(/\n\s+at |SyntaxError|TypeError/);
  });

  it('a corrupt recovery journal: exit 65 naming the file and line', async () => {
    const r = await monitorWith({ 'journal/cmp1.jsonl': '{"t":"begin","at":1,"host":"cmp1","incident":"i"}\n{"t":"intent",\n' }, true);
    expect(r.code, r.stderr).toBe(65);
    expect(r.stderr.trim()).toMatch(
      new RegExp(`^instance-ha monitor: ${r.file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: line 2: not valid JSON`),
    );
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
