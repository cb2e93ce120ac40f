import { setMaxListeners } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../src/log.js';
import type { Migration, Server } from '../../src/openstack/types.js';
import { EvacuationTracker, type TrackerCompute } from '../../src/recovery/tracker.js';

/**
 * The shared tracking poller against a scripted Nova (the compute port, answering from a table the
 * test edits): how many calls a poll costs, the adaptive cadence, kicks, and the cases where a
 * listing cannot be trusted alone. Time is vitest's fake clock: these assert the order and spacing
 * of polls the cadence promises, never wall-clock speed.
 */
interface Nova {
  servers: Map<string, Server>;
  migrations: Migration[];
  calls: string[];
}

function nova(): Nova {
  return { servers: new Map(), migrations: [], calls: [] };
}

function port(n: Nova): TrackerCompute {
  return {
    listChangedServers: async (since) => {
      n.calls.push(`servers since ${since}`);
      return [...n.servers.values()].filter((s) => (s.updatedAt ?? '') >= since);
    },
    listMigrations: async (f) => {
      n.calls.push(f.instanceUuid ? `migrations of ${f.instanceUuid}` : 'migrations');
      // Nova's changes-since on os-migrations compares updated_at: a record never updated is not listed.
      const since = f.changesSinceMs === undefined ? null : iso(f.changesSinceMs);
      return n.migrations.filter(
        (m) => (!f.instanceUuid || m.instanceUuid === f.instanceUuid) && (since === null || (m.updatedAt !== null && m.updatedAt >= since)),
      );
    },
    getServer: async (id) => {
      n.calls.push(`server ${id}`);
      return n.servers.get(id) ?? null;
    },
  } as TrackerCompute;
}

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function server(id: string, host: string, status: string, taskState: string | null, atMs: number): Server {
  return {
    id,
    name: id,
    status,
    host,
    vmState: status === 'ACTIVE' ? 'active' : status === 'ERROR' ? 'error' : 'active',
    taskState,
    projectId: 'p',
    userId: 'u',
    tags: [],
    metadata: {},
    imageId: null,
    flavorExtraSpecs: {},
    updatedAt: iso(atMs),
  };
}

function migration(id: number, instanceUuid: string, status: string, atMs: number | null): Migration {
  const created = iso(Date.now());
  return {
    id,
    instanceUuid,
    sourceCompute: 'compute-1',
    destCompute: 'compute-2',
    status,
    migrationType: 'evacuation',
    createdAt: created,
    updatedAt: atMs === null ? null : iso(atMs),
  };
}

const cadence = { fastMs: 250, slowMs: 2_000, minGapMs: 100 };
let ac: AbortController;
beforeEach(() => {
  vi.useFakeTimers({ now: Date.parse('2026-12-02T06:00:00Z') });
  ac = new AbortController();
  setMaxListeners(0, ac.signal); // one listener per waiting observe, as on a recovery's own signal
});
afterEach(() => {
  ac.abort();
  vi.useRealTimers();
});

/** Times (ms after `t0`) at which polls started, as seen through the servers' listing or a kicked poll's read of one server. */
function pollTimes(n: Nova, t0: number, log: number[]): TrackerCompute {
  const p = port(n);
  return {
    ...p,
    listChangedServers: async (since, signal) => {
      log.push(Date.now() - t0);
      return p.listChangedServers(since, signal);
    },
    getServer: async (id) => {
      log.push(Date.now() - t0);
      return p.getServer(id);
    },
  } as TrackerCompute;
}

/** Keeps one observer waiting on `id` until the test aborts. */
function keepObserving(t: EvacuationTracker, id: string): { stop: () => Promise<void> } {
  let stop = false;
  const loop = (async () => {
    while (!stop) await t.observe(id, ac.signal).catch(() => (stop = true));
  })();
  return {
    stop: async () => {
      stop = true;
      ac.abort();
      await loop;
    },
  };
}

