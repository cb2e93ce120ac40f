/**
 * Where a monitor's control socket is when its config names none. A module of its own, without
 * imports: the CLI's argument defaults and the config reader both take it, and a short command must
 * not load the config reader (YAML) only for this string.
 */
export const DEFAULT_CONTROL_SOCKET = '/run/instance-ha/monitor.sock';
