import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../log.js';

/** Fields pino adds to every line: not worth a reader's eye on a terminal. */
const NOISE = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'component']);
/** A field value longer than this is cut: one line per warning, whatever the record held. */
const VALUE_MAX = 200;

/**
 * The logger of a one-shot command (fence, unfence, events, agents): warnings as plain lines on
 * stderr, `warning: fence attempt (host=cmp1 device=bmc1 ok=false)`, never the daemons' JSON lines
 * in the middle of what the command prints. Redaction is the daemon logger's (the line is formatted
 * after pino has censored it).
 */
export function humanLogger(err: (line: string) => void = (l) => process.stderr.write(l + '\n')): Logger {
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) err(humanLine(line));
      cb();
    },
  });
  return createLogger({ level: 'warn', destination: sink });
}

const LEVELS: Record<number, string> = { 60: 'fatal', 50: 'error', 40: 'warning', 30: 'info', 20: 'debug', 10: 'trace' };

/** One pino JSON line as words; a line that is not JSON is passed on as it is. */
export function humanLine(line: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const fields = Object.entries(o)
    .filter(([k, v]) => !NOISE.has(k) && v !== undefined && v !== null)
    .map(([k, v]) => {
      const s = typeof v === 'string' ? v : JSON.stringify(v);
      return `${k}=${s.length > VALUE_MAX ? `${s.slice(0, VALUE_MAX)}…` : s}`;
    });
  const level = LEVELS[o.level as number] ?? 'log';
  return `${level}: ${String(o.msg ?? '')}${fields.length > 0 ? ` (${fields.join(' ')})` : ''}`;
}
