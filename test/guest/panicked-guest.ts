import type { GuestEventBeat } from '../../src/core/guest-failures.js';

/** The server whose guest panics in these tests (a Nova instance UUID is its libvirt domain's UUID). */
export const GUEST_ID = '6f1c1d0e-1111-4222-8333-944455556666';

/**
 * What a beacon reports of a guest kernel panic that stayed down (libvirt's "Crashed Panicked"):
 * which host, boot and event number, and when, are each test's to say.
 */
export const PANICKED: Omit<GuestEventBeat, 'host' | 'bootId' | 'seq' | 'sentAtMs' | 'atMs'> = {
  instance: GUEST_ID,
  down: true,
  dropped: 0,
  event: 'lifecycle',
  action: '',
  detail: 'Crashed Panicked',
  domain: 'instance-0000002a',
};
