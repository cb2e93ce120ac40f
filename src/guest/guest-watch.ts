import { spawn, execFile, type ChildProcess } from 'node:child_process';
import type { Logger } from '../log.js';
import { LineSplitter, parseVirshEventLine, type GuestFailure } from './virsh-events.js';

/** A guest failure with the Nova instance it belongs to (Nova sets the libvirt domain UUID to the instance UUID). */
export interface GuestReport extends GuestFailure {
  instance: string;
}

export interface GuestWatchSettings {
  /** The virsh binary. */
  virsh: string;
  /** libvirt connection URI (`-c`), e.g. qemu:///system. */
  uri: string;
  /** Backoff after virsh exits: base doubling up to max; reset after it ran for a minute. */
  restartBaseMs: number;
  restartMaxMs: number;
  /** Timeout of one `virsh domuuid`. */
  lookupTimeoutMs: number;
}

export const DEFAULT_GUEST_WATCH: GuestWatchSettings = {
  virsh: 'virsh',
  uri: 'qemu:///system',
  restartBaseMs: 1000,
  restartMaxMs: 60_000,
  lookupTimeoutMs: 5000,
};

/** Domains whose UUID is remembered (names of live guests on one host: a few hundred at most). */
const MAX_UUIDS = 4096;
const STARTED = /: event 'lifecycle' for domain '(.{1,128})': Started /;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface GuestWatchStatus {
  running: boolean;
  restarts: number;
  lastExit: string | null;
  events: number;
  unmapped: number;
}

/**
 * The beacon's companion that follows libvirt's domain events with no native addon: it runs
 * `virsh -r event --all --loop --timestamp` (read-only connection, LC_ALL=C so the words are
 * libvirt's untranslated ones), parses it line by line, and hands each guest failure with its
 * instance UUID to `onReport`. virsh exiting (libvirtd restarted, virsh killed) is expected: it is
 * started again with backoff, and the exit is counted for status. Nothing here throws into the caller.
 */
export class GuestWatch {
  private child: ChildProcess | null = null;
  private stopped = true;
  private timer: NodeJS.Timeout | null = null;
  private failures = 0;
  private readonly uuids = new Map<string, string>();
  readonly status: GuestWatchStatus = { running: false, restarts: 0, lastExit: null, events: 0, unmapped: 0 };

  constructor(
    private readonly s: GuestWatchSettings,
    private readonly onReport: (r: GuestReport) => void,
    private readonly log: Logger,
    /** Told when virsh stops (with why) and when a restarted virsh has run a while again. */
    private readonly onState: (running: boolean, why: string) => void = () => {},
  ) {}

  start(): void {
    this.stopped = false;
    this.spawnVirsh();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.child?.kill('SIGTERM');
    this.child = null;
    this.status.running = false;
  }

  private spawnVirsh(): void {
    if (this.stopped) return;
    const startedAt = Date.now();
    let child: ChildProcess;
    try {
      child = spawn(this.s.virsh, ['-c', this.s.uri, '-r', 'event', '--all', '--loop', '--timestamp'], {
        env: { ...process.env, LC_ALL: 'C' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (err) {
      this.exited(`could not start ${this.s.virsh}: ${String(err)}`, startedAt);
      return;
    }
    this.child = child;
    this.status.running = true;
    // Back once it has stayed up a few seconds (a virsh that cannot connect exits at once).
    const healthy = setTimeout(() => {
      if (this.child === child && this.status.lastExit !== null) this.onState(true, 'virsh event running again');
    }, 5000);
    healthy.unref?.();
    child.on('close', () => clearTimeout(healthy));
    const lines = new LineSplitter();
    let stderr = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      for (const line of lines.push(chunk)) this.onLine(line);
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-500);
    });
    let done = false;
    const end = (why: string): void => {
      if (done) return;
      done = true;
      if (this.child === child) this.child = null;
      this.exited(`${why}${stderr.trim() ? `: ${stderr.trim().split('\n').pop()}` : ''}`, startedAt);
    };
    child.on('error', (err) => end(`virsh failed: ${err.message}`));
    child.on('close', (code, signal) => end(`virsh exited (${signal ?? `code ${code}`})`));
  }

  private exited(why: string, startedAt: number): void {
    this.status.running = false;
    this.status.lastExit = why;
    if (this.stopped) return;
    this.onState(false, why);
    this.status.restarts++;
    // A virsh that ran a while was healthy: start the backoff again from its base.
    this.failures = Date.now() - startedAt > 60_000 ? 1 : this.failures + 1;
    const delay = Math.min(this.s.restartMaxMs, this.s.restartBaseMs * 2 ** Math.min(this.failures - 1, 20));
    if ((this.status.restarts & (this.status.restarts - 1)) === 0)
      this.log.warn({ why, restarts: this.status.restarts, retryInMs: delay }, 'libvirt event watch stopped; starting it again');
    this.timer = setTimeout(() => {
      this.timer = null;
      this.spawnVirsh();
    }, delay);
    this.timer.unref?.();
  }

  private onLine(line: string): void {
    const f = parseVirshEventLine(line);
    if (!f) {
      // A guest starting: learn its UUID now, so that its crash is reported without a lookup (and a
      // transient domain gone with its crash is still mapped).
      const started = STARTED.exec(line);
      if (started && !this.uuids.has(started[1]!)) void this.uuidOf(started[1]!);
      return;
    }
    this.status.events++;
    void this.uuidOf(f.domain).then((instance) => {
      if (!instance) {
        this.status.unmapped++;
        this.log.warn(
          { domain: f.domain, event: f.event, detail: f.detail },
          'guest failure on a domain whose UUID could not be read: not reported',
        );
        return;
      }
      try {
        this.onReport({ ...f, instance });
      } catch (err) {
        this.log.error({ err }, 'guest report failed');
      }
    });
  }

  /** `virsh domuuid NAME`, remembered: Nova sets the domain UUID to the instance UUID. */
  private uuidOf(domain: string): Promise<string | null> {
    const known = this.uuids.get(domain);
    if (known) return Promise.resolve(known);
    return new Promise((resolve) => {
      execFile(
        this.s.virsh,
        ['-c', this.s.uri, '-r', 'domuuid', '--', domain],
        { env: { ...process.env, LC_ALL: 'C' }, timeout: this.s.lookupTimeoutMs, maxBuffer: 4096 },
        (err, stdout) => {
          const uuid = String(stdout ?? '')
            .trim()
            .toLowerCase();
          if (err || !UUID.test(uuid)) return resolve(null);
          if (this.uuids.size >= MAX_UUIDS) this.uuids.clear();
          this.uuids.set(domain, uuid);
          resolve(uuid);
        },
      );
    });
  }
}
