import { createHash, createHmac, hash } from 'node:crypto';

/**
 * HMAC-SHA256 (RFC 2104) with the key's inner and outer pads computed once, on node's one-shot
 * hash: about twice as fast as createHmac per datagram, which matters at 10,000 beacons a second.
 * Falls back to createHmac where the one-shot hash is missing (node < 20.12).
 */
const BLOCK = 64;
const oneShot = typeof hash === 'function' ? hash : null;

export class HmacSha256 {
  /** Inner pad followed by room for the message: reused, so a digest allocates nothing up front. */
  private inner: Buffer;
  private readonly outer = Buffer.alloc(BLOCK + 32);

  constructor(private readonly key: Buffer) {
    const k = key.length > BLOCK ? createHash('sha256').update(key).digest() : key;
    const ipad = Buffer.alloc(BLOCK, 0x36);
    for (let i = 0; i < k.length; i++) {
      ipad[i]! ^= k[i]!;
      this.outer[i] = k[i]! ^ 0x5c;
    }
    for (let i = k.length; i < BLOCK; i++) this.outer[i] = 0x5c;
    this.inner = Buffer.alloc(BLOCK + 256);
    ipad.copy(this.inner);
  }

  digest(data: Buffer): Buffer {
    if (!oneShot) return createHmac('sha256', this.key).update(data).digest();
    if (this.inner.length < BLOCK + data.length) {
      const grown = Buffer.alloc(BLOCK + data.length);
      this.inner.copy(grown, 0, 0, BLOCK);
      this.inner = grown;
    }
    data.copy(this.inner, BLOCK);
    const innerHash = oneShot('sha256', this.inner.subarray(0, BLOCK + data.length), 'buffer') as unknown as Buffer;
    innerHash.copy(this.outer, BLOCK);
    return oneShot('sha256', this.outer, 'buffer') as unknown as Buffer;
  }
}

const cache = new WeakMap<Buffer, HmacSha256>();

/** The HMAC for a key, computed once per key buffer. */
export function hmacFor(key: Buffer): HmacSha256 {
  let h = cache.get(key);
  if (!h) cache.set(key, (h = new HmacSha256(key)));
  return h;
}
