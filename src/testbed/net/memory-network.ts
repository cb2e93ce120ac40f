import type { HostPort } from '../../config/address.js';
import type { Datagram, DatagramTransport, TransportCounters } from '../../wire/transport.js';
import type { VirtualTime } from '../clock/virtual-time.js';
import type { Rng } from '../sim/rng.js';

export interface LinkFaults {
  /** Probability a datagram is lost. */
  loss: number;
  /** Probability a datagram is delivered twice. */
  duplicate: number;
  /** Each copy is delayed uniformly in [min, max]; different delays reorder datagrams. */
  minDelayMs: number;
  maxDelayMs: number;
}

/** The largest datagram that crosses a 1,500-byte path MTU without IP fragmentation, with room to spare. */
export const DATAGRAM_BUDGET_BYTES = 1400;

export interface NetworkStats {
  sent: number;
  delivered: number;
  lost: number;
  cut: number;
  /** Datagrams larger than DATAGRAM_BUDGET_BYTES, by sender: each would be fragmented on a real network. */
  overBudget: Map<string, number>;
  largestBytes: number;
}

/**
 * An in-memory datagram network for the simulation, in the spirit of memberlist's mock transport:
 * every node gets an endpoint implementing the production DatagramTransport, and datagrams travel
 * on virtual time with seeded loss, duplication, delay (hence reordering) and cuts, one-way or both.
 * Addresses are node names (port 7000); nothing touches a socket.
 */
export class MemoryNetwork {
  private readonly endpoints = new Map<string, MemoryEndpoint>();
  readonly stats: NetworkStats = { sent: 0, delivered: 0, lost: 0, cut: 0, overBudget: new Map(), largestBytes: 0 };

  constructor(
    private readonly time: VirtualTime,
    private readonly rng: Rng,
    private readonly faults: LinkFaults,
    /** True while datagrams from → to are cut. */
    private readonly isCut: (from: string, to: string, at: number) => boolean = () => false,
  ) {}

  static address(node: string): HostPort {
    return { host: node, port: 7000 };
  }

  /** A new endpoint for a node (a new incarnation replaces the old one, which goes deaf and mute). */
  endpoint(node: string, gate: (deliver: () => void) => void): MemoryEndpoint {
    this.endpoints.get(node)?.close();
    const e = new MemoryEndpoint(node, this, gate, () => this.time.now);
    this.endpoints.set(node, e);
    return e;
  }

  /** Called by an endpoint. */
  transmit(from: MemoryEndpoint, buf: Buffer, to: HostPort): void {
    const s = this.stats;
    s.sent++;
    if (buf.length > s.largestBytes) s.largestBytes = buf.length;
    if (buf.length > DATAGRAM_BUDGET_BYTES) s.overBudget.set(from.node, (s.overBudget.get(from.node) ?? 0) + 1);
    const now = this.time.now;
    if (this.isCut(from.node, to.host, now)) {
      s.cut++;
      return;
    }
    if (this.rng.chance(this.faults.loss)) {
      s.lost++;
      return;
    }
    const copies = this.rng.chance(this.faults.duplicate) ? 2 : 1;
    const { minDelayMs, maxDelayMs } = this.faults;
    // One buffer for every copy: receivers only read it (the sender's own is never reused either).
    for (let i = 0; i < copies; i++) {
      this.time.at(now + minDelayMs + this.rng.int(maxDelayMs - minDelayMs + 1), () => {
        const target = this.endpoints.get(to.host);
        if (!target || target.closed || to.port !== 7000) return;
        s.delivered++;
        target.receive(buf, from.node);
      });
    }
  }
}

export class MemoryEndpoint implements DatagramTransport {
  readonly counters: TransportCounters = { received: 0, sent: 0, sendErrors: 0 };
  closed = false;
  private handler: ((d: Datagram) => void) | null = null;
  /** Called with the sender's node name each time a datagram is handed to the daemon. */
  onHeard: (from: string) => void = () => {};

  constructor(
    readonly node: string,
    private readonly net: MemoryNetwork,
    private readonly gate: (deliver: () => void) => void,
    private readonly now: () => number = () => 0,
  ) {}

  async listen(addresses: readonly HostPort[], onDatagram: (d: Datagram) => void): Promise<HostPort[]> {
    this.handler = onDatagram;
    return addresses.length ? [MemoryNetwork.address(this.node)] : [];
  }

  send(buf: Buffer, to: HostPort): void {
    if (this.closed) {
      this.counters.sendErrors++;
      return;
    }
    this.counters.sent++;
    this.net.transmit(this, buf, to);
  }

  close(): void {
    this.closed = true;
    this.handler = null;
  }

  /** A datagram arrived: handed over when the node's process runs (not while it is stalled). */
  receive(buf: Buffer, from: string): void {
    this.gate(() => {
      if (this.closed || !this.handler) return;
      this.counters.received++;
      this.onHeard(from);
      this.handler({ buf, from: `${from}:7000`, receivedAt: this.now() });
    });
  }
}
