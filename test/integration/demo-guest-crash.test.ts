import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runDemo } from '../../src/testbed/demo/run-demo.js';

/**
 * `instance-ha demo --scenario guest-crash` with the simulated libvirt event source (what a machine
 * without libvirt gets; the real guest path is test/integration/guest-crash.test.ts): the real beacon
 * runs a stand-in virsh, and everything after it is real. The demo must say the source is simulated.
 */
describe('instance-ha demo --scenario guest-crash (simulated libvirt)', () => {
  it('notifies the crash, hard-reboots the tagged server through Nova once, never fences the host, and says libvirt was simulated', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'iha-demo-guest-'));
    const saved = { tmp: process.env.TMPDIR, guests: process.env.INSTANCE_HA_DEMO_GUESTS };
    process.env.TMPDIR = tmp;
    process.env.INSTANCE_HA_DEMO_GUESTS = 'simulated';
    try {
      const lines: string[] = [];
      const result = await runDemo({
        hosts: 3,
        servers: 2,
        scenario: 'guest-crash',
        keep: false,
        out: (l) => lines.push(...l.split('\n')),
      });
      expect(result.ok, lines.join('\n')).toBe(true);
      expect(lines.some((l) => /^guest events: a SIMULATED libvirt event source/.test(l))).toBe(true);
      const t = result.events.filter((e) => 'host' in e && e.host === 'compute-2').map((e) => e.type);
      expect(t).toContain('instance.guest_failed');
      expect(t).toContain('instance.guest_restarted');
      expect(t.filter((x) => ['host.failed', 'host.fencing', 'host.fenced'].includes(x))).toEqual([]);
      expect(lines.some((l) => /hard-rebooted 1 time\(s\)/.test(l))).toBe(true);
      expect(readdirSync(tmp)).toEqual([]);
    } finally {
      for (const [k, v] of [
        ['TMPDIR', saved.tmp],
        ['INSTANCE_HA_DEMO_GUESTS', saved.guests],
      ] as const)
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 120_000);
});
