import type { Command } from '../command.js';

/**
 * Loads one command's module. Lazy on purpose: `instance-ha status` during a mass failure should not
 * spend a third of a second loading the monitor, the demo cluster and the AMQP client it never runs
 * (issue #10's status_ms). Each module is imported only when its command is asked for.
 */
export type CommandLoader = () => Promise<Command>;

/**
 * `lazy(() => import(…))((m) => command)`: a loader that imports the module only when it is called
 * (the dynamic import stays in the arrow), then takes the command from it. Curried so that each
 * entry below stays one line.
 */
function lazy<M>(load: () => Promise<M>): (command: (m: M) => Command) => CommandLoader {
  return (command) => async () => command(await load());
}

/** Every `instance-ha NAME`, with the text `instance-ha NAME --help` prints. */
export const COMMANDS: ReadonlyMap<string, CommandLoader> = new Map<string, CommandLoader>([
  ['monitor', lazy(() => import('./monitor.js'))((m) => ({ run: (args) => m.monitorCommand(args), help: m.MONITOR_HELP }))],
  ['beacon', lazy(() => import('./beacon.js'))((m) => ({ run: (args) => m.beaconCommand(args), help: m.BEACON_HELP }))],
  ['status', lazy(() => import('./status.js'))((m) => ({ run: m.runStatusCommand, help: m.STATUS_HELP }))],
  ['maintenance', lazy(() => import('./maintenance.js'))((m) => ({ run: m.runMaintenanceCommand, help: m.MAINTENANCE_HELP }))],
  [
    'ack-mass-failure',
    lazy(() => import('./ack-mass-failure.js'))((m) => ({ run: m.runAckMassFailureCommand, help: m.ACK_MASS_FAILURE_HELP })),
  ],
  ['forget', lazy(() => import('./forget.js'))((m) => ({ run: m.runForgetCommand, help: m.FORGET_HELP }))],
  [
    'confirm-fenced',
    lazy(() => import('./confirm-fenced.js'))((m) => ({
      run: (args, io) => m.runConfirmFencedCommand(args, io),
      help: m.CONFIRM_FENCED_HELP,
    })),
  ],
  ['config', lazy(() => import('./config.js'))((m) => ({ run: m.runConfigCommand, help: m.CONFIG_HELP }))],
  ['history', lazy(() => import('./history.js'))((m) => ({ run: m.runHistoryCommand, help: m.HISTORY_HELP }))],
  ['fence', lazy(() => import('./fence.js'))((m) => ({ run: m.runFenceCommand, help: m.FENCE_HELP }))],
  ['agents', lazy(() => import('./agents.js'))((m) => ({ run: (args, io) => m.runAgentsCommand(args, io), help: m.AGENTS_HELP }))],
  ['events', lazy(() => import('./events.js'))((m) => ({ run: m.runEventsCommand, help: m.EVENTS_HELP }))],
  ['demo', lazy(() => import('./demo.js'))((m) => ({ run: m.runDemoCommand, help: m.DEMO_HELP }))],
  ['unfence', lazy(() => import('./unfence.js'))((m) => ({ run: m.runUnfenceCommand, help: m.UNFENCE_HELP }))],
  ['recover', lazy(() => import('./recover.js'))((m) => ({ run: m.runRecoverCommand, help: m.RECOVER_HELP }))],
  ['keys', lazy(() => import('./keys.js'))((m) => ({ run: m.runKeysCommand, help: m.KEYS_HELP }))],
  ...['version', '--version'].map((name): [string, CommandLoader] => [
    name,
    async () => ({ run: (await import('./version.js')).runVersionCommand }),
  ]),
  ...['help', '--help', '-h'].map((name): [string, CommandLoader] => [
    name,
    async () => ({ run: (await import('./help.js')).runHelpCommand }),
  ]),
]);
