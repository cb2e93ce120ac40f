import { chmodSync, mkdtempSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { CrashGuests, kvmUsable, libvirtProblem } from '../guest/crash-guest.js';

/**
 * Where the guest-crash demo's crash comes from. With libvirt and QEMU on the machine: a real guest
 * that panics (crash-guest.ts) with the victim's Nova server UUID as its domain UUID, watched by the
 * beacon's own `virsh event`. Without: a stand-in `virsh` script that answers `domuuid` and prints
 * the line libvirt would print, so the beacon, the datagram, the monitor and Nova are all the real
 * ones; only libvirt is simulated, and the demo says so.
 */
export interface GuestSource {
  /** For the beacon's `guest_watch.virsh`. */
  virsh: string;
  /** How the demo describes it. */
  what: string;
  crash(instance: string): void;
  cleanup(): void;
}

export function startGuestSource(dir: string): GuestSource {
  // INSTANCE_HA_DEMO_GUESTS=simulated: the stand-in even where libvirt runs (a quick demo, its test).
  const problem = process.env.INSTANCE_HA_DEMO_GUESTS === 'simulated' ? 'asked for by INSTANCE_HA_DEMO_GUESTS=simulated' : libvirtProblem();
  return problem === null ? realSource() : simulatedSource(dir, problem);
}

function realSource(): GuestSource {
  // QEMU runs as libvirt's own user: the kernel and initramfs go where it can read them.
  const guestDir = mkdtempSync('/tmp/iha-guest-');
  chmodSync(guestDir, 0o755);
  const guests = new CrashGuests(guestDir);
  if (kvmUsable()) guests.accel = 'kvm';
  return {
    virsh: 'virsh',
    what: 'a real QEMU guest under libvirt (Debian kernel, pvpanic, no disk), watched by the beacon through virsh event',
    crash(instance) {
      guests.start(guests.define(`iha-test-demo-${instance.slice(0, 8)}`, instance));
    },
    cleanup() {
      guests.cleanup();
      rmSync(guestDir, { recursive: true, force: true });
    },
  };
}

function simulatedSource(dir: string, problem: string): GuestSource {
  const uuidFile = join(dir, 'sim-virsh.uuid');
  const crashFile = join(dir, 'sim-virsh.crash');
  const script = join(dir, 'sim-virsh');
  writeFileSync(uuidFile, '');
  // `virsh -c URI -r domuuid -- NAME` prints the UUID; `virsh ... event --loop` prints what the demo drops in.
  writeFileSync(
    script,
    `#!/bin/sh
# Stand-in for virsh (the demo found no libvirt): the beacon runs it exactly as it runs virsh.
case " $* " in
  *" domuuid "*) cat '${uuidFile}'; exit 0 ;;
  *" event "*) while :; do [ -f '${crashFile}' ] && cat '${crashFile}' && rm -f '${crashFile}'; sleep 0.1; done ;;
esac
exit 1
`,
  );
  chmodSync(script, 0o755);
  return {
    virsh: script,
    what: `a SIMULATED libvirt event source (${problem}): the beacon's virsh is a stand-in script printing libvirt's line`,
    crash(instance) {
      writeFileSync(uuidFile, `${instance}\n`);
      const t = new Date().toISOString().replace('T', ' ').replace('Z', '+0000');
      const tmp = `${crashFile}.tmp`;
      writeFileSync(tmp, `${t}: event 'lifecycle' for domain 'instance-${instance.slice(0, 8)}': Crashed Panicked\n`);
      renameSync(tmp, crashFile);
    },
    cleanup() {},
  };
}
