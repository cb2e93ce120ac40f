import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import '../helpers/fuzz-seed.js';
import { LineSplitter, MAX_DETAIL_CHARS, parseVirshEventLine } from '../../src/guest/virsh-events.js';

const at = '2026-12-01 10:00:01.456+0000';
const line = (event: string, body: string, domain = 'instance-0000002a'): string =>
  `${at}: event '${event}' for domain '${domain}': ${body}`;

describe('virsh event lines (LC_ALL=C virsh -r event --all --loop --timestamp)', () => {
  it('a panicked guest is a failure that stayed down, at libvirt’s own time', () => {
    const f = parseVirshEventLine(line('lifecycle', 'Crashed Panicked'));
    expect(f).toEqual({
      atMs: Date.UTC(2026, 11, 1, 10, 0, 1, 456),
      domain: 'instance-0000002a',
      event: 'lifecycle',
      detail: 'Crashed Panicked',
      action: '',
      down: true,
    });
  });

  it('reads the timestamp’s offset', () => {
    const f = parseVirshEventLine("2026-12-01 12:00:01.456+0200: event 'lifecycle' for domain 'd': Crashed Panicked");
    expect(f?.atMs).toBe(Date.UTC(2026, 11, 1, 10, 0, 1, 456));
  });

  it.each([
    ['lifecycle', 'Stopped Failed', true, ''],
    ['lifecycle', 'Suspended Watchdog', true, ''],
    ['lifecycle', 'Suspended IOError', true, ''],
    ['lifecycle', 'Crashed Crashloaded', true, ''],
    ['watchdog', 'reset', false, 'reset'],
    ['watchdog', 'none', false, 'none'],
    ['watchdog', 'poweroff', true, 'poweroff'],
    ['watchdog', 'pause', true, 'pause'],
    ['io-error', '/var/lib/nova/instances/x/disk (virtio-disk0) pause', true, 'pause'],
    ['io-error', '/var/lib/nova/instances/x/disk (virtio-disk0) report', false, 'report'],
    ['io-error-reason', '/dev/sda (ide0-0-0) pause due to enospc', true, 'pause'],
    ['agent-lifecycle', "state: 'disconnected' reason: 'channel event'", false, ''],
  ])('%s %s is a failure (down=%s, action %s)', (event, body, down, action) => {
    const f = parseVirshEventLine(line(event, body));
    expect(f).not.toBeNull();
    expect(f!.down).toBe(down);
    expect(f!.action).toBe(action);
    expect(f!.event).toBe(event);
  });

  it.each([
    line('lifecycle', 'Started Booted'),
    line('lifecycle', 'Resumed Unpaused'),
    line('lifecycle', 'Stopped Shutdown'),
    line('lifecycle', 'Stopped Destroyed'),
    // on_crash=destroy: follows the Crashed already reported.
    line('lifecycle', 'Stopped Crashed'),
    line('reboot', ''),
    line('agent-lifecycle', "state: 'connected' reason: 'channel event'"),
    line('device-removed', 'net0'),
    'event loop started',
    '',
    "2026-12-01 10:00:01.456+0000: event 'lifecycle' for domain '': Crashed Panicked",
  ])('ignores a line that is not a guest failure: %j', (l) => {
    expect(parseVirshEventLine(l)).toBeNull();
  });

  it('bounds what it carries', () => {
    const f = parseVirshEventLine(line('io-error', `${'x'.repeat(500)} (virtio-disk0) pause`));
    expect(f!.detail.length).toBe(MAX_DETAIL_CHARS);
    expect(f!.action).toBe('pause');
  });

  it('never throws, and anything it accepts is bounded and well typed (fuzz)', () => {
    const known = fc.constantFrom('lifecycle', 'watchdog', 'io-error', 'io-error-reason', 'agent-lifecycle', 'reboot', 'x');
    const lines = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.tuple(known, fc.string({ maxLength: 200 }), fc.string({ maxLength: 200 })).map(([e, d, b]) => line(e, b, d)),
    );
    fc.assert(
      fc.property(lines, (l) => {
        const f = parseVirshEventLine(l);
        if (f === null) return;
        expect(Number.isFinite(f.atMs)).toBe(true);
        expect(f.domain.length).toBeGreaterThan(0);
        expect(f.domain.length).toBeLessThanOrEqual(128);
        expect(f.detail.length).toBeLessThanOrEqual(MAX_DETAIL_CHARS);
        expect(f.action.length).toBeLessThanOrEqual(16);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('LineSplitter', () => {
  it('joins a line that arrives in two writes (virsh prints prefix and body apart)', () => {
    const s = new LineSplitter();
    expect(s.push(`${at}: event 'lifecycle' for domain 'd': `)).toEqual([]);
    expect(s.push('Crashed Panicked\nnext')).toEqual([`${at}: event 'lifecycle' for domain 'd': Crashed Panicked`]);
    expect(s.push('\n')).toEqual(['next']);
  });

  it('drops an over-long line whole and carries on', () => {
    const s = new LineSplitter();
    expect(s.push('y'.repeat(5000))).toEqual([]);
    expect(s.push('more\nok\n')).toEqual(['ok']);
  });

  it('gives every line of any chunking back unchanged (fuzz)', () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[^\n]{0,50}$/), { maxLength: 20 }), fc.array(fc.nat(60), { maxLength: 10 }), (ls, cuts) => {
        const text = ls.map((l) => l + '\n').join('');
        const s = new LineSplitter();
        const out: string[] = [];
        let from = 0;
        for (const c of cuts) {
          const to = Math.min(text.length, from + c);
          out.push(...s.push(text.slice(from, to)));
          from = to;
        }
        out.push(...s.push(text.slice(from)));
        expect(out).toEqual(ls);
      }),
      { numRuns: 500 },
    );
  });
});