describe('one poll for every server', () => {
  it('answers 100 waiting servers with two listing calls, and a done server is shown ACTIVE elsewhere', async () => {
    const n = nova();
    const t = new EvacuationTracker({ compute: port(n), log: silentLogger(), cadence });
    const ids = Array.from({ length: 100 }, (_, i) => `s${i}`);
    for (const id of ids) {
      t.track(id, 'compute-1', Date.now());
      n.servers.set(id, server(id, 'compute-1', 'REBUILD', 'rebuilding', Date.now()));
    }
    n.servers.set('s7', server('s7', 'compute-2', 'ACTIVE', null, Date.now()));
    n.migrations.push(migration(1, 's7', 'done', Date.now()));
    const views = Promise.all(ids.map((id) => t.observe(id, ac.signal)));
    await vi.advanceTimersByTimeAsync(300);
    const seen = await views;
    expect(n.calls).toHaveLength(2);
    expect(n.calls.filter((c) => c.startsWith('server '))).toEqual([]);
    expect(seen[7]).toEqual({
      server: { host: 'compute-2', status: 'ACTIVE', vmState: 'active', taskState: null },
      migrations: [{ id: 1, status: 'done', phase: 'succeeded' }],
    });
    expect(seen[8]!.server).toMatchObject({ host: 'compute-1', status: 'REBUILD', taskState: 'rebuilding' });
  });

  it('reads only what changed since the newest change Nova showed (minus a margin), on Nova’s clock', async () => {
    const n = nova();
    const t = new EvacuationTracker({ compute: port(n), log: silentLogger(), cadence });
    t.track('a', 'compute-1', Date.now());
    n.servers.set('a', server('a', 'compute-1', 'REBUILD', 'rebuilding', Date.parse('2026-12-02T06:00:00Z')));
    const first = t.observe('a', ac.signal);
    await vi.advanceTimersByTimeAsync(300);
    await first;
    let woke = false;
    const second = t.observe('a', ac.signal).then((v) => ((woke = true), v));
    await vi.advanceTimersByTimeAsync(1_000);
    // Nothing changed: the waiter sleeps through the polls (a thousand unchanged servers cost nothing)...
    expect(woke).toBe(false);
    await vi.advanceTimersByTimeAsync(2_000);
    // ...and wakes after poll_interval, so the step still sees its timeouts.
    expect((await second).server).toMatchObject({ status: 'REBUILD' });
    // The first window opens a margin before the server was taken up; the next ones 2 s behind its updated time.
    const windows = n.calls.filter((c) => c.startsWith('servers'));
    expect(windows[0]).toBe('servers since 2026-12-02T05:59:00Z');
    expect(new Set(windows.slice(1))).toEqual(new Set(['servers since 2026-12-02T05:59:58Z']));
  });
});

describe('adaptive cadence', () => {
  it('polls fast after an evacuate, doubles after two quiet polls up to poll_interval, and is fast again after the next one', async () => {
    const n = nova();
    const times: number[] = [];
    const t0 = Date.now();
    const t = new EvacuationTracker({ compute: pollTimes(n, t0, times), log: silentLogger(), cadence });
    t.track('a', 'compute-1', Date.now());
    n.servers.set('a', server('a', 'compute-1', 'REBUILD', 'rebuilding', Date.now()));
    let stop = false;
    const loop = (async () => {
      while (!stop) await t.observe('a', ac.signal).catch(() => (stop = true));
    })();
    await vi.advanceTimersByTimeAsync(9_000);
    // First poll at once (a change: first sight), then one quiet poll keeps 250; then 500, 1000, 2000, 2000 ...
    const gaps = times.slice(1).map((x, i) => x - times[i]!);
    expect(gaps.slice(0, 6)).toEqual([250, 250, 500, 1_000, 2_000, 2_000]);
    const before = times.length;
    t.hurry();
    await vi.advanceTimersByTimeAsync(1_000);
    const after = times.slice(before - 1);
    expect(after[1]! - after[0]!).toBeLessThanOrEqual(2_000);
    expect(
      Math.max(
        ...after
          .slice(1)
          .map((x, i) => x - after[i]!)
          .slice(1),
      ),
    ).toBeLessThanOrEqual(500);
    stop = true;
    ac.abort();
    await loop;
  });

  it('a kick (a Nova notification) polls min_poll_gap after the last poll instead of waiting out the backed-off interval', async () => {
    const n = nova();
    const times: number[] = [];
    const t0 = Date.now();
    const t = new EvacuationTracker({ compute: pollTimes(n, t0, times), log: silentLogger(), cadence });
    t.track('a', 'compute-1', Date.now());
    let stop = false;
    const loop = (async () => {
      while (!stop) await t.observe('a', ac.signal).catch(() => (stop = true));
    })();
    await vi.advanceTimersByTimeAsync(5_000); // backed off to 2 s by now
    const count = times.length;
    while (times.length === count) await vi.advanceTimersByTimeAsync(10); // just after a poll
    const last = times.at(-1)!;
    t.kick();
    await vi.advanceTimersByTimeAsync(200);
    expect(times.at(-1)).toBe(last + 100);
    expect(times.at(-2)).toBe(last);
    // Kicks in a burst never make polls closer than the gap.
    for (let i = 0; i < 20; i++) {
      t.kick();
      await vi.advanceTimersByTimeAsync(10);
    }
    const recent = times.filter((x) => x > last);
    for (let i = 1; i < recent.length; i++) expect(recent[i]! - recent[i - 1]!).toBeGreaterThanOrEqual(100);
    stop = true;
    ac.abort();
    await loop;
  });
});

