import { describe, expect, it } from 'vitest';
import { toServer } from '../../src/openstack/compute.js';

/** A server's fault is how Nova says why it is in ERROR (NoValidHost): kept, bounded, never invented. */
describe('toServer: the fault of a server in ERROR', () => {
  it("keeps Nova's fault message", () => {
    const s = toServer({ id: 'a', status: 'ERROR', fault: { code: 500, message: 'No valid host was found. ' } });
    expect(s.fault).toBe('No valid host was found. ');
  });

  it('has none when Nova gives none, or gives a malformed one', () => {
    expect(toServer({ id: 'a', status: 'ACTIVE' }).fault).toBeNull();
    expect(toServer({ id: 'a', status: 'ERROR', fault: null }).fault).toBeNull();
    expect(toServer({ id: 'a', status: 'ERROR', fault: { code: 500 } }).fault).toBeNull();
    expect(toServer({ id: 'a', status: 'ERROR', fault: { message: 42 as unknown as string } }).fault).toBeNull();
  });

  it('is bounded to 255 characters (it travels into alarms, events and notifications)', () => {
    expect(toServer({ id: 'a', status: 'ERROR', fault: { message: 'x'.repeat(5000) } }).fault).toHaveLength(255);
  });
});
