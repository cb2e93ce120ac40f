import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './processes.js';

/**
 * Another release of instance-ha, made from this one's compiled dist/ for the rolling-upgrade test:
 * a copy in a temporary directory whose protocol (and state format) constants are patched, so that
 * two builds run side by side as real processes. Nothing in the shipped code reads a version from
 * the environment: the "next" release exists only in this copy, so no setting or slip in production
 * can make a monitor claim a version it does not have.
 */
export interface OtherBuild {
  /** Its main.js, for Processes.start(…, cli). */
  cli: string;
  remove(): void;
}

export interface BuildChanges {
  /** package.json version it reports (`instance-ha --version`). */
  version: string;
  protocolMajor?: number;
  protocolMinor?: number;
  stateFormat?: number;
  /** Append an entry of a kind this build does not know to every view, as a later minor may. */
  unknownViewEntry?: boolean;
}

/** Replaces `from` by `to` in one compiled file, failing loudly if the code no longer looks so. */
function patch(file: string, from: string, to: string): void {
  const text = readFileSync(file, 'utf8');
  if (!text.includes(from)) throw new Error(`${file}: '${from}' not found: update test/helpers/other-build.ts`);
  writeFileSync(file, text.replace(from, to));
}

export function otherBuild(c: BuildChanges): OtherBuild {
  const dir = mkdtempSync(join(tmpdir(), 'iha-build-'));
  cpSync(join(ROOT, 'dist'), join(dir, 'dist'), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ ...pkg, version: c.version }));
  const wire = join(dir, 'dist/src/wire/monitor-format.js');
  const m = /export const PROTOCOL_MAJOR = (\d+);/.exec(readFileSync(wire, 'utf8'));
  const n = /export const PROTOCOL_MINOR = (\d+);/.exec(readFileSync(wire, 'utf8'));
  if (!m || !n) throw new Error(`${wire}: protocol constants not found`);
  if (c.protocolMajor !== undefined) patch(wire, m[0], `export const PROTOCOL_MAJOR = ${c.protocolMajor};`);
  if (c.protocolMinor !== undefined) patch(wire, n[0], `export const PROTOCOL_MINOR = ${c.protocolMinor};`);
  if (c.stateFormat !== undefined) {
    const f = join(dir, 'dist/src/daemon/state-file.js');
    const s = /export const STATE_FORMAT = (\d+);/.exec(readFileSync(f, 'utf8'));
    if (!s) throw new Error(`${f}: STATE_FORMAT not found`);
    patch(f, s[0], `export const STATE_FORMAT = ${c.stateFormat};`);
  }
  if (c.unknownViewEntry) {
    const anchor = 'add(encodeDecisionSeq(beat.decisionSeq), false);';
    patch(join(dir, 'dist/src/wire/view-pager.js'), anchor, `${anchor} add(Buffer.from([0x7f, 0, 2, 0xab, 0xcd]), false);`);
  }
  return { cli: join(dir, 'dist/src/cli/main.js'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The protocol this checkout speaks, as "major.minor". */
export function currentProtocol(): { major: number; minor: number } {
  const text = readFileSync(join(ROOT, 'dist/src/wire/monitor-format.js'), 'utf8');
  return {
    major: Number(/PROTOCOL_MAJOR = (\d+);/.exec(text)![1]),
    minor: Number(/PROTOCOL_MINOR = (\d+);/.exec(text)![1]),
  };
}
