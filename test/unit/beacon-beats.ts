import type { BeaconBeat } from '../../src/core/messages.js';

/** The wire tests' clock and boots: fixed, so a datagram's send time and boot are the test's to choose. */
export const NOW = 1_700_000_000_000;
export const BOOT_A = 'a'.repeat(32);
export const BOOT_B = 'b'.repeat(32);

/** A 32-byte key of one repeated character: which key sealed a datagram is plain from the test. */
export const k = (c: string) => Buffer.alloc(32, c);

/** compute-2's first heartbeat of boot A, sent now; `o` is what a test changes. */
export const beat = (o: Partial<BeaconBeat> = {}): BeaconBeat => ({
  host: 'compute-2',
  bootId: BOOT_A,
  seq: 1,
  sentAtMs: NOW,
  intervalMs: 500,
  novaCompute: 'up',
  ...o,
});
