#!/usr/bin/env bash
# Builds instance-ha_<version>_all.deb with Debian's own dpkg-deb: compiled JS, its production
# dependencies bundled (the install needs no network), agents, systemd units, examples, docs and
# man pages. Usage: packaging/build-deb.sh [--no-build] [--out DIR] (default DIR: dist/deb).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

out=dist/deb
build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=0 ;;
    --out) out=$2; shift ;;
    *) echo "build-deb.sh: unknown option '$1' (usage: build-deb.sh [--no-build] [--out DIR])" >&2; exit 64 ;;
  esac
  shift
done
command -v dpkg-deb >/dev/null || { echo "build-deb.sh: dpkg-deb not installed (apt-get install dpkg-dev, or run ./setup.sh)" >&2; exit 1; }

version=$(node -p 'require("./package.json").version')
# Reproducible: every timestamp is the last commit's (dpkg-deb and gzip -n honour it).
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
[ "$build" = 1 ] && npm run build --silent

stage=$(mktemp -d "${TMPDIR:-/tmp}/iha-deb.XXXXXX")
trap 'rm -rf "$stage"' EXIT
root=$stage/root
lib=$root/usr/lib/instance-ha
doc=$root/usr/share/doc/instance-ha
mkdir -p "$lib" "$doc/examples" "$root/usr/bin" "$root/usr/sbin" "$root/lib/systemd/system" "$root/etc/default" \
  "$root/usr/share/man/man1" "$root/usr/share/man/man8" "$root/usr/share/instance-ha/prometheus" "$root/usr/share/instance-ha/grafana"

# Production dependencies, exactly as locked, from the npm cache when it has them. A minimal
# package.json: "type": "module" is what the compiled ESM needs at run time.
node -e '
  const p = require("./package.json");
  const min = { name: p.name, version: p.version, description: p.description, license: p.license, type: p.type,
    engines: p.engines, dependencies: p.dependencies, devDependencies: p.devDependencies };
  require("fs").writeFileSync(process.argv[1], JSON.stringify(min, null, 2) + "\n");
' "$lib/package.json"
cp package-lock.json "$lib/"
(cd "$lib" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error)
node -e '
  const f = process.argv[1], p = JSON.parse(require("fs").readFileSync(f, "utf8"));
  delete p.devDependencies;
  require("fs").writeFileSync(f, JSON.stringify(p, null, 2) + "\n");