describe('kicked polls', () => {
  it('a kick lists the servers alone; the migrations are listed at most fast_poll_interval apart however often kicks come', async () => {
    const n = nova();
    const t = new EvacuationTracker({ compute: port(n), log: silentLogger(), cadence });
    t.track('a', 'compute-1', Date.now());
    n.servers.set('a', server('a', 'compute-1', 'REBUILD', 'rebuilding', Date.now()));
    const watcher = keepObserving(t, 'a');
    await vi.advanceTimersByTimeAsync(5_000); // backed off to poll_interval by now
    n.calls.length = 0;
    // A burst of notifications, one every 50 ms for 2 s: polls come min_poll_gap (100 ms) apart.
    for (let i = 0; i < 40; i++) {
      t.kick();
      await vi.advanceTimersByTimeAsync(50);
    }
    const serverCalls = n.calls.filter((c) => c.startsWith('servers')).length;
    const migrationCalls = n.calls.filter((c) => c === 'migrations').length;
    expect(serverCalls).toBeGreaterThanOrEqual(18);
    // Full polls at most one per 250 ms of the 2 s (the first kicked one full: the last was long ago).
    expect(migrationCalls).toBeGreaterThanOrEqual(1);
    expect(migrationCalls).toBeLessThanOrEqual(Math.ceil(2_000 / cadence.fastMs) + 1);
    expect(t.counters.serverOnlyPolls).toBeGreaterThan(0);
    await watcher.stop();
  });

  it('a server ACTIVE elsewhere in a servers-only poll is shown so, beside the migration last listed', async () => {
    const n = nova();
    const t = new EvacuationTracker({ compute: port(n), log: silentLogger(), cadence });
    t.track('a', 'compute-1', Date.now());
    n.servers.set('a', server('a', 'compute-1', 'REBUILD', 'rebuilding', Date.now()));
    n.migrations.push(migration(1, 'a', 'pre-migrating', Date.now()));
    const first = t.observe('a', ac.signal);
    await vi.advanceTimersByTimeAsync(10);
    await first; // a full poll: the migration is moving
    n.servers.set('a', server('a', 'compute-2', 'ACTIVE', null, Date.now()));
    n.calls.length = 0;
    const next = t.observe('a', ac.signal);
    t.kick();
    await vi.advanceTimersByTimeAsync(cadence.minGapMs);
    const seen = await next;
    expect(n.calls.filter((c) => c === 'migrations')).toEqual([]);
    expect(seen.server).toMatchObject({ host: 'compute-2', status: 'ACTIVE', taskState: null });
    expect(seen.migrations).toEqual([{ id: 1, status: 'pre-migrating', phase: 'moving' }]);
  });

  it('a kick about one or two servers reads them one by one (no listing); about more, or naming none, it lists', async () => {
    const n = nova();
    const t = new EvacuationTracker({ compute: port(n), log: silentLogger(), cadence });
    for (const id of ['a', 'b', 'c']) {
      t.track(id, 'compute-1', Date.now());
      n.servers.set(id, server(id, 'compute-1', 'REBUILD', 'rebuilding', Date.now()));
    }
    const watchers = ['a', 'b', 'c'].map((id) => keepObserving(t, id));
    await vi.advanceTimersByTimeAsync(5_000); // backed off to poll_interval, migrations listed long ago
    await vi.advanceTimersByTimeAsync(cadence.fastMs); // so the next kicked poll is servers-only...
    const kickedPoll = async (kicks: Array<string | undefined>, change = (): void => {}): Promise<string[]> => {
      // ...once the last full poll is fastMs behind: a quiet moment right after a poll.
      const before = t.counters.polls;
      while (t.counters.polls === before) await vi.advanceTimersByTimeAsync(10);
      change();
      n.calls.length = 0;
      for (const k of kicks) t.kick(k);
      await vi.advanceTimersByTimeAsync(cadence.minGapMs);
      return n.calls.filter((c) => c !== 'migrations').map((c) => (c.startsWith('servers since') ? 'servers' : c));
    };
    // `a` rebuilt on another host: the read of `a` alone shows it.
    let next: Promise<{ server?: unknown }> | undefined;
    const calls = await kickedPoll(['a'], () => {
      n.servers.set('a', server('a', 'compute-2', 'ACTIVE', null, Date.now()));
      next = t.observe('a', ac.signal);
    });
    expect(calls).toEqual(['server a']);
    expect((await next!).server).toMatchObject({ host: 'compute-2', status: 'ACTIVE' });
    expect(await kickedPoll(['b', 'c'])).toEqual(['server b', 'server c']);
    expect(await kickedPoll(['a', 'b', 'c'])).toEqual(['servers']);
    expect(await kickedPoll(['a', undefined])).toEqual(['servers']);
    expect(t.counters.kickedReads).toBe(3);
    for (const w of watchers) await w.stop();
  });

  /**
   * Server `a` shown on `host` with no task and its evacuation migration moving; once polls have backed
   * off, one kick: the polls' times after the one before it (ms), over the next 1.9 s.
   */
  async function pollsAfterAKick(host: string): Promise<number[]> {
    const n = nova();
    const times: number[] = [];
    const t = new EvacuationTracker({
      compute: pollTimes(n, Date.now(), times),
      log: silentLogger(),
      cadence: { ...cadence, fastMs: 2_000 },
    });
    t.track('a', 'compute-1', Date.now());
    n.servers.set('a', server('a', host, 'ACTIVE', null, Date.now()));
    n.migrations.push(migration(1, 'a', 'pre-migrating', Date.now()));
    const watcher = keepObserving(t, 'a');
    await vi.advanceTimersByTimeAsync(5_000);
    const count = times.length;
    while (times.length === count) await vi.advanceTimersByTimeAsync(10); // just after a poll
    const last = times.at(-1)!;
    t.kick();
    await vi.advanceTimersByTimeAsync(1_900);
    await watcher.stop();
    return times.filter((x) => x > last).map((x) => x - last);
  }

  it('a kicked poll that finds a server rebuilt but not yet moved (Nova moves the host after rebuild.end) polls again a gap later, eight times at most', async () => {
    // Still on its source host: between rebuild.end and finish_evacuation (which waits for the
    // destination's resource lock). The kick's poll, then eight follow-ups one gap apart, then
    // nothing until the slow cadence.
    expect(await pollsAfterAKick('compute-1')).toEqual([100, 200, 300, 400, 500, 600, 700, 800, 900]);
  });

  it('no follow-up once the server is shown on its new host', async () => {
    expect(await pollsAfterAKick('compute-2')).toEqual([100]);
  });
});

