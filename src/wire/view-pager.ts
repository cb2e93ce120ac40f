import type { HostVerdict, MonitorBeat } from '../core/messages.js';
import {
  MAX_VIEW_PAGES,
  PAGE_CAPACITY_BYTES,
  encodeClear,
  encodeDecision,
  encodeDecisionSeq,
  encodeForget,
  encodeLeft,
  encodeHeaderBody,
  encodeMaintenance,
  encodePageBody,
  encodeVerdict,
  type ViewSummary,
} from './monitor-format.js';

export interface ViewPagerSettings {
  from: string;
  /** This monitor's boot id (32 hex characters). */
  bootId: string;
  /** Most pages sent per tick to each peer: the bandwidth bound (64 × 1,400 bytes = 90 KB a tick). */
  pagesPerTick: number;
  /** An unchanged view larger than SMALL_VIEW_PAGES is sent again this often, so a lost page heals. */
  refreshMs: number;
  /** A large view (over SMALL_VIEW_PAGES) that keeps changing starts a new version at most this often. */
  minVersionGapMs: number;
  /** Seals a body as a datagram of a kind (codec.ts `seal`, with whichever key seals monitor datagrams). */
  seal: (kind: number, body: Buffer) => Buffer;
}

/** A view this small goes out again with every header, as the whole view did before paging. */
export const SMALL_VIEW_PAGES = 4;
export const KIND_HEADER = 3;
export const KIND_PAGE = 4;

export interface PagerStats {
  /** Entries of the current view that can never be encoded (a host name over 255 bytes), left out. */
  refusedEntries: number;
  /** Entries of the view last paged that were cut because it would exceed MAX_VIEW_PAGES. */
  cutEntries: number;
}

/**
 * The sending side of the paged monitor view. The core hands over a whole beat; the pager turns its
 * per-host part into numbered versions of sealed pages and sends them at most `pagesPerTick` a tick:
 * a version once started is sent to its end before the next one starts (so a view that changes every
 * tick still gets through whole), and the header announces only a version whose every page has gone
 * out. An unchanged view is sent again every `refreshMs` (with every header when small), and a
 * receiver keeps the pages it holds of a version across passes, so loss heals.
 */
export class ViewPager {
  readonly stats: PagerStats = { refusedEntries: 0, cutEntries: 0 };
  private readonly bootIdBytes: Buffer;
  private version = 0;
  private pages: Buffer[] = [];
  private cursor = 0;
  private summary: ViewSummary = { version: 0, pages: 0, verdicts: 0, decisions: 0, maintenance: 0, clears: 0 };
  /** The last view offered, as its entries, and whether it differs from the one being sent. */
  private offered: Buffer[] = [];
  private offeredCounts = { verdicts: 0, decisions: 0, maintenance: 0, clears: 0 };
  /** The counts of the version in flight, announced once it has gone out whole. */
  private sentCounts = { verdicts: 0, decisions: 0, maintenance: 0, clears: 0 };
  private pending = false;
  private latest: MonitorBeat | null = null;
  private offeredBytes = 0;
  private versionStartedAt = -Infinity;
  private lastPassAt = -Infinity;
  /** Encoded verdicts by host: the hot entry (10,000 of them during a mass silence), rebuilt only on change. */
  private readonly verdictCache = new Map<string, { v: HostVerdict; b: Buffer | null }>();

  constructor(private readonly s: ViewPagerSettings) {
    this.bootIdBytes = Buffer.from(s.bootId, 'hex');
    if (this.bootIdBytes.length !== 16) throw new RangeError(`boot id must be 32 hex characters: '${s.bootId}'`);
  }

  /**
   * The view of a beat the core wants sent; it goes out as a new version if it changed. Only kept
   * here: it is encoded when a new version can start, so a large view changing every tick is
   * encoded once per version, not once per tick.
   */
  offer(beat: MonitorBeat): void {
    this.latest = beat;
  }

