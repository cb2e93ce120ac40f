import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HmacSha256 } from '../../src/wire/hmac.js';

describe('HMAC-SHA256 with precomputed pads', () => {
  it('matches RFC 4231 test case 2', () => {
    const mac = new HmacSha256(Buffer.from('Jefe')).digest(Buffer.from('what do ya want for nothing?'));
    expect(mac.toString('hex')).toBe('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  });

  it('matches createHmac for keys shorter than, equal to and longer than a block, on any data', () => {
    for (const keyLen of [1, 16, 32, 64, 65, 200]) {
      const key = randomBytes(keyLen);
      const h = new HmacSha256(key);
      for (const n of [0, 1, 63, 64, 65, 1400]) {
        const data = randomBytes(n);
        expect(h.digest(data).equals(createHmac('sha256', key).update(data).digest()), `key ${keyLen} data ${n}`).toBe(true);
      }
    }
  });
});