' "$lib/package.json"
rm -rf "$lib/package-lock.json" "$lib/node_modules/.bin" "$lib/node_modules/.package-lock.json"
# Dependencies' own docs, type declarations, source maps and tests are not needed to run them.
find "$lib/node_modules" \( -name '*.md' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' \
  -o -name '*.ts' -o -name '.npmignore' -o -name '.eslintrc*' -o -name '.editorconfig' -o -name '.travis.yml' \) -type f -delete
find "$lib/node_modules" \( -name '*.html' -o -name '*.sh' -o -name '.git*' \) -type f -delete
find "$lib/node_modules" -depth -type d \( -name test -o -name tests -o -name benchmarks -o -name .github -o -name .husky \
  -o -name examples -o -name docs \) -exec rm -rf {} +
find "$lib/node_modules" -depth -type d -empty -delete

# Compiled JS: the product, plus the demo's simulators (instance-ha demo is a user feature);
# not the simulation's world, virtual time or in-memory network, which are tests' only.
mkdir -p "$lib/dist"
cp -r dist/src dist/agents "$lib/dist/"
rm -rf "$lib/dist/src/testbed/sim" "$lib/dist/src/testbed/net" "$lib/dist/src/testbed/clock"
find "$lib/dist" -name '*.map' -type f -delete
# Launchers: fence_ipmi and fence_redfish_native are also on PATH (below); fence_fake, a test agent, stays here only, where
# the demo's configurations find it, off every PATH of a production controller.
mkdir -p "$lib/agents"
cp agents/fence_ipmi agents/fence_redfish_native agents/fence_fake "$lib/agents/"
cp -r dashboard "$lib/"
# The demo's ipmi_sim BMCs run this chassis-control script, looked up beside the sources' layout.
install -D -m 0755 src/testbed/bmc/ipmi-sim-chassis-control.sh "$lib/src/testbed/bmc/ipmi-sim-chassis-control.sh"

# Commands on PATH: Debian's node, never whatever `env` finds first. fence_* agents in /usr/sbin,
# where Debian's fence-agents puts fence_ipmilan.
printf '#!/bin/sh\nexec /usr/bin/node /usr/lib/instance-ha/dist/src/cli/main.js "$@"\n' >"$root/usr/bin/instance-ha"
for agent in fence_ipmi fence_redfish_native; do
  printf '#!/bin/sh\nexec /usr/bin/node /usr/lib/instance-ha/dist/agents/%s.js "$@"\n' "$agent" >"$root/usr/sbin/$agent"
done

cp systemd/instance-ha-monitor.service systemd/instance-ha-beacon.service "$root/lib/systemd/system/"
cp packaging/debian/default-instance-ha-monitor "$root/etc/default/instance-ha-monitor"
cp packaging/debian/default-instance-ha-beacon "$root/etc/default/instance-ha-beacon"
cp packaging/prometheus/instance-ha.rules.yml "$root/usr/share/instance-ha/prometheus/"
cp packaging/grafana/instance-ha.json "$root/usr/share/instance-ha/grafana/"

# Docs (Debian policy 12.3: compressed past 4 kB; the examples stay plain to be copied).
cp README.md docs/*.md "$doc/"
cp examples/* "$doc/examples/"
find "$doc" -maxdepth 1 -name '*.md' -size +4k -exec gzip -9n {} +
node packaging/debian/copyright.mjs "$lib/node_modules" >"$doc/copyright"
{
  printf 'instance-ha (%s) unstable; urgency=medium\n\n' "$version"
  printf '  * Release %s: see README.md and docs/ in /usr/share/doc/instance-ha.\n\n' "$version"
  printf ' -- instance-ha maintainers <maintainers@instance-ha.invalid>  %s\n' "$(date -u -R -d "@$SOURCE_DATE_EPOCH")"
} | gzip -9n >"$doc/changelog.gz"
gzip -9n <packaging/man/instance-ha.1 >"$root/usr/share/man/man1/instance-ha.1.gz"
gzip -9n <packaging/man/fence_ipmi.8 >"$root/usr/share/man/man8/fence_ipmi.8.gz"
gzip -9n <packaging/man/fence_redfish_native.8 >"$root/usr/share/man/man8/fence_redfish_native.8.gz"
mkdir -p "$root/usr/share/lintian/overrides"
cp packaging/lintian-overrides "$root/usr/share/lintian/overrides/instance-ha"

# Modes: whatever the checkout's umask was, directories 0755 and files 0644, then the executables.
find "$root" -type d -exec chmod 0755 {} +
find "$root" -type f -exec chmod 0644 {} +
chmod 0755 "$root/usr/bin/instance-ha" "$root/usr/sbin/fence_ipmi" "$root/usr/sbin/fence_redfish_native" \
  "$lib/agents/fence_ipmi" "$lib/agents/fence_redfish_native" "$lib/agents/fence_fake" \
  "$lib/src/testbed/bmc/ipmi-sim-chassis-control.sh"
# A script (#! first) is executable, as its author meant (main.js, nova-sim, yaml's bin, …).
find "$lib" -type f -name '*.*js' -exec sh -c 'for f; do [ "$(head -c 2 "$f")" = "#!" ] && chmod 0755 "$f"; done; true' sh {} +

# Control area.
mkdir -p "$root/DEBIAN"
for s in postinst prerm postrm; do install -m 0755 "packaging/debian/$s" "$root/DEBIAN/$s"; done
install -m 0644 packaging/debian/conffiles "$root/DEBIAN/conffiles"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/md5sums"
installed_kb=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<CONTROL
Package: instance-ha
Version: $version
Architecture: all
Maintainer: instance-ha maintainers <maintainers@instance-ha.invalid>
Installed-Size: $installed_kb
Depends: nodejs (>= 20), adduser
Suggests: fence-agents, ipmitool, libvirt-clients
Section: admin
Priority: optional
Homepage: https://github.com/instance-ha/instance-ha
Description: high availability for OpenStack compute instances
 A small cluster of monitors (one per controller) receives authenticated
 heartbeats from a beacon on every compute host, agrees by quorum that a host
 is dead, fences it (verified power-off through its BMC or a ClusterLabs fence
 agent), forces its compute service down and evacuates its instances through
 the compute API, with notifications on the OpenStack bus.
 .
 This package installs the daemons and their systemd units, disabled: configure
 /etc/instance-ha first (see /usr/share/doc/instance-ha). Its JavaScript
 dependencies are bundled; installing it needs no network.
CONTROL

mkdir -p "$out"
deb="$out/instance-ha_${version}_all.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
