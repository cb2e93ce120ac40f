import type { HostPort } from '../config/address.js';

export interface Datagram {
  buf: Buffer;
  from: string;
  /** Taken right after the read, before any processing (memberlist does the same). */
  receivedAt: number;
}

export interface TransportCounters {
  received: number;
  sent: number;
  sendErrors: number;
}

/**
 * How a daemon sends and receives datagrams: UDP in production (udp-transport.ts), an in-memory network
 * in the simulation (src/testbed/net). A send never throws or blocks: a failure is a counted error.
 */
export interface DatagramTransport {
  readonly counters: TransportCounters;
  /**
   * The kernel's receive buffer of the smallest listening socket, in bytes as the kernel accounts
   * them (getsockopt SO_RCVBUF): what a burst of datagrams may fill while the event loop is busy.
   * Undefined where there is no kernel socket (the simulation's memory network) or nothing listens.
   */
  readonly receiveBufferBytes?: number;
  /** Binds the listening addresses (port 0 picks a free one); resolves with the bound addresses. */
  listen(addresses: readonly HostPort[], onDatagram: (d: Datagram) => void): Promise<HostPort[]>;
  send(buf: Buffer, to: HostPort): void;
  close(): void;
}
