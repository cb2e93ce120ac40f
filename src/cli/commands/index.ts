import type { Command } from '../command.js';

/**
 * Loads one command's module. Lazy on purpose: `instance-ha status` during a mass failure should not
 * spend a third of a second loading the monitor, the demo cluster and the AMQP client it never runs
 * (issue #10's status_ms). Each module is imported only when its command is asked for.
 */
export type CommandLoader = () => Promise<Command>;

/** Every `instance-ha NAME`, with the text `instance-ha NAME --help` prints. */
export const COMMANDS: ReadonlyMap<string, CommandLoader> = new Map<string, CommandLoader>([
  [
    'monitor',
    async () => {
      const m = await import('./monitor.js');
      return { run: (args) => m.monitorCommand(args), help: m.MONITOR_HELP };
    },
  ],
  [
    'beacon',
    async () => {
      const m = await import('./beacon.js');
      return { run: (args) => m.beaconCommand(args), help: m.BEACON_HELP };
    },
  ],
  [
    'status',
    async () => {
      const m = await import('./status.js');
      return { run: m.runStatusCommand, help: m.STATUS_HELP };
    },
  ],
  [
    'maintenance',
    async () => {
      const m = await import('./maintenance.js');
      return { run: m.runMaintenanceCommand, help: m.MAINTENANCE_HELP };
    },
  ],
  [
    'ack-mass-failure',
    async () => {
      const m = await import('./ack-mass-failure.js');
      return { run: m.runAckMassFailureCommand, help: m.ACK_MASS_FAILURE_HELP };
    },
  ],
  [
    'forget',
    async () => {
      const m = await import('./forget.js');
      return { run: m.runForgetCommand, help: m.FORGET_HELP };
    },
  ],
  [
    'confirm-fenced',
    async () => {
      const m = await import('./confirm-fenced.js');
      return { run: (args, io) => m.runConfirmFencedCommand(args, io), help: m.CONFIRM_FENCED_HELP };
    },
  ],
  [
    'config',
    async () => {
      const m = await import('./config.js');
      return { run: m.runConfigCommand, help: m.CONFIG_HELP };
    },
  ],
  [
    'history',
    async () => {
      const m = await import('./history.js');
      return { run: m.runHistoryCommand, help: m.HISTORY_HELP };
    },
  ],
  [
    'fence',
    async () => {
      const m = await import('./fence.js');
      return { run: m.runFenceCommand, help: m.FENCE_HELP };
    },
  ],
  [
    'agents',
    async () => {
      const m = await import('./agents.js');
      return { run: (args, io) => m.runAgentsCommand(args, io), help: m.AGENTS_HELP };
    },
  ],
  [
    'events',
    async () => {
      const m = await import('./events.js');
      return { run: m.runEventsCommand, help: m.EVENTS_HELP };
    },
  ],
  [
    'demo',
    async () => {
      const m = await import('./demo.js');
      return { run: m.runDemoCommand, help: m.DEMO_HELP };
    },
  ],
  [
    'unfence',
    async () => {
      const m = await import('./unfence.js');
      return { run: m.runUnfenceCommand, help: m.UNFENCE_HELP };
    },
  ],
  [
    'recover',
    async () => {
      const m = await import('./recover.js');
      return { run: m.runRecoverCommand, help: m.RECOVER_HELP };
    },
  ],
  [
    'keys',
    async () => {
      const m = await import('./keys.js');
      return { run: m.runKeysCommand, help: m.KEYS_HELP };
    },
  ],
  ...['version', '--version'].map((name): [string, CommandLoader] => [
    name,
    async () => ({ run: (await import('./version.js')).runVersionCommand }),
  ]),
  ...['help', '--help', '-h'].map((name): [string, CommandLoader] => [
    name,
    async () => ({ run: (await import('./help.js')).runHelpCommand }),
  ]),
]);
