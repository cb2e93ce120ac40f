import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Logger } from '../log.js';
import type { HostPort } from '../config/address.js';
import type { Datagram, DatagramTransport, TransportCounters } from './transport.js';

export type { Datagram, DatagramTransport, TransportCounters };

/** The receive buffer a listening socket asks for (bytes). */
const RECEIVE_BUFFER_WANTED = 8 * 1024 * 1024;

/**
 * UDP sockets for one daemon: listening ones (monitor) or only sending ones (beacon). A send never
 * throws or blocks: an unreachable peer is a counted error, not a reason to stop heartbeating.
 */
export class UdpTransport implements DatagramTransport {
  private readonly sockets = new Map<'udp4' | 'udp6', Socket>();
  readonly counters: TransportCounters = { received: 0, sent: 0, sendErrors: 0 };

  private onDatagram: ((d: Datagram) => void) | null = null;
  private smallestReceiveBuffer: number | undefined;

  get receiveBufferBytes(): number | undefined {
    return this.smallestReceiveBuffer;
  }

  constructor(
    private readonly log: Logger,
    private readonly now: () => number,
  ) {}

  /** Binds the listening sockets; resolves with the bound addresses (port 0 picks a free one). */
  async listen(addresses: readonly HostPort[], onDatagram: (d: Datagram) => void): Promise<HostPort[]> {
    this.onDatagram = onDatagram;
    const bound: HostPort[] = [];
    for (const a of addresses) {
      const family = isIPv6(a.host) ? 'udp6' : 'udp4';
      const sock = this.socket(family);
      await new Promise<void>((resolve, reject) => {
        sock.once('error', reject);
        sock.bind({ address: a.host, port: a.port, exclusive: true }, () => {
          sock.off('error', reject);
          resolve();
        });
      });
      try {
        // Room for a burst of 10,000 beacons arriving while the loop is busy. Linux caps it at
        // net.core.rmem_max without an error: what it granted is read back, and the monitor raises
        // udp_receive_buffer_small when that cannot hold a heartbeat from each watched host.
        sock.setRecvBufferSize(RECEIVE_BUFFER_WANTED);
      } catch (err) {
        this.log.warn({ err }, 'could not enlarge the UDP receive buffer (raise net.core.rmem_max)');
      }
      try {
        const got = sock.getRecvBufferSize();
        this.smallestReceiveBuffer = Math.min(this.smallestReceiveBuffer ?? got, got);
      } catch {
        /* not readable: nothing to compare */
      }
      const addr = sock.address();
      bound.push({ host: addr.address, port: addr.port });
    }
    return bound;
  }

  send(buf: Buffer, to: HostPort): void {
    const sock = this.socket(isIPv6(to.host) ? 'udp6' : 'udp4');
    sock.send(buf, to.port, to.host, (err) => {
      if (err) {
        this.counters.sendErrors++;
        this.log.debug({ err, to: `${to.host}:${to.port}` }, 'send failed');
      } else {
        this.counters.sent++;
      }
    });
  }

  close(): void {
    for (const s of this.sockets.values()) s.close();
    this.sockets.clear();
  }

  private socket(family: 'udp4' | 'udp6'): Socket {
    let s = this.sockets.get(family);
    if (s) return s;
    s = createSocket({ type: family, ipv6Only: family === 'udp6' });
    s.on('error', (err) => this.log.error({ err }, 'UDP socket error'));
    s.on('message', (buf, rinfo) => {
      const receivedAt = this.now();
      this.counters.received++;
      this.onDatagram?.({ buf, from: `${rinfo.address}:${rinfo.port}`, receivedAt });
    });
    this.sockets.set(family, s);
    return s;
  }
}
