import type { HostVerdict, MonitorBeat } from '../core/messages.js';
import { emptyView, type MonitorHeader, type PeerView, type ViewPage } from './monitor-format.js';

interface Complete {
  bootId: string;
  version: number;
  view: PeerView;
  /** The same view with its dead verdicts made suspect: what a view too long out of date may still say. */
  downgraded?: PeerView;
}

interface Building {
  bootId: string;
  version: number;
  parts: Array<PeerView | undefined>;
  have: number;
}

interface PeerViews {
  /** Boot id of the peer's newest admitted header: pages of any other boot are refused. */
  bootId: string | null;
  complete: Complete | null;
  building: Building | null;
  /** Since when the peer's headers announce a version newer than the one held (a page was lost). */
  staleSince: number | null;
}

export type PageOutcome = 'kept' | 'ignored' | 'replay';

/**
 * The receiving side of the paged monitor view. Per peer it keeps the newest complete view and the
 * version it is putting together; a view replaces the previous one only once every page of its
 * version is held, so a lost page never yields half a view. A header becomes the core's peer beat
 * with the complete view of the same boot; while a newer version is missing, the previous one
 * stands in, and once that has lasted longer than `staleAfterMs` its dead verdicts count as suspect
 * only (an out-of-date view convicts no one). A header whose peer boot has a view not yet received
 * gives nothing: the core does not hear that peer until it knows what the peer knows.
 */
export class ViewAssembler {
  private readonly peers = new Map<string, PeerViews>();

  constructor(private readonly staleAfterMs: number) {}

  page(p: ViewPage): PageOutcome {
    const s = this.peer(p.from);
    if (s.bootId !== null && p.bootId !== s.bootId) return 'replay';
    const c = s.complete;
    if (c && c.bootId === p.bootId && p.version <= c.version) return 'ignored';
    let b = s.building;
    if (b && b.bootId === p.bootId && p.version < b.version) return 'ignored';
    if (!b || b.bootId !== p.bootId || b.version !== p.version) {
      b = { bootId: p.bootId, version: p.version, parts: new Array<PeerView | undefined>(p.count), have: 0 };
      s.building = b;
    }
    if (b.parts.length !== p.count) return 'ignored';
    if (b.parts[p.index] === undefined) {
      b.parts[p.index] = p.view;
      b.have++;
    }
    if (b.have === b.parts.length) {
      s.complete = { bootId: b.bootId, version: b.version, view: join(b.parts as PeerView[]) };
      s.building = null;
    }
    return 'kept';
  }

  /** The core's beat for an admitted header, or null while the peer's current view is not yet held. */
  header(h: MonitorHeader, now: number): MonitorBeat | null {
    const s = this.peer(h.from);
    if (s.bootId !== h.bootId) {
      s.bootId = h.bootId;
      s.staleSince = null;
      if (s.building && s.building.bootId !== h.bootId) s.building = null;
    }
    let c = s.complete && s.complete.bootId === h.bootId ? s.complete : null;
    // An empty view has no pages to wait for.
    if (h.view.pages === 0 && (!c || h.view.version > c.version)) {
      c = s.complete = { bootId: h.bootId, version: h.view.version, view: emptyView() };
      s.building = null;
    }
    if (!c) return null;
    if (h.view.version > c.version) s.staleSince ??= now;
    else s.staleSince = null;
    const stale = s.staleSince !== null && now - s.staleSince > this.staleAfterMs;
    const view = stale ? (c.downgraded ??= downgrade(c.view)) : c.view;
    return {
      from: h.from,
      bootId: h.bootId,
      seq: h.seq,
      sentAtMs: h.sentAtMs,
      hears: h.hears,
      vote: h.vote,
      acting: h.acting,
      epoch: h.epoch,
      paused: h.paused,
      verdicts: view.verdicts,
      decisions: view.decisions,
      ...(view.decisionSeq !== undefined ? { decisionSeq: view.decisionSeq } : {}),
      maintenance: view.maintenance,
      ...(view.clears.length > 0 ? { clears: view.clears } : {}),
      ...(view.forgets.length > 0 ? { forgets: view.forgets } : {}),
      ...(view.left.length > 0 ? { left: view.left } : {}),
    };
  }

  private peer(from: string): PeerViews {
    let s = this.peers.get(from);
    if (!s) this.peers.set(from, (s = { bootId: null, complete: null, building: null, staleSince: null }));
    return s;
  }
}

function join(parts: readonly PeerView[]): PeerView {
  if (parts.length === 1) return parts[0]!;
  const v = emptyView();
  for (const p of parts) {
    for (const x of p.verdicts) v.verdicts.push(x);
    for (const x of p.decisions) v.decisions.push(x);
    for (const x of p.maintenance) v.maintenance.push(x);
    for (const x of p.clears) v.clears.push(x);
    for (const x of p.forgets) v.forgets.push(x);
    for (const x of p.left) v.left.push(x);
    if (p.decisionSeq !== undefined) v.decisionSeq = p.decisionSeq;
  }
  return v;
}

function downgrade(v: PeerView): PeerView {
  return { ...v, verdicts: v.verdicts.map((x): HostVerdict => (x.level === 'dead' ? { ...x, level: 'suspect' } : x)) };
}
