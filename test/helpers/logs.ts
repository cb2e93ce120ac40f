import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/log.js';

/** A logger that keeps its JSON lines for assertions. */
export function capturingLogger(): { log: Logger; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const sink = new Writable({ write: (c, _e, cb) => (chunks.push(String(c)), cb()) });
  const log = createLogger({ level: 'debug', destination: sink });
  return { log, lines: () => chunks.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l)) };
}

