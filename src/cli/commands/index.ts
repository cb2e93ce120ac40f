import type { Command } from '../command.js';
import { ACK_MASS_FAILURE_HELP, runAckMassFailureCommand } from './ack-mass-failure.js';
import { AGENTS_HELP, runAgentsCommand } from './agents.js';
import { BEACON_HELP, beaconCommand } from './beacon.js';
import { CONFIG_HELP, runConfigCommand } from './config.js';
import { CONFIRM_FENCED_HELP, runConfirmFencedCommand } from './confirm-fenced.js';
import { DEMO_HELP, runDemoCommand } from './demo.js';
import { EVENTS_HELP, runEventsCommand } from './events.js';
import { FENCE_HELP, runFenceCommand } from './fence.js';
import { FORGET_HELP, runForgetCommand } from './forget.js';
import { runHelpCommand } from './help.js';
import { HISTORY_HELP, runHistoryCommand } from './history.js';
import { MAINTENANCE_HELP, runMaintenanceCommand } from './maintenance.js';
import { MONITOR_HELP, monitorCommand } from './monitor.js';
import { STATUS_HELP, runStatusCommand } from './status.js';
import { UNFENCE_HELP, runUnfenceCommand } from './unfence.js';
import { runVersionCommand } from './version.js';

const help: Command = { run: runHelpCommand };
const version: Command = { run: runVersionCommand };

/** Every `instance-ha NAME`, with the text `instance-ha NAME --help` prints. */
export const COMMANDS: ReadonlyMap<string, Command> = new Map<string, Command>([
  ['monitor', { run: (args) => monitorCommand(args), help: MONITOR_HELP }],
  ['beacon', { run: (args) => beaconCommand(args), help: BEACON_HELP }],
  ['status', { run: runStatusCommand, help: STATUS_HELP }],
  ['maintenance', { run: runMaintenanceCommand, help: MAINTENANCE_HELP }],
  ['ack-mass-failure', { run: runAckMassFailureCommand, help: ACK_MASS_FAILURE_HELP }],
  ['forget', { run: runForgetCommand, help: FORGET_HELP }],
  ['confirm-fenced', { run: (args, io) => runConfirmFencedCommand(args, io), help: CONFIRM_FENCED_HELP }],
  ['config', { run: runConfigCommand, help: CONFIG_HELP }],
  ['history', { run: runHistoryCommand, help: HISTORY_HELP }],
  ['fence', { run: runFenceCommand, help: FENCE_HELP }],
  ['agents', { run: (args, io) => runAgentsCommand(args, io), help: AGENTS_HELP }],
  ['events', { run: runEventsCommand, help: EVENTS_HELP }],
  ['demo', { run: runDemoCommand, help: DEMO_HELP }],
  ['unfence', { run: runUnfenceCommand, help: UNFENCE_HELP }],
  ['version', version],
  ['--version', version],
  ['help', help],
  ['--help', help],
  ['-h', help],
]);
