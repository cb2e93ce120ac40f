import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { PersistedState } from '../core/effects.js';
import { StateFileError } from '../errors.js';
import { encodeStateFile, parseStateFile } from './state-file.js';

/**
 * Where a monitor keeps its small durable state. `save` throws when the write did not happen; `load`
 * throws only StateFileError (a file that is there but cannot be read as a valid state).
 */
export interface StateStore {
  /** Shown in logs and alarms (a path for the file store). */
  readonly where: string;
  load(): PersistedState | undefined;
  save(state: PersistedState): void;
}

/**
 * The monitor's small durable state (known hosts, maintenance marks, decisions): written whole to a
 * temporary file, fsync'd, then renamed over the old one, so a crash leaves either version intact.
 */
export class FileStateStore implements StateStore {
  readonly file: string;
  private lastWritten = '';

  constructor(stateDir: string) {
    this.file = join(stateDir, 'monitor-state.json');
  }

  get where(): string {
    return this.file;
  }

  load(): PersistedState | undefined {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new StateFileError(
        this.file,
        `cannot be read (${(err as Error).message})`,
        'check its owner and mode (the service user must read it)',
      );
    }
    const state = parseStateFile(this.file, text);
    this.lastWritten = text;
    // compute_down marks (optional): only well-formed ones, a bad one is dropped rather than trusted.
    const raw = (state as { computeDown?: unknown }).computeDown;
    const computeDown = Array.isArray(raw)
      ? (raw as Array<Record<string, unknown> | null>).filter(
          (m) =>
            typeof m?.host === 'string' &&
            typeof m.sinceMs === 'number' &&
            ['pending', 'disabled', 'already_disabled'].includes(m.service as string),
        )
      : [];
    const { computeDown: _drop, ...rest } = state as PersistedState;
    return { ...rest, ...(computeDown.length > 0 ? { computeDown: computeDown as unknown as PersistedState['computeDown'] } : {}) };
  }

  /** Writes only when something changed. */
  save(state: PersistedState): void {
    const text = encodeStateFile(state);
    if (text === this.lastWritten) return;
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
    const dfd = openSync(dirname(this.file), 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
    this.lastWritten = text;
  }
}
