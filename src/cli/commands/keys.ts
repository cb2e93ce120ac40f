import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { loadConfig } from '../../config/load.js';
import { readMonitorConfig } from '../../daemon/monitor-config.js';
import { deriveHostKey } from '../../wire/keys.js';
import { UsageError, parse } from '../args.js';
import type { Io } from '../command.js';

export const KEYS_HELP = `Usage: instance-ha keys generate [--out FILE]
       instance-ha keys host NAME [--config FILE] [--next] [--out FILE]

Keys for the datagrams (docs/security.md, docs/operations.md "Keys"):
  generate   a new random key (32 bytes, base64): a monitor key or a master beacon key.
  host NAME  compute host NAME's own key, derived from the master beacon key of the monitor
             config (run it on a controller; with --next, from beacon_master_key_next, for a
             rollover). Copy it to that host only, as its beacon's host_key_file.

A key goes to stdout only when stdout is not a terminal (> file); --out FILE creates FILE with
mode 0600 and refuses to overwrite one. Either way, keep key files mode 0600.

Options
  --config FILE  the monitor configuration (default /etc/instance-ha/monitor.yaml)
  --next         derive from beacon_master_key_next instead of beacon_master_key
  --out FILE     write to a new file, mode 0600

Examples
  instance-ha keys generate --out /etc/instance-ha/monitor.key
  instance-ha keys generate --out /etc/instance-ha/beacon-master.key
  instance-ha keys host cmp-01 --out /root/cmp-01.key
  instance-ha keys host cmp-01 > cmp-01.key && chmod 600 cmp-01.key
`;

const HOST = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;

/** `instance-ha keys`: makes keys for provisioning; never prints one on a terminal. */
export async function runKeysCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, {
    config: { type: 'string', short: 'c' },
    next: { type: 'boolean' },
    out: { type: 'string', short: 'o' },
  });
  const [sub, name, ...rest] = positionals;
  let key: string;
  if (sub === 'generate' && name === undefined) {
    key = randomBytes(32).toString('base64');
  } else if (sub === 'host' && name !== undefined && rest.length === 0) {
    if (!HOST.test(name)) throw new UsageError(`'${name}' is not a host name (letters, digits, . _ -; as Nova knows the host)`);
    const file = values.config ?? '/etc/instance-ha/monitor.yaml';
    const cfg = loadConfig(file, readMonitorConfig);
    const master = values.next ? cfg.keys.beaconMasterNext : cfg.keys.beaconMaster;
    if (!master) {
      io.err(`${file}: no ${values.next ? 'beacon_master_key_next' : 'beacon_master_key'} configured; nothing to derive a host key from`);
      return 1;
    }
    key = deriveHostKey(master, name).toString('utf8');
  } else {
    throw new UsageError(
      'Usage: instance-ha keys generate [--out FILE] | instance-ha keys host NAME [--config FILE] [--next] [--out FILE]',
    );
  }
  if (values.out) {
    try {
      // 'wx': a slip of the finger must not replace a key in use; the mode is set at creation.
      writeFileSync(values.out, key + '\n', { mode: 0o600, flag: 'wx' });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      io.err(
        `cannot create ${values.out}: ${code === 'EEXIST' ? 'it exists (remove it first, or choose another name)' : (code ?? String(err))}`,
      );
      return 1;
    }
    io.err(`wrote ${values.out} (mode 0600)`);
    return 0;
  }
  if (process.stdout.isTTY) {
    io.err('refusing to print a key on a terminal: redirect stdout to a file (then chmod 600 it) or use --out FILE');
    return 1;
  }
  io.out(key);
  return 0;
}
