import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/** Keys whose values are secrets wherever they appear (two levels deep covers our records). */
const SECRET_KEYS = ['password', 'passwd', 'token', 'key', 'clusterKey', 'cluster_key', 'secret', 'authorization'];
const REDACT_PATHS = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);

export interface LogOptions {
  level?: LevelWithSilent;
  /** Extra bindings on the root logger, e.g. `{ monitor: 'ctl1' }`. */
  base?: Record<string, unknown>;
  /** Where JSON lines go; stdout (journald-friendly) by default. */
  destination?: NodeJS.WritableStream;
}

export function isLevel(s: string): s is LevelWithSilent {
  return ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(s);
}

/** A configured log level, or info for anything else (the config reader has already said what is wrong). */
export function levelOrInfo(s: string): LevelWithSilent {
  return isLevel(s) ? s : 'info';
}

/** One root logger per process; components take `log.child({component})`. */
export function createLogger(opts: LogOptions = {}): Logger {
  const envLevel = process.env.INSTANCE_HA_LOG_LEVEL;
  const level = opts.level ?? (envLevel && isLevel(envLevel) ? envLevel : 'info');
  return pino(
    {
      level,
      base: { pid: process.pid, ...opts.base },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    (opts.destination ?? process.stdout) as pino.DestinationStream,
  );
}

/** A logger that drops everything: for tests and one-shot CLI commands. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
