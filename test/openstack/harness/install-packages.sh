#!/usr/bin/env bash
# Installs Debian's own OpenStack Zed packages the harness runs (only what is missing).
# Maintainer scripts start no service and configure nothing (debconf answers, policy-rc.d).
set -euo pipefail
source "$(dirname "$0")/env.sh"
packages=(keystone glance-api placement-api nova-api nova-conductor nova-scheduler nova-compute
  nova-compute-ironic uwsgi-plugin-python3 python3-pymysql mariadb-server mariadb-client curl memcached)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
((${#missing[@]})) || exit 0
[[ $(id -u) -eq 0 ]] || fail "installing ${missing[*]} needs root (apt-get)"
say "installing ${missing[*]}"
started=$(date +%s)
mkdir -p "$LOGS"
# No init system runs here, and none of these may start on install: policy-rc.d says no.
added_policy=0
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
  added_policy=1
fi
trap '((added_policy)) && rm -f /usr/sbin/policy-rc.d' EXIT
debconf-set-selections "$HARNESS/debconf-answers.txt"
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 update -qq
# nova-compute needs one hypervisor package to install; the ironic one pulls no libvirt or QEMU.
# The harness runs compute_driver = fake.FakeDriver whatever is installed.
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confold "${missing[@]}" \
  >"$LOGS/apt-install.log" 2>&1 || {
  dpkg --configure -a >>"$LOGS/apt-install.log" 2>&1 || fail "apt-get install failed (see $LOGS/apt-install.log)"
}
say "packages installed in $(($(date +%s) - started)) s"
