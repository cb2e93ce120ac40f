import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { bindable, freePort, freePortBlock } from '../../src/testbed/loopback-ports.js';

/** Ports handed to test daemons, which bind them later: outside the ephemeral range, never twice, free. */
const ephemeralLow = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);

describe('loopback test ports', () => {
  it('come from below the kernel ephemeral range, and one process never hands a port out twice', async () => {
    const ports: number[] = [];
    for (let i = 0; i < 200; i++) ports.push(await freePort(i % 2 ? 'udp' : 'tcp'));
    expect(ports.every((p) => p >= 20_000 && p < Math.min(27_000, ephemeralLow))).toBe(true);
    expect(new Set(ports).size).toBe(ports.length);
  });

  it('blocks do not overlap, and every port a block promises is free', async () => {
    const needs = [
      { offset: 0, kind: 'udp' as const },
      { offset: 100, kind: 'tcp' as const },
    ];
    const a = await freePortBlock(300, needs);
    const b = await freePortBlock(300, needs);
    expect(Math.abs(a - b)).toBeGreaterThanOrEqual(300);
    for (const base of [a, b]) {
      expect(await bindable('udp', base)).toBe(true);
      expect(await bindable('tcp', base + 100)).toBe(true);
    }
  });

  it('a port someone holds is not bindable (the check that skips it)', async () => {
    const port = await freePortBlock(1, [
      { offset: 0, kind: 'udp' },
      { offset: 0, kind: 'tcp' },
    ]);
    const udp = createSocket('udp4');
    await new Promise<void>((r) => udp.bind(port, '127.0.0.1', () => r()));
    const tcp = createServer();
    await new Promise<void>((r) => tcp.listen(port, '127.0.0.1', () => r()));
    try {
      expect(await bindable('udp', port)).toBe(false);
      expect(await bindable('tcp', port)).toBe(false);
    } finally {
      udp.close();
      tcp.close();
    }
  });
});
