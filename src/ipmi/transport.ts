import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';

/** A connected datagram socket; the session only sends, receives and closes (fakeable in tests). */
export interface DatagramTransport {
  send(packet: Buffer): void;
  /** One handler; datagrams from any other peer never arrive (the socket is connected). */
  onMessage(handler: (packet: Buffer) => void): void;
  /** Socket errors, e.g. ECONNREFUSED when loopback answers with ICMP port unreachable. */
  onError(handler: (err: NodeJS.ErrnoException) => void): void;
  close(): void;
}

export async function connectUdp(host: string, port: number): Promise<DatagramTransport> {
  const socket: Socket = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
  let onMessage: (p: Buffer) => void = () => {};
  let onError: (e: NodeJS.ErrnoException) => void = () => {};
  socket.on('message', (p) => onMessage(p));
  socket.on('error', (e) => onError(e));
  await new Promise<void>((resolve, reject) => {
    const fail = (e: Error): void => reject(e);
    socket.once('error', fail);
    socket.connect(port, host, () => {
      socket.off('error', fail);
      resolve();
    });
  }).catch((err: unknown) => {
    socket.close();
    throw err;
  });
  let closed = false;
  return {
    send: (p) => {
      if (!closed) socket.send(p, (err) => err && onError(err));
    },
    onMessage: (h) => (onMessage = h),
    onError: (h) => (onError = h),
    close: () => {
      if (closed) return;
      closed = true;
      socket.close();
    },
  };
}
