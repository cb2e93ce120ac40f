import { afterEach, describe, expect, it } from 'vitest';
import { HEARTBEAT_BUFFER_COST_BYTES, receiveBufferAlarm } from '../../src/daemon/receive-buffer.js';
import { silentLogger } from '../../src/log.js';
import { UdpTransport } from '../../src/wire/udp-transport.js';

let t: UdpTransport | null = null;
afterEach(() => t?.close());

describe('the UDP receive buffer against the watched hosts', () => {
  it('reads back what the kernel granted a listening socket (Linux caps it at rmem_max without an error)', async () => {
    t = new UdpTransport(silentLogger(), () => Date.now());
    expect(t.receiveBufferBytes).toBeUndefined();
    await t.listen([{ host: '127.0.0.1', port: 0 }], () => {});
    expect(t.receiveBufferBytes).toBeGreaterThan(0);
  });

  it('raises udp_receive_buffer_small only when one heartbeat from every watched host would not fit', () => {
    // Debian's default rmem_max (212,992 bytes), granted doubled.
    const debianDefault = 425_984;
    expect(receiveBufferAlarm(debianDefault, 400)).toEqual([]);
    const [a, ...rest] = receiveBufferAlarm(debianDefault, 1_000);
    expect(rest).toEqual([]);
    expect(a!.kind).toBe('udp_receive_buffer_small');
    expect(a!.message).toMatch(/^the UDP receive buffer is 416 KiB .* each of the 1,000 watched hosts \(~1,000 KiB\)/);
    expect(a!.message).toContain('net.core.rmem_max = 8388608');
    expect(receiveBufferAlarm(16 * 1024 * 1024, 10_000)).toEqual([]);
    expect(receiveBufferAlarm(10_000 * HEARTBEAT_BUFFER_COST_BYTES - 1, 10_000)).toHaveLength(1);
    // No kernel socket (the simulation's memory network): nothing to compare.
    expect(receiveBufferAlarm(undefined, 10_000)).toEqual([]);
  });
});
