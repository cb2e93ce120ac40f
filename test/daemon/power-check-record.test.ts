import { describe, expect, it } from 'vitest';
import { POWER_CHECK_ALARM_MS, PowerCheckRecord } from '../../src/daemon/power-check-record.js';

const unread = (detail = 'bmc=failed (timed out)') => ({ off: false, read: false, detail });

describe('PowerCheckRecord', () => {
  it('counts each result and keeps the alarm on the latest unread host until it is read, cleared or an hour old', () => {
    const r = new PowerCheckRecord();
    r.note('h1', unread(), 0, 0);
    r.note('h2', { off: true, read: true, detail: 'bmc=off' }, 10, 10);
    r.note('h3', { off: false, read: true, detail: 'bmc=on' }, 20, 20);
    expect(r.snapshot()).toEqual({ off: 1, on: 1, unread: 1 });
    expect(r.alarms(30)[0]!.message).toMatch(/silent host h1: bmc=failed \(timed out\);/);
    // Another host read fine: the alarm about h1 stands; h1 read: it is over.
    expect(r.alarms(30)).toHaveLength(1);
    r.note('h1', { off: false, read: true, detail: 'bmc=on' }, 40, 40);
    expect(r.alarms(50)).toEqual([]);
    r.note('h4', unread(), 100, 100);
    expect(r.alarms(100 + POWER_CHECK_ALARM_MS - 1)).toHaveLength(1);
    expect(r.alarms(100 + POWER_CHECK_ALARM_MS)).toEqual([]);
    // A forgotten (decommissioned) or fenced host's alarm ends with it.
    r.note('h5', unread(), 200, 200);
    r.clear('h5');
    expect(r.alarms(300)).toEqual([]);
  });

  it('bounds what it keeps of the readings', () => {
    const r = new PowerCheckRecord();
    r.note('h1', unread(`bmc=failed: ${'x'.repeat(100_000)}`), 0, 0);
    expect(r.alarms(1)[0]!.message.length).toBeLessThan(1_000);
  });
});
