/**
 * Fault injection for the simulator: a rule matches requests by method and path and either
 * answers an error, drops the connection before the request is handled (nothing happened), drops
 * it after handling (it happened, the answer was lost), or delays the answer.
 */
export type FaultKind = 'status' | 'drop_before' | 'drop_after' | 'delay';

export interface FaultRule {
  kind: FaultKind;
  method?: string;
  /** Substring or pattern of the path (without query), e.g. '/action' or /os-services/. */
  path?: string | RegExp;
  /** For `status`: 500, 502, 503… (Nova's 5xx body is computeFault / serviceUnavailable). */
  status?: number;
  delayMs?: number;
  /** How many matching requests it hits; Infinity for all. */
  count: number;
  /** Skip this many matching requests first (to hit "the 3rd evacuate"). */
  skip?: number;
}

export class Faults {
  private rules: Array<FaultRule & { seen: number; hits: number }> = [];

  add(rule: FaultRule): void {
    this.rules.push({ ...rule, seen: 0, hits: 0 });
  }

  clear(): void {
    this.rules = [];
  }

  /** The rules that apply to this request (each consumed once). */
  take(method: string, path: string): FaultRule[] {
    const out: FaultRule[] = [];
    for (const r of this.rules) {
      if (r.method && r.method !== method) continue;
      if (r.path !== undefined && !(typeof r.path === 'string' ? path.includes(r.path) : r.path.test(path))) continue;
      r.seen++;
      if (r.seen <= (r.skip ?? 0) || r.hits >= r.count) continue;
      r.hits++;
      out.push(r);
    }
    return out;
  }
}