describe('while Nova’s notifications flow', () => {
  it('polls no kick asks for come at poll_interval, a kick still brings one at the gap, and without notifications for 30 s the fast cadence is back', async () => {
    const n = nova();
    const times: number[] = [];
    const t0 = Date.now();
    const t = new EvacuationTracker({ compute: pollTimes(n, t0, times), log: silentLogger(), cadence });
    t.track('a', 'compute-1', Date.now());
    let version = 0;
    // The server changes at every poll: the cadence would stay fast without notifications.
    const churn = setInterval(() => n.servers.set('a', server('a', 'compute-1', 'REBUILD', `t${++version}`, Date.now())), 10);
    const watcher = keepObserving(t, 'a');
    const gapsOver = (fromMs: number, toMs: number): number[] => {
      const w = times.filter((x) => x >= fromMs && x < toMs);
      return w.slice(1).map((x, i) => x - w[i]!);
    };
    await vi.advanceTimersByTimeAsync(2_000);
    expect(Math.max(...gapsOver(500, 2_000))).toBe(cadence.fastMs);
    t.heard(); // e.g. instance.evacuate for a tracked server
    t.hurry(); // an evacuate accepted
    await vi.advanceTimersByTimeAsync(6_000);
    expect(new Set(gapsOver(2_500, 8_000))).toEqual(new Set([cadence.slowMs]));
    const count = times.length;
    while (times.length === count) await vi.advanceTimersByTimeAsync(10); // just after a poll
    const last = times.at(-1)!;
    t.kick();
    await vi.advanceTimersByTimeAsync(cadence.minGapMs);
    expect(times.at(-1)).toBe(last + cadence.minGapMs);
    // 30 s after the last notification the polls no kick asks for are fast again.
    await vi.advanceTimersByTimeAsync(30_000);
    const end = Date.now() - t0;
    expect(Math.max(...gapsOver(end - 1_500, end))).toBe(cadence.fastMs);
    clearInterval(churn);
    await watcher.stop();
  });
});

