/**
 * fence_kdump awareness: a UDP listener for the messages `fence_kdump_send` (fence-agents) sends
 * from a host's kdump kernel while it writes a crash dump, so that the fencer gives such a host a
 * bounded time to finish before powering it off (operators want the dump).
 *
 * Message (fence-agents agents/kdump/fence_kdump.h): two 32-bit words in the sender's byte order,
 * magic 0x1B302A40 and version 1 — `40 2a 30 1b 01 00 00 00` from an x86 host. Messages repeat
 * every `-i` seconds (10 by default) until the dump is done and the host reboots.
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { HostId } from '../core/events.js';
import { componentLogger, type Logger } from '../log.js';
import type { KdumpConfig } from './config.js';
import type { KdumpWaiter } from './fencer.js';
import { timerMs } from '../timer-limit.js';

export const FENCE_KDUMP_MAGIC = 0x1b302a40;
export const FENCE_KDUMP_VERSION = 1;

/** True for a fence_kdump message in either byte order (the sender's order is not fixed). */
export function isKdumpMessage(m: Buffer): boolean {
  if (m.length < 8) return false;
  return (
    (m.readUInt32LE(0) === FENCE_KDUMP_MAGIC && m.readUInt32LE(4) === FENCE_KDUMP_VERSION) ||
    (m.readUInt32BE(0) === FENCE_KDUMP_MAGIC && m.readUInt32BE(4) === FENCE_KDUMP_VERSION)
  );
}

export class KdumpListener implements KdumpWaiter {
  private readonly lastSeenAt = new Map<string, number>();
  private readonly waiters = new Set<() => void>();

  private constructor(
    private readonly socket: Socket,
    private readonly cfg: Pick<KdumpConfig, 'messageTimeoutMs' | 'maxWaitMs'>,
    private readonly log: Logger,
  ) {
    socket.on('message', (m, rinfo) => {
      if (!isKdumpMessage(m)) return;
      const first = !this.isDumping([rinfo.address]);
      this.lastSeenAt.set(rinfo.address, Date.now());
      if (first) this.log.warn({ from: rinfo.address }, 'fence_kdump: host is writing a crash dump');
      for (const w of this.waiters) w();
    });
    socket.on('error', (err) => this.log.error({ err }, 'fence_kdump listener error'));
  }

  static async start(cfg: Pick<KdumpConfig, 'bind' | 'port' | 'messageTimeoutMs' | 'maxWaitMs'>, log: Logger): Promise<KdumpListener> {
    const socket = createSocket(isIPv6(cfg.bind) ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(cfg.port, cfg.bind, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return new KdumpListener(socket, cfg, componentLogger(log, 'fence_kdump'));
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** Whether any of the addresses sent a message within messageTimeoutMs. */
  isDumping(addresses: readonly string[]): boolean {
    return this.lastMessageAgeMs(addresses) < this.cfg.messageTimeoutMs;
  }

  private lastMessageAgeMs(addresses: readonly string[]): number {
    const last = Math.max(0, ...addresses.map((a) => this.lastSeenAt.get(a) ?? 0));
    return last === 0 ? Infinity : Date.now() - last;
  }

  /**
   * Resolves once the host has been silent for messageTimeoutMs (dump done), or at maxWaitMs (the
   * fence goes ahead anyway), or on abort. Decided from elapsed time, since timers fire late.
   */
  async waitWhileDumping(
    host: HostId,
    addresses: readonly string[],
    signal: AbortSignal,
  ): Promise<{ dumping: boolean; waitedMs: number; gaveUp?: boolean }> {
    const started = Date.now();
    if (!this.isDumping(addresses)) return { dumping: false, waitedMs: 0 };
    this.log.warn({ host, maxWaitMs: this.cfg.maxWaitMs }, 'fence_kdump: waiting for the crash dump before power-off');
    for (;;) {
      const waitedMs = Date.now() - started;
      if (signal.aborted) return { dumping: true, waitedMs };
      if (!this.isDumping(addresses)) return { dumping: true, waitedMs };
      if (waitedMs >= this.cfg.maxWaitMs) {
        this.log.warn({ host, waitedMs }, 'fence_kdump: crash dump still running at max_wait; fencing anyway');
        return { dumping: true, waitedMs, gaveUp: true };
      }
      const untilSilentMs = this.cfg.messageTimeoutMs - this.lastMessageAgeMs(addresses);
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(t);
          this.waiters.delete(done);
          signal.removeEventListener('abort', done);
          resolve();
        };
        const t = setTimeout(done, timerMs(Math.max(1, Math.min(untilSilentMs, this.cfg.maxWaitMs - waitedMs))));
        this.waiters.add(done);
        signal.addEventListener('abort', done, { once: true });
      });
    }
  }

  close(): Promise<void> {
    for (const w of this.waiters) w();
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
