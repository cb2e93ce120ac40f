import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/log.js';

/** A real (redacting) logger whose JSON lines are kept in memory, to assert what would be logged. */
export function memoryLogger(): { log: Logger; text: () => string } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  return { log: createLogger({ level: 'debug', destination }), text: () => chunks.join('') };
}
