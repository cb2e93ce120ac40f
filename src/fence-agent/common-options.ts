/** Options every agent built on this kit shares (names and defaults as in fence-agents). */
import type { AgentOption } from './options.js';

export const ACTIONS = ['on', 'off', 'reboot', 'status', 'monitor', 'list', 'metadata', 'validate-all'] as const;

export const COMMON_OPTIONS: readonly AgentOption[] = [
  { name: 'action', short: 'o', valueHint: '[action]', type: 'string', default: 'reboot', required: true, shortdesc: 'Fencing action' },
  {
    name: 'plug',
    short: 'n',
    valueHint: '[id]',
    type: 'string',
    aliases: ['port'],
    shortdesc: 'Physical plug number on device (ignored: this agent fences one host)',
  },
  { name: 'verbose', short: 'v', type: 'boolean', shortdesc: 'Verbose mode (progress on stderr)' },
  { name: 'quiet', short: 'q', type: 'boolean', shortdesc: 'Disable logging to stderr' },
  {
    name: 'debug_file',
    short: 'D',
    valueHint: '[debugfile]',
    type: 'string',
    aliases: ['debug'],
    shortdesc: 'Write debug information to given file',
    ignored: true,
  },
  { name: 'version', short: 'V', type: 'boolean', shortdesc: 'Display version information and exit' },
  { name: 'help', short: 'h', type: 'boolean', shortdesc: 'Display help and exit' },
  { name: 'delay', valueHint: '[seconds]', type: 'second', default: '0', shortdesc: 'Wait X seconds before fencing is started' },
  { name: 'login_timeout', valueHint: '[seconds]', type: 'second', default: '5', shortdesc: 'Wait X seconds for the login to complete' },
  {
    name: 'power_timeout',
    valueHint: '[seconds]',
    type: 'second',
    default: '20',
    shortdesc: 'Test X seconds for status change after ON/OFF',
  },
  {
    name: 'power_wait',
    valueHint: '[seconds]',
    type: 'second',
    default: '0',
    shortdesc: 'Wait X seconds after issuing ON/OFF (the state is polled anyway)',
  },
  { name: 'shell_timeout', valueHint: '[seconds]', type: 'second', default: '3', shortdesc: 'Wait X seconds for each command to answer' },
  {
    name: 'stonith_status_sleep',
    valueHint: '[seconds]',
    type: 'second',
    default: '0.1',
    shortdesc: 'Sleep X seconds between status polls',
  },
  { name: 'retry_on', valueHint: '[attempts]', type: 'integer', default: '1', shortdesc: 'Count of attempts to retry power on' },
  { name: 'plug_separator', valueHint: '[char]', type: 'string', default: ',', shortdesc: 'Separator for plug parameter', ignored: true },
  { name: 'disable_timeout', valueHint: '[true/false]', type: 'string', shortdesc: 'Disable timeout (true/false)', ignored: true },
  { name: 'verbose_level', type: 'integer', shortdesc: 'Level of debugging detail in output', ignored: true },
];

/** The BMC login every network agent takes, named as in fence-agents (the password only from stdin or a script). */
export const LOGIN_OPTIONS: readonly AgentOption[] = [
  { name: 'username', short: 'l', valueHint: '[name]', type: 'string', aliases: ['login'], required: true, shortdesc: 'Login name' },
  {
    name: 'password',
    short: 'p',
    valueHint: '[password]',
    type: 'string',
    aliases: ['passwd'],
    secret: true,
    shortdesc: 'Login password or passphrase',
  },
  {
    name: 'password_script',
    short: 'S',
    valueHint: '[script]',
    type: 'string',
    aliases: ['passwd_script'],
    shortdesc: 'Script to run to retrieve password',
  },
];
