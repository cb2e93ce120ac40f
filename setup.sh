#!/usr/bin/env bash
# Installs everything instance-ha's demo and tests use on a Debian machine, then builds.
# Safe to run again: it only installs what is missing. Run as root (apt-get needs it; a bare Debian has no sudo).
set -euo pipefail
cd "$(dirname "$0")"

if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' 2>/dev/null || ! command -v npm >/dev/null; then
  echo "setup.sh: Node.js >= 20 with npm is needed (found: $(node --version 2>/dev/null || echo no node))." >&2
  echo "  Debian 13: apt-get install nodejs npm. Debian 12 ships Node.js 18: use NodeSource's APT repository (README, Quick start)." >&2
  exit 1
fi

packages=()
command -v ipmi_sim >/dev/null || packages+=(openipmi)
command -v ipmitool >/dev/null || packages+=(ipmitool)
command -v fence_ipmilan >/dev/null || packages+=(fence-agents)
command -v redfishtool >/dev/null || packages+=(redfishtool)   # proves the test Redfish BMC speaks Redfish
command -v rabbitmq-server >/dev/null || packages+=(rabbitmq-server)
command -v systemd-analyze >/dev/null || packages+=(systemd)
command -v ip >/dev/null || packages+=(iproute2)
command -v openssl >/dev/null || packages+=(openssl)
command -v chromium >/dev/null || packages+=(chromium)   # the dashboard's browser test
command -v python3 >/dev/null || packages+=(python3)
/usr/bin/python3 -c 'import oslo_messaging' 2>/dev/null || packages+=(python3-oslo.messaging)
command -v dpkg-deb >/dev/null || packages+=(dpkg-dev)          # npm run package:deb
command -v lintian >/dev/null || packages+=(lintian)
command -v promtool >/dev/null || packages+=(prometheus)        # promtool check/test rules (there is no separate promtool package)
# Guest-crash tests and bench:guest: a real libvirt and QEMU guest booting Debian's kernel (no disk image).
command -v libvirtd >/dev/null || packages+=(libvirt-daemon-system)
command -v virsh >/dev/null || packages+=(libvirt-clients)
command -v qemu-system-x86_64 >/dev/null || packages+=(qemu-system-x86)
command -v cpio >/dev/null || packages+=(cpio)
ls /boot/vmlinuz-* >/dev/null 2>&1 || packages+=(linux-image-amd64)
if [ ${#packages[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup.sh: missing ${packages[*]}; run as root to install them (apt-get)" >&2
    exit 1
  fi
  echo "setup.sh: installing ${packages[*]}"
  # Other installs may hold the dpkg lock: wait for it rather than fail.
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi

# RabbitMQ for notifications (loopback, guest/guest). Started if it is not answering.
if ! (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; then
  echo "setup.sh: starting RabbitMQ"
  rabbitmq-server -detached >/dev/null 2>&1 || true
  for _ in $(seq 1 60); do
    (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null && break
    sleep 1
  done
fi

# libvirt for the guest-crash tests. No systemd as PID 1 on a CI machine: the daemons are started directly.
if ! virsh -c qemu:///system version >/dev/null 2>&1; then
  echo "setup.sh: starting libvirtd"
  pgrep -x virtlogd >/dev/null || virtlogd -d || true
  pgrep -x libvirtd >/dev/null || libvirtd -d || true
  for _ in $(seq 1 30); do
    virsh -c qemu:///system version >/dev/null 2>&1 && break
    sleep 1
  done
fi

npm ci --no-audit --no-fund --loglevel=error
npm run build --silent
echo "setup.sh: ready"