  /** Encodes the latest view offered; marks it pending when it differs from the last one encoded. */
  private encodeLatest(): void {
    const beat = this.latest;
    if (!beat) return;
    this.latest = null;
    const entries: Buffer[] = [];
    let refused = 0;
    // Compared as built: unchanged verdicts are the very cached buffers of the last offer.
    let same = true;
    const add = (b: Buffer | null, cached: boolean): void => {
      if (!b) {
        refused++;
        return;
      }
      const prev = this.offered[entries.length];
      if (same && prev !== b && !(!cached && prev !== undefined && prev.equals(b))) same = false;
      entries.push(b);
    };
    for (const v of beat.verdicts) {
      let c = this.verdictCache.get(v.host);
      if (!c || c.v.level !== v.level || c.v.bootId !== v.bootId) this.verdictCache.set(v.host, (c = { v, b: encodeVerdict(v) }));
      add(c.b, true);
    }
    for (const d of beat.decisions) add(encodeDecision(d), false);
    for (const m of beat.maintenance) add(encodeMaintenance(m), false);
    for (const c of beat.clears ?? []) add(encodeClear(c), false);
    for (const f of beat.forgets ?? []) add(encodeForget(f), false);
    for (const l of beat.left ?? []) add(encodeLeft(l), false);
    if (beat.decisionSeq !== undefined) add(encodeDecisionSeq(beat.decisionSeq), false);
    this.stats.refusedEntries = refused;
    // Hosts back up leave the cache now and then, not on every offer.
    if (this.verdictCache.size > 2 * beat.verdicts.length + 1024) {
      const keep = new Set(beat.verdicts.map((v) => v.host));
      for (const h of this.verdictCache.keys()) if (!keep.has(h)) this.verdictCache.delete(h);
    }
    if (same && entries.length === this.offered.length) return;
    this.offered = entries;
    this.offeredCounts = {
      verdicts: beat.verdicts.length,
      decisions: beat.decisions.length,
      maintenance: beat.maintenance.length,
      clears: beat.clears?.length ?? 0,
    };
    this.offeredBytes = entries.reduce((a, b) => a + b.length, 0);
    this.pending = true;
  }

  /**
   * The pages to send now (to each peer): the rest of the version in flight, else a changed view's
   * first pages, else a refresh when due. `withHeader` when a header goes out this tick too.
   */
  pump(now: number, withHeader: boolean): Buffer[] {
    if (this.cursor >= this.pages.length) {
      // A large view that keeps changing goes out as a new version at most every minVersionGapMs.
      const large = this.offeredBytes > SMALL_VIEW_PAGES * PAGE_CAPACITY_BYTES || this.pages.length > SMALL_VIEW_PAGES;
      const mayStart = !large || now - this.versionStartedAt >= this.s.minVersionGapMs;
      if (mayStart) this.encodeLatest();
      if (this.pending && mayStart) this.startVersion(now);
      else if (
        this.pages.length > 0 &&
        ((withHeader && this.pages.length <= SMALL_VIEW_PAGES) || now - this.lastPassAt >= this.s.refreshMs)
      )
        this.cursor = 0;
      else return [];
      if (this.pages.length === 0) this.lastPassAt = now;
    }
    const out = this.pages.slice(this.cursor, this.cursor + this.s.pagesPerTick);
    this.cursor += out.length;
    if (this.cursor >= this.pages.length && out.length > 0) {
      this.lastPassAt = now;
      this.summary = { ...this.sentCounts, version: this.version, pages: this.pages.length };
    }
    return out;
  }

  /**
   * The sealed header for a beat, announcing the newest version sent whole; before any has been (the
   * first view of a boot is still on its way), the one in flight, so no peer takes this boot's view
   * for empty while it is not.
   */
  header(beat: MonitorBeat): Buffer {
    const view =
      this.summary.version === 0 && this.version > 0
        ? { ...this.sentCounts, version: this.version, pages: this.pages.length }
        : this.summary;
    return this.s.seal(
      KIND_HEADER,
      encodeHeaderBody(
        {
          from: beat.from,
          bootId: beat.bootId,
          seq: beat.seq,
          sentAtMs: beat.sentAtMs,
          hears: beat.hears,
          vote: beat.vote,
          acting: beat.acting,
          epoch: beat.epoch,
          paused: beat.paused,
          view,
        },
        this.bootIdBytes,
      ),
    );
  }

  /** Pages still to go of the version in flight (shown in status when a view is slow to get through). */
  backlog(): number {
    return this.pages.length - this.cursor;
  }

  private startVersion(now: number): void {
    this.pending = false;
    this.versionStartedAt = now;
    this.version++;
    this.sentCounts = this.offeredCounts;
    const groups: Buffer[][] = [];
    let group: Buffer[] = [];
    let size = 0;
    let cut = 0;
    for (const e of this.offered) {
      if (size + e.length > PAGE_CAPACITY_BYTES) {
        groups.push(group);
        group = [];
        size = 0;
      }
      if (groups.length >= MAX_VIEW_PAGES) {
        cut++;
        continue;
      }
      group.push(e);
      size += e.length;
    }
    if (group.length > 0 && groups.length < MAX_VIEW_PAGES) groups.push(group);
    this.stats.cutEntries = cut;
    this.pages = groups.map((g, index) =>
      this.s.seal(
        KIND_PAGE,
        encodePageBody({ from: this.s.from, bootIdBytes: this.bootIdBytes, version: this.version, index, count: groups.length }, g),
      ),
    );
    this.cursor = 0;
    if (this.pages.length === 0) this.summary = { ...this.sentCounts, version: this.version, pages: 0 };
  }
}
