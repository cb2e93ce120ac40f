import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseStateFile } from '../../src/daemon/state-file.js';
import { HISTORY_FILE } from '../../src/status-api/event-journal.js';
import { readHistory, readHistoryAsync } from '../../src/status-api/history-file.js';
import { encodeDecision } from '../../src/wire/monitor-format.js';
import { toNotification } from '../../src/notify/envelope.js';
import { LEGACY_EVENT_TYPES, STATE_NAMES } from '../../src/core/vocabulary.js';
import { HOST_STATES } from '../../src/status-api/host-query.js';

/**
 * The one vocabulary (docs/vocabulary.md) renamed states and history events. What a previous
 * version wrote must still be read the same: its state file, its history, its heartbeats, and the
 * bus's event types must not change under consumers.
 */
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const SERVER = { id: 's1', name: 'vm-1', projectId: 'p', userId: 'u', tags: [], host: 'cmp1' };

describe('reading what the previous version wrote', () => {
  it("a state file's decision 'recovered' is read as 'evacuated' (the upgrade keeps the decision)", () => {
    const old = JSON.stringify({
      format: 1,
      knownHosts: ['cmp1'],
      maintenance: [],
      decisions: [{ host: 'cmp1', state: 'recovered', bootId: 'b1', sinceMs: 5, fenceAttempts: 1 }],
      epoch: 3,
    });
    const s = parseStateFile('/var/lib/instance-ha/monitor-state.json', old);
    expect(s.decisions[0]!.state).toBe('evacuated');
    // A name that never existed is still refused, naming the field.
    expect(() => parseStateFile('f', old.replace('"recovered"', '"recoverd"'))).toThrow(/decisions\[0\]\.state' is "recoverd"/);
  });

  it('history lines of the previous version read with the new event names (sync and streamed readers)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iha-vocab-'));
    dirs.push(dir);
    const line = (seq: number, event: object) => JSON.stringify({ seq, time: `2026-11-21T03:00:0${seq}Z`, monitor: 'mon1', event });
    const lines = [
      line(1, { type: 'host.recovery_started', at: 1, host: 'cmp1' }),
      line(2, { type: 'instance.not_recovered', at: 2, host: 'cmp1', server: SERVER, reason: 'not tagged', fence: null }),
      line(3, { type: 'host.recovery_finished', at: 3, host: 'cmp1', summary: { selected: 1, evacuated: 1, failed: 0, notified: 1 } }),
      line(4, { type: 'host.recovered', at: 4, host: 'cmp1', bootId: 'b2', previous: 'recovered' }),
      line(5, { type: 'host.fenced', at: 5, host: 'cmp2', record: { ok: true, durationMs: 1, attempts: [], by: 'mon1' } }),
    ];
    writeFileSync(join(dir, HISTORY_FILE), lines.join('\n') + '\n');
    const want = ['host.recovery_start', 'instance.not_selected', 'host.recovery_end', 'host.rejoined', 'host.fenced'];
    for (const entries of [readHistory(dir), await readHistoryAsync(dir)]) {
      expect(entries.map((e) => e.event.type)).toEqual(want);
      const back = entries[3]!.event;
      expect(back.type === 'host.rejoined' && back.previous).toBe('evacuated');
      // Everything else about the entry is kept.
      expect(entries[3]).toMatchObject({ seq: 4, monitor: 'mon1', event: { host: 'cmp1', bootId: 'b2' } });
    }
    expect(readHistory(dir, { host: 'cmp2' }).map((e) => e.seq)).toEqual([5]);
  });

  it("an 'evacuated' decision travels as the byte the previous version sent for 'recovered' (5): peers of both versions agree", () => {
    const entry = encodeDecision({ host: 'cmp1', state: 'evacuated', bootId: 'b1', sinceMs: 1, fenceAttempts: 1 })!;
    // entry: kind u8 | length u16 | state u8 | …
    expect(entry[3]).toBe(5);
  });
});

describe('the bus keeps its event types', () => {
  it('renamed history events publish under the same oslo event types as before', () => {
    const deps = { monitorHost: 'mon1', newId: () => '00000000-0000-4000-8000-000000000000', now: () => 0 };
    const types = (e: Parameters<typeof toNotification>[0]) => toNotification(e, deps)?.event_type;
    expect(types({ type: 'host.rejoined', at: 0, host: 'cmp1', bootId: 'b2', previous: 'evacuated' })).toBe('instance_ha.host.recovered');
    expect(types({ type: 'host.recovery_start', at: 0, host: 'cmp1' })).toBe('instance_ha.host.recovery.start');
    expect(types({ type: 'host.recovery_end', at: 0, host: 'cmp1', summary: { selected: 0, evacuated: 0, failed: 0, notified: 0 } })).toBe(
      'instance_ha.host.recovery.end',
    );
    expect(types({ type: 'instance.not_selected', at: 0, host: 'cmp1', server: SERVER, reason: 'x', fence: null })).toBe(
      'instance_ha.instance.failed',
    );
    // Every old name has a new one, and none maps onto itself.
    for (const [old, now] of Object.entries(LEGACY_EVENT_TYPES)) expect(old).not.toBe(now);
  });
});

describe('every surface knows every state', () => {
  it('status --state, the status API filter and the summary line take each state (recovery_failed included)', () => {
    expect([...HOST_STATES].sort()).toEqual([...STATE_NAMES].sort());
  });
});
