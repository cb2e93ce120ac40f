import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GuestWatch, type GuestReport } from '../../src/guest/guest-watch.js';
import { GuestReporter } from '../../src/daemon/guest-reporter.js';
import { decodeGuestBody } from '../../src/wire/guest-format.js';
import { createLogger } from '../../src/log.js';
import type { Clock } from '../../src/daemon/clock.js';

/**
 * The beacon's libvirt watch against a stand-in virsh (a real child process; the real libvirt is in
 * test/integration/guest-crash.test.ts): lines parsed and mapped with `domuuid`, virsh started again
 * after it exits, LC_ALL=C and a read-only connection asked for. And the reporter's rate and repeats.
 */
const log = createLogger({ level: 'silent' });
const dirs: string[] = [];
const watches: GuestWatch[] = [];
afterEach(() => {
  for (const w of watches.splice(0)) w.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function fakeVirsh(body: (dir: string) => string): { path: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'iha-fake-virsh-'));
  dirs.push(dir);
  const path = join(dir, 'virsh');
  writeFileSync(path, `#!/bin/sh\n${body(dir)}\n`);
  chmodSync(path, 0o755);
  return { path, dir };
}

const until = async (pred: () => boolean, ms = 5000): Promise<void> => {
  const end = Date.now() + ms;
  while (!pred() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
};

describe('GuestWatch', () => {
  it('reports a crash with its instance UUID, asking virsh read-only and untranslated', async () => {
    const { path, dir } = fakeVirsh(
      (d) => `echo "$LC_ALL $*" >> '${d}/args'
case " $* " in
  *" domuuid "*) echo 6F1C1D0E-1111-4222-8333-944455556666 ;;
  *" event "*)
    printf "2026-12-01 10:00:01.456+0000: event 'lifecycle' for domain 'instance-2a': "
    sleep 0.1; echo "Crashed Panicked"; echo "noise"; sleep 30 ;;
esac`,
    );
    const got: GuestReport[] = [];
    const w = new GuestWatch(
      { virsh: path, uri: 'qemu:///system', restartBaseMs: 50, restartMaxMs: 200, lookupTimeoutMs: 2000 },
      (r) => got.push(r),
      log,
    );
    watches.push(w);
    w.start();
    await until(() => got.length > 0);
    expect(got).toEqual([
      expect.objectContaining({
        instance: '6f1c1d0e-1111-4222-8333-944455556666',
        domain: 'instance-2a',
        detail: 'Crashed Panicked',
        down: true,
      }),
    ]);
    const args = readFileSync(join(dir, 'args'), 'utf8');
    expect(args).toContain('C -c qemu:///system -r event --all --loop --timestamp');
    expect(args).toContain('C -c qemu:///system -r domuuid -- instance-2a');
  });

  it('starts virsh again with backoff when it exits, and counts it', async () => {
    const { path } = fakeVirsh(() => 'echo "error: failed to connect to the hypervisor" >&2; exit 1');
    const states: boolean[] = [];
    const w = new GuestWatch(
      { virsh: path, uri: 'qemu:///system', restartBaseMs: 20, restartMaxMs: 40, lookupTimeoutMs: 1000 },
      () => {},
      log,
    );
    watches.push(w);
    w.start();
    await until(() => w.status.restarts >= 3);
    expect(w.status.restarts).toBeGreaterThanOrEqual(3);
    expect(w.status.lastExit).toMatch(/virsh exited \(code 1\): error: failed to connect to the hypervisor/);
  });

  it('a missing virsh is an exit like any other, never an exception', async () => {
    const w = new GuestWatch(
      { virsh: '/nonexistent/virsh', uri: 'qemu:///system', restartBaseMs: 20, restartMaxMs: 40, lookupTimeoutMs: 1000 },
      () => {},
      log,
    );
    watches.push(w);
    w.start();
    await until(() => w.status.restarts >= 2);
    expect(w.status.lastExit).toMatch(/ENOENT/);
  });
});

describe('GuestReporter', () => {
  let t = 0;
  const timers: Array<() => void> = [];
  const clock: Clock = {
    now: () => t,
    wallNow: () => 1_700_000_000_000 + t,
    every: (_ms, fn) => {
      timers.push(fn);
      return () => {};
    },
    after: () => () => {},
  };
  const report = (n: number): GuestReport => ({
    atMs: 1_700_000_000_000,
    domain: `d${n}`,
    event: 'lifecycle',
    detail: 'Crashed Panicked',
    action: '',
    down: true,
    instance: '6f1c1d0e-1111-4222-8333-944455556666',
  });

  it('sends each event `repeats` times with one seq, at most max_events_per_minute, and carries the dropped count', () => {
    const sent: Buffer[] = [];
    const r = new GuestReporter({
      host: 'cmp1',
      bootId: 'ab'.repeat(16),
      clock,
      send: (_k, b) => sent.push(b),
      maxEventsPerMinute: 3,
      repeats: 2,
      log,
    });
    r.start();
    for (let i = 0; i < 5; i++) r.report(report(i));
    expect(r.counters.dropped).toBe(2);
    for (const fn of timers) fn();
    for (const fn of timers) fn();
    const beats = sent.map((b) => decodeGuestBody(b)!);
    expect(beats.map((b) => b.seq)).toEqual([1, 2, 3, 1, 2, 3]);
    t += 60_000;
    r.report(report(9));
    const last = decodeGuestBody(sent[sent.length - 1]!)!;
    expect(last).toMatchObject({ seq: 4, dropped: 2, domain: 'd9', host: 'cmp1' });
  });

  it('tells the monitors when the libvirt watch stops, again every 10 s while it is down, and once when it is back', () => {
    const sent: Buffer[] = [];
    const r = new GuestReporter({
      host: 'cmp1',
      bootId: 'cd'.repeat(16),
      clock,
      send: (_k, b) => sent.push(b),
      maxEventsPerMinute: 3,
      repeats: 1,
      log,
    });
    timers.length = 0;
    r.start();
    r.watchState(false, 'virsh exited (code 1)');
    r.watchState(false, 'virsh exited (code 1)');
    expect(sent.map((b) => decodeGuestBody(b)!).map((g) => [g.event, g.down])).toEqual([['watch', true]]);
    t += 10_000;
    for (const fn of timers) fn();
    expect(sent).toHaveLength(2);
    r.watchState(true, 'virsh event running again');
    r.watchState(true, 'virsh event running again');
    expect(sent.map((b) => decodeGuestBody(b)!).map((g) => [g.event, g.down])).toEqual([
      ['watch', true],
      ['watch', true],
      ['watch', false],
    ]);
  });
});
