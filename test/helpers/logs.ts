import { readFileSync } from 'node:fs';
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

/** A logger that keeps its JSON lines for assertions. */
export function capturingLogger(): { log: Logger; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const sink = new Writable({ write: (c, _e, cb) => (chunks.push(String(c)), cb()) });
  const log = createLogger({ level: 'debug', destination: sink });
  return {
    log,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l)),
  };
}

/** The `msg` of each complete JSON line a daemon has written to its log file so far, in order. */
export function daemonLogMessages(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .flatMap((l) => {
      try {
        return [(JSON.parse(l) as { msg: string }).msg];
      } catch {
        return []; // empty, or the last line still being written
      }
    });
}

/**
 * The keys that appear twice in one object of a JSON text (at any depth), as `path.key`. JSON.parse
 * keeps the last of two equal keys silently; a log shipper does the same, and the first is lost.
 */
export function duplicateKeys(text: string): string[] {
  let i = 0;
  const dups: string[] = [];
  const ws = (): void => {
    while (/\s/.test(text[i] ?? '')) i++;
  };
  const str = (): string => {
    const start = i++;
    while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (path: string): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const seen = new Set<string>();
      for (ws(); text[i] !== '}'; ws()) {
        if (text[i] === ',') (i++, ws());
        const k = str();
        if (seen.has(k)) dups.push(path ? `${path}.${k}` : k);
        seen.add(k);
        ws();
        i++; // ':'
        value(path ? `${path}.${k}` : k);
      }
      i++;
    } else if (c === '[') {
      i++;
      for (ws(); text[i] !== ']'; ws()) {
        if (text[i] === ',') i++;
        value(`${path}[]`);
      }
      i++;
    } else if (c === '"') str();
    else while (i < text.length && !/[,}\]\s]/.test(text[i]!)) i++;
  };
  value('');
  return dups;
}
