#!/usr/bin/env bash
# power.sh off|on HOST: a compute host's power as Nova sees it. "off" is the power loss (SIGKILL of
# that host's nova-compute, no goodbye to Nova); "on" boots it again. Used as a fence device's
# power hook and by tests.
set -euo pipefail
source "$(dirname "$0")/env.sh"
action=${1:-}
host=${2:-}
[[ $host =~ ^compute-([0-9]+)$ ]] || fail "usage: power.sh off|on compute-<i>"
i=${BASH_REMATCH[1]}
case $action in
  off)
    if running "nova-compute-$i"; then
      kill -KILL -- "-$(cat "$PIDS/nova-compute-$i")" 2>/dev/null || true
    fi
    rm -f "$PIDS/nova-compute-$i"
    ;;
  on) start_compute "$i" ;;
  *) fail "usage: power.sh off|on compute-<i>" ;;
esac