describe('when a listing is not enough', () => {
  it('a server no listing shows (its last change before the window) is read directly after three polls', async () => {
    const n = nova();
    const t = new EvacuationTracker({ compute: port(n), log: silentLogger(), cadence });
    t.track('old', 'compute-1', Date.now());
    n.servers.set('old', server('old', 'compute-2', 'ACTIVE', null, Date.now() - 3_600_000));
    let seen;
    for (let i = 0; i < 4 && !seen?.server; i++) {
      const p = t.observe('old', ac.signal);
      await vi.advanceTimersByTimeAsync(2_100);
      seen = await p;
    }
    expect(n.calls).toContain('server old');
    expect(seen!.server).toMatchObject({ host: 'compute-2', status: 'ACTIVE' });
  });

  it('a server mid-task with only an earlier failed migration in view is shown unread until its migrations are read directly', async () => {
    const n = nova();
    const t = new EvacuationTracker({ compute: port(n), log: silentLogger(), cadence });
    t.track('a', 'compute-1', Date.now());
    n.servers.set('a', server('a', 'compute-1', 'REBUILD', 'rebuilding', Date.now()));
    n.migrations.push(migration(1, 'a', 'error', Date.now()));
    // The new evacuation's record, still `accepted`, has never been updated: changes-since misses it.
    const fresh = migration(2, 'a', 'accepted', null);
    const p = t.observe('a', ac.signal);
    n.migrations.push(fresh);
    await vi.advanceTimersByTimeAsync(300);
    const seen = await p;
    expect(n.calls).toContain('migrations of a');
    expect(seen.migrations.map((m) => [m.id, m.phase])).toEqual([
      [1, 'failed'],
      [2, 'moving'],
    ]);
  });

  it('a failed poll rejects every waiter (nothing is made up), and the next poll answers', async () => {
    const n = nova();
    let fail = true;
    const p = port(n);
    const t = new EvacuationTracker({
      compute: {
        ...p,
        listChangedServers: async (s, g) => (fail ? Promise.reject(new Error('nova-api 503')) : p.listChangedServers(s, g)),
      } as TrackerCompute,
      log: silentLogger(),
      cadence,
    });
    t.track('a', 'compute-1', Date.now());
    n.servers.set('a', server('a', 'compute-2', 'ACTIVE', null, Date.now()));
    const first = t.observe('a', ac.signal);
    const rejected = expect(first).rejects.toThrow('nova-api 503');
    await vi.advanceTimersByTimeAsync(300);
    await rejected;
    fail = false;
    const second = t.observe('a', ac.signal);
    await vi.advanceTimersByTimeAsync(2_100);
    expect((await second).server).toMatchObject({ status: 'ACTIVE', host: 'compute-2' });
  });
});
