import type { Alarm } from '../core/status-snapshot.js';

/**
 * What one heartbeat costs in a UDP receive buffer. The kernel charges each queued datagram its
 * buffer's true size, not its payload: about 768 bytes to 1.3 KB for a ~150-byte heartbeat on Linux.
 * 1 KiB is the figure used here.
 */
export const HEARTBEAT_BUFFER_COST_BYTES = 1024;

/**
 * udp_receive_buffer_small: the kernel's receive buffer cannot hold one heartbeat from each watched
 * host, i.e. one beacon interval's worth. A burst that arrives while the event loop is busy (a GC
 * pause, a large view) is then dropped by the kernel, unseen by any counter of ours, and reads as
 * lost heartbeats. Debian's default net.core.rmem_max (208 KiB, granted doubled: 416 KiB) is enough
 * for about 400 hosts.
 */
export function receiveBufferAlarm(bufferBytes: number | undefined, watchedHosts: number): Alarm[] {
  if (bufferBytes === undefined) return [];
  const need = watchedHosts * HEARTBEAT_BUFFER_COST_BYTES;
  if (bufferBytes >= need) return [];
  const kib = (n: number): string => `${Math.round(n / 1024).toLocaleString('en-US')} KiB`;
  return [
    {
      kind: 'udp_receive_buffer_small',
      message:
        `the UDP receive buffer is ${kib(bufferBytes)} (capped by net.core.rmem_max), less than one heartbeat ` +
        `from each of the ${watchedHosts.toLocaleString('en-US')} watched hosts (~${kib(need)}): a burst while this ` +
        'monitor is busy is dropped by the kernel; set net.core.rmem_max = 8388608 in /etc/sysctl.d, ' +
        'apply it (sysctl --system) and restart the monitor',
    },
  ];
}
