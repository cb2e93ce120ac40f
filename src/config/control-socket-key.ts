import { parseConfig, readConfigText } from './load.js';
import type { ObjectReader } from './reader.js';
import { DEFAULT_CONTROL_SOCKET } from '../control/socket-path.js';

/** monitor.yaml's `control_socket`: a UNIX socket path must fit sun_path (108 bytes with its NUL). */
export function readControlSocketKey(r: ObjectReader): string {
  return r.string('control_socket', { default: DEFAULT_CONTROL_SOCKET, maxLength: 107 })!;
}

/**
 * The control socket a monitor config names, reading that key alone. The operator commands
 * (`status --config`, `maintenance --config`…) only need where the running monitor listens: they
 * neither validate the rest of the file (the monitor did, at its start; `config check` does) nor load
 * the fence, OpenStack and notification readers behind it, which made `status` during a mass failure
 * spend a third of a second before asking anything (issue #10).
 */
export function controlSocketFromConfig(file: string): string {
  return parseConfig(readConfigText(file), file, (r) => {
    const socket = readControlSocketKey(r);
    r.ignoreOthers();
    return socket;
  });
}
