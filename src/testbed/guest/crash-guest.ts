import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync, copyFileSync, symlinkSync, chmodSync, accessSync, constants } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomUUID } from 'node:crypto';

/**
 * A real QEMU guest under a real libvirt that crashes on purpose, with no disk image: Debian's
 * kernel (linux-image-amd64, /boot/vmlinuz-*) boots a tiny initramfs whose /init loads the pvpanic
 * driver and exits; PID 1 exiting is a kernel panic, which the pvpanic device (`<panic model='isa'/>`)
 * reports to QEMU, and libvirt emits lifecycle `Crashed Panicked` (then, with on_crash=destroy,
 * `Stopped Crashed`). The initramfs is made from the host's own dash and kmod (their libraries
 * copied by `ldd`) and the kernel's pvpanic modules. Domains are named `iha-test-*` and persistent
 * (defined), as Nova's are, so `virsh domuuid` answers after the crash too.
 */

export const TEST_DOMAIN_PREFIX = 'iha-test-';
export const LIBVIRT_URI = 'qemu:///system';

export interface GuestKernel {
  kernel: string;
  initrd: string;
}

function virsh(args: string[], timeout = 30_000): string {
  return execFileSync('virsh', ['-c', LIBVIRT_URI, ...args], {
    encoding: 'utf8',
    timeout,
    env: { ...process.env, LC_ALL: 'C' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Why libvirt + QEMU + a kernel cannot run a crashing guest here, or null when they can (starts the daemons if root). */
export function libvirtProblem(): string | null {
  const missing = ['virsh', 'qemu-system-x86_64', 'cpio', 'ldd'].filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
  if (missing.length > 0) return `${missing.join(', ')} not installed (apt-get install libvirt-daemon-system qemu-system-x86 cpio)`;
  if (!newestKernel()) return 'no kernel in /boot (apt-get install linux-image-amd64)';
  if (spawnSync('virsh', ['-c', LIBVIRT_URI, 'version'], { timeout: 10_000 }).status === 0) return null;
  // No systemd as PID 1 on a test machine: start the daemons directly (what setup.sh does too).
  if (process.getuid?.() === 0) {
    for (const d of ['virtlogd', 'libvirtd']) spawnSync(d, ['-d'], { timeout: 10_000 });
    for (let i = 0; i < 50; i++) {
      if (spawnSync('virsh', ['-c', LIBVIRT_URI, 'version'], { timeout: 10_000 }).status === 0) return null;
      spawnSync('sleep', ['0.2']);
    }
  }
  return `libvirt does not answer at ${LIBVIRT_URI} (start it: libvirtd -d, virtlogd -d)`;
}

function newestKernel(): { kernel: string; version: string } | null {
  if (!existsSync('/boot')) return null;
  const k = readdirSync('/boot')
    .filter((f) => /^vmlinuz-.+/.test(f))
    .sort()
    .pop();
  if (!k) return null;
  const version = k.slice('vmlinuz-'.length);
  return existsSync(join('/lib/modules', version)) ? { kernel: join('/boot', k), version } : null;
}

/** Builds (once per directory) the initramfs whose /init loads pvpanic and exits: a panic a second after boot. */
export function buildCrashKernel(dir: string): GuestKernel {
  const k = newestKernel();
  if (!k) throw new Error('no kernel in /boot with its modules in /lib/modules (apt-get install linux-image-amd64)');
  const initrd = join(dir, 'iha-crash-initrd.img');
  if (existsSync(initrd)) return { kernel: k.kernel, initrd };
  const root = join(dir, 'iha-crash-root');
  mkdirSync(join(root, 'iha'), { recursive: true });
  for (const d of ['proc', 'dev', 'sys']) mkdirSync(join(root, d), { recursive: true });
  const mods = join('/lib/modules', k.version, 'kernel/drivers/misc/pvpanic');
  for (const m of ['pvpanic.ko', 'pvpanic-mmio.ko']) copyFileSync(join(mods, m), join(root, 'iha', m));
  for (const bin of ['/usr/bin/dash', '/usr/bin/kmod']) {
    const libs = execFileSync('ldd', [bin], { encoding: 'utf8' }).match(/\/[^ )\n]+/g) ?? [];
    for (const f of [bin, ...libs]) {
      mkdirSync(join(root, dirname(f)), { recursive: true });
      copyFileSync(f, join(root, f));
    }
  }
  // kmod acts by the name it is called by.
  if (!existsSync(join(root, 'usr/bin/insmod'))) symlinkSync('kmod', join(root, 'usr/bin/insmod'));
  writeFileSync(join(root, 'init'), '#!/usr/bin/dash\n/usr/bin/insmod /iha/pvpanic.ko\n/usr/bin/insmod /iha/pvpanic-mmio.ko\nexit 1\n');
  chmodSync(join(root, 'init'), 0o755);
  execFileSync('sh', ['-c', `cd '${root}' && find . | cpio -o -H newc --quiet | gzip -1 > '${initrd}'`]);
  chmodSync(dir, 0o755);
  return { kernel: k.kernel, initrd };
}

export interface CrashDomain {
  name: string;
  uuid: string;
}

export function domainXml(d: CrashDomain, k: GuestKernel, accel: 'kvm' | 'qemu'): string {
  return `<domain type='${accel}'>
  <name>${d.name}</name>
  <uuid>${d.uuid}</uuid>
  <memory unit='MiB'>192</memory>
  <vcpu>1</vcpu>${accel === 'kvm' ? "\n  <cpu mode='host-model'/>" : ''}
  <os><type arch='x86_64' machine='pc'>hvm</type><kernel>${k.kernel}</kernel><initrd>${k.initrd}</initrd>
    <cmdline>console=ttyS0 rdinit=/init panic=0 quiet</cmdline></os>
  <features><acpi/></features>
  <on_crash>destroy</on_crash>
  <devices><panic model='isa'/><serial type='null'/></devices>
</domain>
`;
}

/**
 * Crashing test guests: defined with a UUID (Nova's instance UUID in real life), started to crash,
 * started again; all `iha-test-*` domains of this run removed by cleanup().
 */
export class CrashGuests {
  /** Each defined domain and the accelerator it was defined with. */
  private readonly defined = new Map<string, 'kvm' | 'qemu'>();
  accel: 'kvm' | 'qemu' = 'qemu';

  constructor(
    private readonly dir: string,
    readonly kernel: GuestKernel = buildCrashKernel(dir),
  ) {}

  /** Defines a persistent domain; tries KVM first when /dev/kvm is usable (TCG otherwise, or if KVM fails to start). */
  define(name: string, uuid: string = randomUUID()): CrashDomain {
    if (!name.startsWith(TEST_DOMAIN_PREFIX)) throw new Error(`test domains are named ${TEST_DOMAIN_PREFIX}*: ${name}`);
    const d = { name, uuid };
    const file = join(this.dir, `${name}.xml`);
    writeFileSync(file, domainXml(d, this.kernel, this.accel));
    virsh(['define', file]);
    this.defined.set(name, this.accel);
    return d;
  }

  /** Starts it: the guest panics about a second (KVM) to several seconds (TCG) later. */
  start(d: CrashDomain): void {
    if (this.defined.get(d.name) !== this.accel) this.redefine(d);
    try {
      virsh(['start', d.name]);
    } catch (err) {
      if (this.accel !== 'kvm') throw err;
      // KVM that cannot run this guest (nested, missing MSRs): the same guest on TCG, from now on.
      this.accel = 'qemu';
      this.redefine(d);
      virsh(['start', d.name]);
    }
  }

  private redefine(d: CrashDomain): void {
    const file = join(this.dir, `${d.name}.xml`);
    writeFileSync(file, domainXml(d, this.kernel, this.accel));
    virsh(['define', file]);
    this.defined.set(d.name, this.accel);
  }

  state(d: CrashDomain): string {
    return virsh(['domstate', d.name]).trim();
  }

  cleanup(): void {
    for (const name of this.defined.keys()) {
      spawnSync('virsh', ['-c', LIBVIRT_URI, 'destroy', name], { stdio: 'ignore', timeout: 30_000 });
      spawnSync('virsh', ['-c', LIBVIRT_URI, 'undefine', name], { stdio: 'ignore', timeout: 30_000 });
    }
    this.defined.clear();
  }
}

/** Whether /dev/kvm can be opened (KVM is then tried first; CrashGuests falls back to TCG by itself). */
export function kvmUsable(): boolean {
  kvmVerdict ??= probeKvm();
  return kvmVerdict;
}

let kvmVerdict: boolean | undefined;

/**
 * /dev/kvm being there is not enough: under some nested hypervisors it opens, QEMU starts, and the
 * guest never runs an instruction (no console output, no crash, forever). So boot the kernel once
 * under KVM without an initramfs: it prints its banner at once and panics on the missing root fs,
 * and with -no-reboot QEMU exits (about 2 s). No banner within 10 s: KVM does not work here, TCG it is.
 */
function probeKvm(): boolean {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return false;
  }
  const k = newestKernel();
  if (!k) return false;
  const r = spawnSync(
    'qemu-system-x86_64',
    [
      '-accel',
      'kvm',
      '-m',
      '192',
      '-nodefaults',
      '-display',
      'none',
      '-no-reboot',
      '-kernel',
      k.kernel,
      '-append',
      'console=ttyS0 panic=-1',
      '-serial',
      'stdio',
    ],
    { timeout: 10_000, killSignal: 'SIGKILL', encoding: 'latin1', maxBuffer: 16 * 1024 * 1024 },
  );
  return typeof r.stdout === 'string' && r.stdout.includes('Linux version');
}

/** Follows `virsh event` for the test's own check of what libvirt said (the beacon runs its own). */
export function followEvents(onLine: (line: string) => void): ChildProcess {
  const c = spawn('virsh', ['-c', LIBVIRT_URI, '-r', 'event', '--all', '--loop', '--timestamp'], {
    env: { ...process.env, LC_ALL: 'C' },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let buf = '';
  c.stdout!.setEncoding('utf8');
  c.stdout!.on('data', (s: string) => {
    buf += s;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      onLine(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
  });
  return c;
}
