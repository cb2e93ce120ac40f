/**
 * One request/answer exchange over UDP with retransmission: send, wait for a datagram the `accept`
 * function takes, resend with a growing interval, give up at the deadline. Datagrams `accept`
 * rejects (IpmiProtocolError) are dropped and remembered for the timeout message: a forged or
 * garbled reply can delay an answer but never becomes one.
 */
import { IpmiError, IpmiProtocolError, IpmiTimeoutError, IpmiUnreachableError } from './errors.js';
import type { DatagramTransport } from './transport.js';
import { timerMs } from '../timer-limit.js';

export interface ExchangeOptions<T> {
  what: string;
  /** Built again for every (re)transmission, so each carries a fresh session sequence number. */
  build: (attempt: number) => Buffer;
  /** Returns the answer, throws IpmiProtocolError to drop the datagram, any other error to fail. */
  accept: (packet: Buffer) => T;
  timeoutMs: number;
  retransmitMs: number;
  signal?: AbortSignal;
}

const MAX_RETRANSMIT_MS = 2000;

export class Exchanger {
  private onPacket: ((p: Buffer) => void) | null = null;
  private onError: ((e: NodeJS.ErrnoException) => void) | null = null;
  /** Datagrams that arrived while no exchange was waiting (late duplicates, strays). */
  strayCount = 0;

  constructor(
    private readonly transport: DatagramTransport,
    private readonly peer: string,
  ) {
    transport.onMessage((p) => (this.onPacket ? this.onPacket(p) : this.strayCount++));
    transport.onError((e) => this.onError?.(e));
  }

  run<T>(opts: ExchangeOptions<T>): Promise<T> {
    if (this.onPacket) return Promise.reject(new IpmiError(`${opts.what}: another exchange is in flight`));
    return new Promise<T>((resolve, reject) => {
      let lastRejection: string | undefined;
      let attempt = 0;
      let retransmitTimer: NodeJS.Timeout | undefined;
      const finish = (err: Error | null, value?: T): void => {
        clearTimeout(deadline);
        clearTimeout(retransmitTimer);
        opts.signal?.removeEventListener('abort', onAbort);
        this.onPacket = null;
        this.onError = null;
        if (err) reject(err);
        else resolve(value as T);
      };
      const onAbort = (): void => finish(new IpmiError(`${opts.what}: aborted`, { cause: opts.signal?.reason }));
      const send = (): void => {
        this.transport.send(opts.build(attempt));
        const interval = Math.min(opts.retransmitMs * 1.5 ** attempt, MAX_RETRANSMIT_MS);
        attempt++;
        retransmitTimer = setTimeout(send, timerMs(interval));
      };
      const deadline = setTimeout(() => finish(new IpmiTimeoutError(opts.what, opts.timeoutMs, lastRejection)), timerMs(opts.timeoutMs));
      if (opts.signal?.aborted) return onAbort();
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.onPacket = (p) => {
        try {
          finish(null, opts.accept(p));
        } catch (err) {
          if (err instanceof IpmiProtocolError) lastRejection = err.message;
          else finish(err as Error);
        }
      };
      this.onError = (e) => {
        // Loopback (and many routers) answer a closed port with ICMP port unreachable; waiting for the
        // deadline would only delay the same conclusion. It cannot fake a success, only a failure.
        if (e.code === 'ECONNREFUSED')
          finish(new IpmiUnreachableError(`${opts.what}: nothing listens at ${this.peer} (ICMP port unreachable)`));
      };
      try {
        send();
      } catch (err) {
        finish(err as Error);
      }
    });
  }
}
