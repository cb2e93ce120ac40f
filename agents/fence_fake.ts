/**
 * fence_fake: a fence agent whose "host" is a power state in a file (like fence_dummy), for tests
 * and the demo. Options: `state_file` (required), plus the common ones. Test hooks: `fail_action`
 * makes that action fail, `hang` makes the agent never answer, `stderr_echo` prints a text (e.g.
 * a leaked password) on stderr, `power_off_noop` makes off accepted but without effect.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { ACTIONS, COMMON_OPTIONS } from '../src/fence-agent/common-options.js';
import { agentMain, type AgentDefinition } from '../src/fence-agent/main.js';
import type { AgentOption } from '../src/fence-agent/options.js';

const FAKE_OPTIONS: readonly AgentOption[] = [
  { name: 'state_file', valueHint: '[path]', type: 'string', required: true, shortdesc: 'File holding the power state (on/off)' },
  {
    name: 'password',
    short: 'p',
    valueHint: '[password]',
    type: 'string',
    secret: true,
    shortdesc: 'Password (checked only against expect_password)',
  },
  { name: 'expect_password', valueHint: '[password]', type: 'string', shortdesc: 'Fail the login unless password equals this' },
  { name: 'fail_action', valueHint: '[action]', type: 'string', shortdesc: 'Test hook: this action fails' },
  { name: 'hang', type: 'boolean', shortdesc: 'Test hook: never answer' },
  { name: 'stderr_echo', valueHint: '[text]', type: 'string', shortdesc: 'Test hook: print this on stderr' },
  { name: 'power_off_noop', type: 'boolean', shortdesc: 'Test hook: off is accepted but the power stays on' },
];

export const fenceFake: AgentDefinition = {
  docs: {
    name: 'fence_fake',
    shortdesc: 'Fake fence agent (power state in a file)',
    longdesc: 'fence_fake keeps the power state of one pretend host in a file. For tests and demos only.',
    actions: ACTIONS,
  },
  options: [...COMMON_OPTIONS, ...FAKE_OPTIONS],
  withDevice: async (opts, log, fn) => {
    const file = opts.get('state_file')!;
    if (opts.get('stderr_echo')) process.stderr.write(`${opts.get('stderr_echo')}\n`);
    if (opts.get('hang') === '1') await new Promise<never>(() => setInterval(() => {}, 60_000));
    if (opts.has('expect_password') && opts.get('password') !== opts.get('expect_password'))
      throw new Error('login denied: wrong password');
    if (opts.get('fail_action') === opts.get('action')) throw new Error(`simulated failure of ${opts.get('action')}`);
    const read = (): 'on' | 'off' => {
      try {
        return readFileSync(file, 'utf8').trim() === 'off' ? 'off' : 'on';
      } catch {
        return 'on';
      }
    };
    log(`state file ${file}`);
    return fn({
      getPower: async () => read(),
      setPower: async (s) => {
        if (s === 'off' && opts.get('power_off_noop') === '1') return;
        writeFileSync(file, `${s}\n`);
      },
      cycle: async () => writeFileSync(file, 'on\n'),
    });
  },
};

await agentMain(fenceFake);
