import type { AddressInfo, Server } from 'node:net';
import type { HostPort } from '../config/address.js';

/** Binds an HTTP(S) server; resolves with the address actually bound (port 0 → the kernel's pick). */
export function listenHttp(server: Server, at: HostPort): Promise<HostPort> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(at.port, at.host, () => {
      server.off('error', onError);
      const a = server.address() as AddressInfo;
      resolve({ host: a.address, port: a.port });
    });
  });
}
