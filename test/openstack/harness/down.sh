#!/usr/bin/env bash
# Stops every process up.sh started (computes first, then Nova, then the APIs). State is kept:
# the next up.sh starts again in well under a minute. `--purge` also deletes the state and databases.
set -euo pipefail
source "$(dirname "$0")/env.sh"
computes=()
for f in "$PIDS"/nova-compute-*; do [[ -e $f ]] && computes+=("$(basename "$f")"); done
((${#computes[@]} == 0)) || halt "${computes[@]}"
halt nova-api nova-conductor nova-scheduler
halt glance placement keystone network memcached
if [[ ${1:-} == --purge ]]; then
  for db in keystone glance placement nova_api nova nova_cell0; do echo "DROP DATABASE IF EXISTS iha_$db;"; done | mariadb -uroot
  rm -rf "$CLOUD_DIR"
  say "stopped and purged"
else
  say "stopped (state kept in $CLOUD_DIR)"
fi
