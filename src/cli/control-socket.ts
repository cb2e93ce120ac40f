import { controlSocketFromConfig } from '../config/control-socket-key.js';
import { DEFAULT_SOCKET } from './args.js';

/** The local monitor's control socket: --socket, else the one a --config monitor file names, else the default. */
export function controlSocketOf(values: { socket?: string; config?: string }): string {
  if (values.socket) return values.socket;
  if (values.config) return controlSocketFromConfig(values.config);
  return DEFAULT_SOCKET;
}

/** Who asked, as the monitors record it (the user behind sudo when there is one). */
export function operatorName(): string {
  return process.env.SUDO_USER ?? process.env.USER ?? 'operator';
}
