import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { HaError } from '../errors.js';

/** Largest configuration file read (a monitor.yaml listing 10,000 hosts is about 200 KiB). */
export const MAX_CONFIG_FILE_BYTES = 1024 * 1024;
/** Largest secret file read (keys, passwords, tokens; a PEM private key is a few KiB). */
export const MAX_SECRET_FILE_BYTES = 64 * 1024;

export type TextRead = { ok: true; text: string; stats: Stats } | { ok: false; reason: string };

/**
 * Reads a small UTF-8 text file without ever blocking on it: the path must name a regular file
 * (a FIFO would block the open, a device or directory is not a file), at most `maxBytes` long,
 * and valid UTF-8 (a stray byte is refused, not turned into U+FFFD). The type is checked before
 * the open, and again on the opened descriptor (the path may have been swapped in between).
 */
export function readTextFile(file: string, maxBytes: number): TextRead {
  if (file.includes('\0')) return { ok: false, reason: `cannot read '${printable(file)}': the path contains a NUL byte` };
  let fd: number | undefined;
  try {
    const before = statSync(file);
    const typeProblem = notRegular(file, before, maxBytes);
    if (typeProblem) return { ok: false, reason: typeProblem };
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
    const st = fstatSync(fd);
    const again = notRegular(file, st, maxBytes);
    if (again) return { ok: false, reason: again };
    // maxBytes + 1 whatever stat said: a file that grows while read is still caught, never cut short.
    const buf = Buffer.alloc(maxBytes + 1);
    let n = 0;
    for (;;) {
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
      if (n === buf.length) break;
    }
    if (n > maxBytes) return { ok: false, reason: `${file} is larger than ${maxBytes} bytes` };
    return decodeUtf8(file, buf.subarray(0, n), st);
  } catch (err) {
    return { ok: false, reason: `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}` };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function notRegular(file: string, st: Stats, maxBytes: number): string | undefined {
  if (!st.isFile()) return `${file} is not a regular file (it is ${kindOf(st)})`;
  if (st.size > maxBytes) return `${file} is ${st.size} bytes, larger than the ${maxBytes} bytes allowed`;
  return undefined;
}

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  return 'not a file';
}

function decodeUtf8(file: string, bytes: Buffer, stats: Stats): TextRead {
  try {
    return { ok: true, text: new TextDecoder('utf-8', { fatal: true }).decode(bytes), stats };
  } catch {
    // Only to say where: the lossy decoding's first replacement character (a hint, not a parse).
    const lossy = new TextDecoder('utf-8').decode(bytes);
    const line = lossy.slice(0, lossy.indexOf('\uFFFD')).split('\n').length;
    return { ok: false, reason: `${file} is not valid UTF-8 text (a non-UTF-8 byte on line ${line})` };
  }
}

/** Largest PEM bundle or clouds.yaml named by a config (a full CA bundle is ~200 KiB). */
export const MAX_PEM_FILE_BYTES = 1024 * 1024;

/** readTextFile for a file the config named and `config check` already read: a failure now is an HaError naming it. */
export function readTextFileOrThrow(file: string, maxBytes: number): string {
  const res = readTextFile(file, maxBytes);
  if (!res.ok) throw new HaError(res.reason);
  return res.text;
}

/** A path as it may be shown: control characters escaped. */
export function printable(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
