import { describe, expect, it } from 'vitest';
import { Limiter } from '../../src/recovery/limiter.js';

describe('Limiter', () => {
  it('never exceeds its limit and serves waiters in order', async () => {
    const lim = new Limiter(3);
    let active = 0;
    let peak = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        lim.run(async () => {
          order.push(i);
          active++;
          peak = Math.max(peak, active);
          await new Promise((r) => setTimeout(r, 5 + (i % 3)));
          active--;
        }),
      ),
    );
    expect(peak).toBe(3);
    expect(lim.peak).toBe(3);
    expect(order).toEqual([...Array(12).keys()]);
  });

  it('serves waiters by rank, then arrival', async () => {
    const lim = new Limiter(1);
    const hold = await lim.acquire();
    const order: string[] = [];
    const waits = [
      ['c', 5],
      ['a', 1],
      ['d', 5],
      ['b', 1],
    ].map(([name, rank]) => lim.run(async () => void order.push(name as string), undefined, rank as number));
    hold();
    await Promise.all(waits);
    expect(order).toEqual(['a', 'b', 'c', 'd']);
  });

  it('rejects a waiter whose signal aborts', async () => {
    const lim = new Limiter(1);
    const release = await lim.acquire();
    const ac = new AbortController();
    const p = lim.acquire(ac.signal);
    ac.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
    release();
    const again = await lim.acquire();
    again();
  });
});
