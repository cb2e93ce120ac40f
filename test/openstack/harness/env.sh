# shellcheck shell=bash
# Settings and small helpers shared by the real-cloud harness scripts (sourced, not run).
# Everything listens on 127.0.0.1; all state lives under $IHA_CLOUD_DIR.

# Debian's OpenStack commands are /usr/bin/python3 scripts: keep any other python (pyenv) off the PATH.
export PATH=/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin
export LC_ALL=C.UTF-8

HARNESS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CLOUD_DIR=${IHA_CLOUD_DIR:-/var/lib/instance-ha-cloud}
COMPUTES=${IHA_CLOUD_COMPUTES:-3}
SERVERS_PER_HOST=${IHA_CLOUD_SERVERS_PER_HOST:-2}
RABBIT_URL=${IHA_CLOUD_RABBIT_URL:-rabbit://guest:guest@127.0.0.1:5672/}
# versioned: Nova emits its versioned notifications on RabbitMQ (nova exchange); off: none at all.
NOTIFICATIONS=${IHA_CLOUD_NOTIFICATIONS:-versioned}
[[ $NOTIFICATIONS == versioned || $NOTIFICATIONS == off ]] || { echo "IHA_CLOUD_NOTIFICATIONS must be versioned or off, got '$NOTIFICATIONS'" >&2; exit 2; }
# Passwords of a throwaway loopback cloud; the generated clouds.yaml is mode 0600 all the same.
ADMIN_PASSWORD=${IHA_CLOUD_ADMIN_PASSWORD:-iha-admin}
SERVICE_PASSWORD=${IHA_CLOUD_SERVICE_PASSWORD:-iha-service}
REGION=RegionOne
ADDR=127.0.0.1

ETC=$CLOUD_DIR/etc
LOGS=$CLOUD_DIR/log
PIDS=$CLOUD_DIR/pids
DB_URL="mysql+pymysql://iha_cloud:$SERVICE_PASSWORD@$ADDR:3306"
KEYSTONE=http://$ADDR:5000/v3

say() { printf '[cloud %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
fail() {
  say "FAILED: $*" >&2
  exit 1
}

listening() { (exec 3<>"/dev/tcp/$ADDR/$1") 2>/dev/null; }

# running NAME: the process recorded for NAME is alive.
running() { [[ -s $PIDS/$1 ]] && kill -0 "$(cat "$PIDS/$1")" 2>/dev/null; }

# launch NAME CMD...: start CMD in a session of its own (so its pid is its process group, and a
# stop reaches its workers) unless NAME already runs; output goes to $LOGS/NAME.out.
launch() {
  local name=$1
  shift
  if running "$name"; then return 0; fi
  mkdir -p "$PIDS" "$LOGS"
  # Descriptors 3-9 are closed for the daemon: run under `flock /tmp/iha-cloud.lock up.sh`, it would
  # otherwise inherit the lock's descriptor and hold the machine's cloud lock for as long as it runs.
  setsid "$@" >>"$LOGS/$name.out" 2>&1 </dev/null 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
  echo $! >"$PIDS/$name"
}

# halt NAME...: SIGTERM each recorded process group, SIGKILL what is left after 20 s.
halt() {
  local name pid
  local -a left=()
  for name in "$@"; do
    [[ -s $PIDS/$name ]] || continue
    pid=$(cat "$PIDS/$name")
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    left+=("$pid")
    rm -f "$PIDS/$name"
  done
  for _ in $(seq 1 40); do
    local alive=0
    for pid in "${left[@]}"; do kill -0 -- "-$pid" 2>/dev/null && alive=1; done
    ((alive)) || return 0
    sleep 0.5
  done
  for pid in "${left[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
}

# await_http URL SECONDS WHAT: any HTTP answer counts.
await_http() {
  for _ in $(seq 1 $(($2 * 4))); do
    curl -s -o /dev/null -m 3 "$1" && return 0
    sleep 0.25
  done
  fail "$3 did not answer on $1 within $2 s (logs: $LOGS)"
}

nova_conf_args() { echo --config-file "$ETC/nova/nova.conf" --config-file "$ETC/nova/db.conf"; }

start_compute() {
  local i=$1
  mkdir -p "$CLOUD_DIR/compute-$i/instances" "$CLOUD_DIR/compute-$i/lock"
  launch "nova-compute-$i" /usr/bin/nova-compute --config-file "$ETC/nova/nova.conf" \
    --config-file "$ETC/nova/compute-$i.conf" --log-file "$LOGS/nova-compute-$i.log"
}

admin() {
  OS_CLIENT_CONFIG_FILE=$CLOUD_DIR/clouds.yaml IHA_CLOUD_SERVICE_PASSWORD=$SERVICE_PASSWORD node "$HARNESS/admin.mjs" "$@"
}

# synced NAME PACKAGE: the database schema of NAME was already synced by this package version
# (a stamp up.sh leaves), so a restart skips the slow `*-manage db sync` it does not need.
synced() { [[ -f $CLOUD_DIR/synced-$1 && $(cat "$CLOUD_DIR/synced-$1") == "$(dpkg-query -W -f='${Version}' "$2")" ]]; }
mark_synced() { dpkg-query -W -f='${Version}' "$2" >"$CLOUD_DIR/synced-$1"; }
