import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClusterEvent } from '../../src/core/events.js';
import { silentLogger } from '../../src/log.js';
import { EventJournal, historyAlarms } from '../../src/status-api/event-journal.js';
import { readHistory } from '../../src/status-api/history-file.js';

const ev = (host: string): ClusterEvent => ({ type: 'host.suspect', at: 1, host, silentMs: 1000 });
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The history file refusing writes (here: a directory where the file should be, EISDIR). */
function brokenHistory(pendingMax?: number) {
  const dir = mkdtempSync(join(tmpdir(), 'iha-history-'));
  dirs.push(dir);
  const j = new EventJournal({ monitorId: 'm1', stateDir: dir, log: silentLogger(), ...(pendingMax ? { pendingMax } : {}) });
  j.publish(ev('before'));
  rmSync(join(dir, 'history.jsonl'));
  mkdirSync(join(dir, 'history.jsonl'));
  return { dir, j, repair: () => rmSync(join(dir, 'history.jsonl'), { recursive: true }) };
}

describe('the history file when the disk refuses writes', () => {
  it('raises history_write_failed, keeps the events in memory, and writes them in order once it can', async () => {
    const { dir, j, repair } = brokenHistory();
    j.publish(ev('a'));
    j.publish(ev('b'));
    const [alarm] = historyAlarms(j);
    expect(alarm?.kind).toBe('history_write_failed');
    expect(alarm?.message).toMatch(/history\.jsonl \(\d+ tries\): .*EISDIR.*; 2 event\(s\) kept in memory, retrying every 1s$/);
    expect(j.since(0).map((e) => e.event.type)).toHaveLength(3); // live readers still see them
    repair();
    await expect.poll(() => historyAlarms(j), { timeout: 5000 }).toEqual([]);
    j.publish(ev('c'));
    expect(readHistory(dir).map((e) => (e.event as { host: string }).host)).toEqual(['a', 'b', 'c']);
    j.close();
  });

  it('bounds the backlog and says how many events the file lost', () => {
    const { j } = brokenHistory(3);
    for (let i = 0; i < 5; i++) j.publish(ev(`h${i}`));
    expect(j.writeFailure()).toMatchObject({ pending: 3, lost: 2 });
    expect(historyAlarms(j)[0]!.message).toContain('2 event(s) LOST from the file (more than 3 waiting)');
    j.close();
  });
});
