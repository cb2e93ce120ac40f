/** A binary min-heap of timed callbacks; ties run in insertion order so runs are deterministic. */
interface Item {
  at: number;
  n: number;
  run: () => void;
}

export class EventQueue {
  private heap: Item[] = [];
  private n = 0;

  at(at: number, run: () => void): void {
    const item = { at, n: this.n++, run };
    const h = this.heap;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  peek(): Item | undefined {
    return this.heap[0];
  }

  empty(): boolean {
    return this.heap.length === 0;
  }

  pop(): Item | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && less(h[l]!, h[m]!)) m = l;
        if (r < h.length && less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

function less(a: Item, b: Item): boolean {
  return a.at < b.at || (a.at === b.at && a.n < b.n);
}
