import { spawn } from 'node:child_process';
import type { Logger } from '../log.js';
import { timerMs } from '../timer-limit.js';

/**
 * sd_notify(3) for a Node daemon. Node's dgram has no AF_UNIX datagram sockets, so the message is
 * sent by systemd's own `systemd-notify` tool: it ships with systemd (present wherever the unit
 * runs), needs no native addon to compile, and by default waits until the service manager has
 * processed the message (BARRIER), which closes the race where a short-lived sender exits before
 * systemd attributes it to our unit. Because the sender is a child of ours, the units set
 * `NotifyAccess=all` (the unit's cgroup holds only our processes; fence agents get an environment
 * without NOTIFY_SOCKET, see fence/runner.ts agentEnv).
 *
 * Without NOTIFY_SOCKET (not under systemd) every call is a no-op.
 */
export class SystemdNotifier {
  private readonly socket: string | undefined;
  private watchdog: NodeJS.Timeout | null = null;
  private inFlight = false;
  private stopped = false;
  sent = 0;

  constructor(
    private readonly log: Logger,
    env: NodeJS.ProcessEnv = process.env,
    private readonly tool = 'systemd-notify',
  ) {
    this.socket = env.NOTIFY_SOCKET || undefined;
    const usec = Number(env.WATCHDOG_USEC);
    const pid = env.WATCHDOG_PID ? Number(env.WATCHDOG_PID) : process.pid;
    this.watchdogUsec = Number.isFinite(usec) && usec > 0 && pid === process.pid ? usec : 0;
  }

  readonly watchdogUsec: number;

  get enabled(): boolean {
    return this.socket !== undefined;
  }

  /** READY=1: call only once every socket is bound and the daemon is serving. */
  ready(status: string): Promise<boolean> {
    return this.send(['--ready', `--status=${status}`]);
  }

  stopping(): Promise<boolean> {
    return this.send(['STOPPING=1']);
  }

  status(text: string): Promise<boolean> {
    return this.send([`--status=${text}`]);
  }

  /**
   * WATCHDOG=1 at half the WatchdogSec systemd gave us, from a timer on the event loop: a stalled
   * loop sends nothing and systemd restarts us. A ping still in flight is not doubled.
   */
  startWatchdog(): void {
    if (!this.enabled || this.watchdogUsec === 0 || this.watchdog || this.stopped) return;
    // WATCHDOG_USEC comes from the environment: clamp, or a huge value would become a 1 ms interval.
    const everyMs = timerMs(Math.max(100, Math.floor(this.watchdogUsec / 2000)));
    this.watchdog = setInterval(() => {
      if (this.inFlight) return;
      void this.send(['WATCHDOG=1']);
    }, everyMs);
    this.watchdog.unref();
    this.log.info({ everyMs }, 'systemd watchdog pings started');
  }

  stop(): void {
    this.stopped = true;
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
  }

  private send(args: string[]): Promise<boolean> {
    if (!this.socket) return Promise.resolve(false);
    this.inFlight = true;
    return new Promise((resolve) => {
      const child = spawn(this.tool, args, {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NOTIFY_SOCKET: this.socket! },
      });
      let err = '';
      child.stderr!.on('data', (c: Buffer) => (err += c.toString('utf8')));
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      const done = (ok: boolean, why?: string): void => {
        clearTimeout(timer);
        this.inFlight = false;
        if (ok) this.sent++;
        else this.log.warn({ args, why }, 'systemd notification failed');
        resolve(ok);
      };
      child.on('error', (e) => done(false, e.message));
      child.on('exit', (code) => done(code === 0, err.trim() || `exit ${code}`));
    });
  }
}
