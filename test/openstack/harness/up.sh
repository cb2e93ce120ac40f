#!/usr/bin/env bash
# Brings up a small real OpenStack (Debian's Zed packages) on 127.0.0.1 for instance-ha's tests:
# Keystone, Placement, Glance, a network stand-in, Nova API/conductor/scheduler and
# $IHA_CLOUD_COMPUTES nova-compute processes (fake virt driver, host = compute-<i>), then a
# baseline of servers (see admin.mjs). Idempotent: what runs is kept, what is missing is made.
# Uses the MariaDB and RabbitMQ already on this machine (started if they are not answering).
set -euo pipefail
source "$(dirname "$0")/env.sh"
t0=$(date +%s)
mkdir -p "$CLOUD_DIR" "$ETC" "$LOGS" "$PIDS"

"$HARNESS/install-packages.sh"
t_packages=$(($(date +%s) - t0))

# --- MariaDB and RabbitMQ: the machine's own ---------------------------------------------------
if ! listening 3306; then
  say "starting MariaDB"
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
  for _ in $(seq 1 60); do listening 3306 && break; sleep 0.5; done
fi
for _ in $(seq 1 60); do mariadb -uroot -e 'select 1' >/dev/null 2>&1 && break; sleep 0.5; done
mariadb -uroot -e 'select 1' >/dev/null 2>&1 || fail "MariaDB on $ADDR:3306 does not take root on its socket"
databases=(keystone glance placement nova_api nova nova_cell0)
{
  for db in "${databases[@]}"; do echo "CREATE DATABASE IF NOT EXISTS iha_$db;"; done
  echo "CREATE USER IF NOT EXISTS 'iha_cloud'@'127.0.0.1' IDENTIFIED BY '$SERVICE_PASSWORD';"
  echo "ALTER USER 'iha_cloud'@'127.0.0.1' IDENTIFIED BY '$SERVICE_PASSWORD';"
  for db in "${databases[@]}"; do echo "GRANT ALL PRIVILEGES ON iha_$db.* TO 'iha_cloud'@'127.0.0.1';"; done
} | mariadb -uroot
# memcached for the services' token caches, as production deployments run them: without it each
# API worker validates every token it has not seen with Keystone itself (~0.1-0.2 s per worker).
launch memcached memcached -u memcache -l "$ADDR" -p 11211 -m 64
for _ in $(seq 1 40); do listening 11211 && break; sleep 0.25; done
listening 11211 || fail "memcached did not open $ADDR:11211 (log: $LOGS/memcached.out)"
if ! listening 5672; then
  say "starting RabbitMQ"
  rabbitmq-server -detached >/dev/null 2>&1 || true
  for _ in $(seq 1 120); do listening 5672 && break; sleep 0.5; done
  listening 5672 || fail "RabbitMQ did not open $ADDR:5672"
fi

# --- the WSGI services run under Debian's uwsgi ------------------------------------------------
uwsgi_ini() { # FILE PORT APP PROCESSES THREADS ENV...
  local file=$1 port=$2 app=$3 procs=$4 threads=$5
  shift 5
  {
    printf '[uwsgi]\nplugins = python3\nhttp-socket = %s:%s\nwsgi-file = %s\n' "$ADDR" "$port" "$app"
    printf 'master = true\nprocesses = %s\nthreads = %s\nenable-threads = true\nlazy-apps = true\n' "$procs" "$threads"
    # A worker stuck in one request this long is killed and replaced by the master (no request of
    # the suites takes a minute; nova-api's longest is an RPC call that times out at 60 s).
    printf 'harakiri = 150\n'
    printf 'die-on-term = true\nno-orphans = true\nbuffer-size = 65535\nchdir = %s\n' "$CLOUD_DIR"
    # A client's kept-alive connection to a uwsgi worker can stall the next request: close each.
    printf 'add-header = Connection: close\n'
    for e in "$@"; do printf 'env = %s\n' "$e"; done
  } >"$file"
}
authtoken() { # USER
  printf '[keystone_authtoken]\nwww_authenticate_uri = http://%s:5000\nauth_url = http://%s:5000\nauth_type = password\n' "$ADDR" "$ADDR"
  printf 'project_domain_name = Default\nuser_domain_name = Default\nproject_name = service\nusername = %s\npassword = %s\nregion_name = %s\n' \
    "$1" "$SERVICE_PASSWORD" "$REGION"
  printf 'memcached_servers = %s:11211\n' "$ADDR"
}
service_auth() { # SECTION USER
  printf '[%s]\nauth_type = password\nauth_url = http://%s:5000/v3\nproject_domain_name = Default\nuser_domain_name = Default\n' "$1" "$ADDR"
  printf 'project_name = service\nusername = %s\npassword = %s\nregion_name = %s\n' "$2" "$SERVICE_PASSWORD" "$REGION"
}

# --- Keystone ----------------------------------------------------------------------------------
mkdir -p "$ETC/keystone" "$CLOUD_DIR/keystone"
cat >"$ETC/keystone/keystone.conf" <<EOF
[DEFAULT]
log_file = $LOGS/keystone.log
[database]
connection = $DB_URL/iha_keystone
[token]
provider = fernet
[fernet_tokens]
key_repository = $CLOUD_DIR/keystone/fernet-keys
[credential]
key_repository = $CLOUD_DIR/keystone/credential-keys
EOF
if ! running keystone; then
  manage=(keystone-manage --config-file "$ETC/keystone/keystone.conf")
  synced keystone keystone || {
    "${manage[@]}" db_sync
    [[ -e $CLOUD_DIR/keystone/fernet-keys/0 ]] || {
      "${manage[@]}" fernet_setup --keystone-user root --keystone-group root
      "${manage[@]}" credential_setup --keystone-user root --keystone-group root
    }
    "${manage[@]}" bootstrap --bootstrap-password "$ADMIN_PASSWORD" --bootstrap-username admin \
      --bootstrap-project-name admin --bootstrap-role-name admin --bootstrap-service-name keystone \
      --bootstrap-region-id "$REGION" --bootstrap-admin-url "$KEYSTONE/" --bootstrap-public-url "$KEYSTONE/" \
      --bootstrap-internal-url "$KEYSTONE/"
  } >>"$LOGS/keystone-manage.log" 2>&1 || fail "keystone-manage (see $LOGS/keystone-manage.log)"
  mark_synced keystone keystone
  uwsgi_ini "$ETC/keystone/uwsgi.ini" 5000 /usr/bin/keystone-wsgi-public 2 2 "OS_KEYSTONE_CONFIG_DIR=$ETC/keystone"
  launch keystone uwsgi_python3 --ini "$ETC/keystone/uwsgi.ini"
fi
await_http "$KEYSTONE" 60 Keystone

umask 077
cat >"$CLOUD_DIR/clouds.yaml" <<EOF
# The harness's admin credentials (written by up.sh). OS_CLIENT_CONFIG_FILE=<this file> OS_CLOUD=instance-ha-ci
clouds:
  instance-ha-ci:
    auth:
      auth_url: $KEYSTONE
      username: admin
      password: $ADMIN_PASSWORD
      project_name: admin
      user_domain_name: Default
      project_domain_name: Default
    region_name: $REGION
    interface: public
    identity_api_version: 3
EOF
umask 022
admin keystone

# --- Placement and Glance ----------------------------------------------------------------------
mkdir -p "$ETC/placement" "$ETC/glance" "$CLOUD_DIR/glance/images" "$CLOUD_DIR/glance/staging" "$CLOUD_DIR/glance/tasks"
{
  printf '[DEFAULT]\nlog_file = %s/placement.log\n[api]\nauth_strategy = keystone\n' "$LOGS"
  printf '[placement_database]\nconnection = %s/iha_placement\n' "$DB_URL"
  authtoken placement
} >"$ETC/placement/placement.conf"
if ! running placement; then
  synced placement placement-api || {
    placement-manage --config-file "$ETC/placement/placement.conf" db sync >>"$LOGS/placement-manage.log" 2>&1 ||
      fail "placement-manage (see $LOGS/placement-manage.log)"
    mark_synced placement placement-api
  }
  uwsgi_ini "$ETC/placement/uwsgi.ini" 8778 /usr/bin/placement-api 1 2 "OS_PLACEMENT_CONFIG_DIR=$ETC/placement"
  launch placement uwsgi_python3 --ini "$ETC/placement/uwsgi.ini"
fi
cp /etc/glance/glance-api-paste.ini "$ETC/glance/"
{
  printf '[DEFAULT]\nlog_file = %s/glance-api.log\nenabled_backends = fs:file\n[glance_store]\ndefault_backend = fs\n' "$LOGS"
  printf '[fs]\nfilesystem_store_datadir = %s/glance/images/\n' "$CLOUD_DIR"
  printf '[os_glance_staging_store]\nfilesystem_store_datadir = %s/glance/staging/\n' "$CLOUD_DIR"
  printf '[os_glance_tasks_store]\nfilesystem_store_datadir = %s/glance/tasks/\n' "$CLOUD_DIR"
  printf '[database]\nconnection = %s/iha_glance\n[paste_deploy]\nflavor = keystone\n' "$DB_URL"
  authtoken glance
} >"$ETC/glance/glance-api.conf"
if ! running glance; then
  synced glance glance-api || {
    glance-manage --config-file "$ETC/glance/glance-api.conf" db_sync >>"$LOGS/glance-manage.log" 2>&1 ||
      fail "glance-manage (see $LOGS/glance-manage.log)"
    mark_synced glance glance-api
  }
  uwsgi_ini "$ETC/glance/uwsgi.ini" 9292 /usr/bin/glance-wsgi-api 1 2 "OS_GLANCE_CONFIG_DIR=$ETC/glance"
  # Image uploads are chunked; uwsgi must hand the raw body to Glance.
  printf 'http-auto-chunked = true\nhttp-chunked-input = true\nhttp-raw-body = true\nwsgi-manage-chunked-input = true\n' >>"$ETC/glance/uwsgi.ini"
  launch glance uwsgi_python3 --ini "$ETC/glance/uwsgi.ini"
fi
launch network node "$HARNESS/network-stand-in.mjs" "$ADDR" 9696

# --- Nova --------------------------------------------------------------------------------------
mkdir -p "$ETC/nova" "$CLOUD_DIR/nova/lock"
cp /etc/nova/api-paste.ini "$ETC/nova/"
{
  printf '[DEFAULT]\ntransport_url = %s\nmy_ip = %s\nstate_path = %s/nova\nenabled_apis = osapi_compute\n' "$RABBIT_URL" "$ADDR" "$CLOUD_DIR"
  # Nova's own defaults, written out: the detector is measured against realistic service timing.
  printf 'report_interval = 10\nservice_down_time = 60\n'
  printf '[api]\nauth_strategy = keystone\n[wsgi]\napi_paste_config = %s/nova/api-paste.ini\n' "$ETC"
  printf '[oslo_concurrency]\nlock_path = %s/nova/lock\n[vnc]\nenabled = false\n' "$CLOUD_DIR"
  printf '[conductor]\nworkers = 1\n[scheduler]\nworkers = 1\n[cinder]\nos_region_name = %s\n' "$REGION"
  # Nova's own versioned notifications on the machine's RabbitMQ (IHA_CLOUD_NOTIFICATIONS=versioned,
  # the default), what instance-ha's recovery.nova_notifications listens to; `off` for a cloud that
  # emits none (tracking then polls alone). Nova notification reference:
  # https://docs.openstack.org/nova/latest/reference/notifications.html
  if [[ $NOTIFICATIONS == versioned ]]; then
    printf '[notifications]\nnotification_format = versioned\n'
    printf '[oslo_messaging_notifications]\ndriver = messagingv2\ntransport_url = %s\n' "$RABBIT_URL"
  else
    printf '[oslo_messaging_notifications]\ndriver = noop\n'
  fi
  authtoken nova
  service_auth placement placement
  service_auth neutron neutron
  service_auth service_user nova
  printf 'send_service_user_token = false\n'
} >"$ETC/nova/nova.conf.new"
# A changed nova.conf (e.g. IHA_CLOUD_NOTIFICATIONS switched) only takes effect in new processes:
# stop Nova's so the launches below start them with it.
if [[ -f $ETC/nova/nova.conf ]] && ! cmp -s "$ETC/nova/nova.conf" "$ETC/nova/nova.conf.new"; then
  say "nova.conf changed: restarting Nova's processes"
  computes=()
  for f in "$PIDS"/nova-compute-*; do [[ -e $f ]] && computes+=("$(basename "$f")"); done
  ((${#computes[@]} == 0)) || halt "${computes[@]}"
  halt nova-api nova-conductor nova-scheduler
fi
mv "$ETC/nova/nova.conf.new" "$ETC/nova/nova.conf"
if [[ $NOTIFICATIONS == versioned ]]; then
  # Nova's notifier declares versioned_notifications.<priority> queues that nobody consumes here
  # (instance-ha binds queues of its own): cap them so the shared broker never fills up.
  rabbitmqctl set_policy --apply-to queues iha-cloud-nova-notifications '^versioned_notifications\.' \
    '{"max-length":1000,"overflow":"drop-head"}' >/dev/null 2>&1 || say "could not cap the versioned_notifications queues (rabbitmqctl)"
fi
printf '[api_database]\nconnection = %s/iha_nova_api\n[database]\nconnection = %s/iha_nova\n' "$DB_URL" "$DB_URL" >"$ETC/nova/db.conf"
for i in $(seq 1 "$COMPUTES"); do
  cat >"$ETC/nova/compute-$i.conf" <<EOF
[DEFAULT]
host = compute-$i
compute_driver = fake.FakeDriver
state_path = $CLOUD_DIR/compute-$i
instances_path = $CLOUD_DIR/compute-$i/instances
[oslo_concurrency]
lock_path = $CLOUD_DIR/compute-$i/lock
EOF
done
# shellcheck disable=SC2046
nova_manage() { nova-manage $(nova_conf_args) "$@"; }
if ! running nova-conductor && ! synced nova nova-api; then
  {
    nova_manage api_db sync
    nova_manage cell_v2 map_cell0 --database_connection "$DB_URL/iha_nova_cell0"
    nova_manage cell_v2 list_cells | grep -q ' cell1 ' || nova_manage cell_v2 create_cell --name cell1
    nova_manage db sync
  } >>"$LOGS/nova-manage.log" 2>&1 || fail "nova-manage (see $LOGS/nova-manage.log)"
  mark_synced nova nova-api
fi
# shellcheck disable=SC2046
launch nova-conductor nova-conductor $(nova_conf_args) --log-file "$LOGS/nova-conductor.log"
# shellcheck disable=SC2046
launch nova-scheduler nova-scheduler $(nova_conf_args) --log-file "$LOGS/nova-scheduler.log"
# nova-api is an eventlet application: one thread per worker, as Debian's own nova-api-uwsgi.ini
# has it. With two, a worker once hung for good on "greenlet.error: cannot switch to a different
# thread". A nova-api still running from an older ini is restarted with this one.
uwsgi_ini "$ETC/nova/uwsgi.ini.new" 8774 /usr/bin/nova-api-wsgi 4 1 "OS_NOVA_CONFIG_DIR=$ETC/nova" \
  "OS_NOVA_CONFIG_FILES=api-paste.ini;nova.conf;db.conf"
if running nova-api && ! cmp -s "$ETC/nova/uwsgi.ini.new" "$ETC/nova/uwsgi.ini"; then
  say "nova-api runs with an older uwsgi.ini: restarting it"
  halt nova-api
fi
mv "$ETC/nova/uwsgi.ini.new" "$ETC/nova/uwsgi.ini"
if ! running nova-api; then launch nova-api uwsgi_python3 --ini "$ETC/nova/uwsgi.ini"; fi
for i in $(seq 1 "$COMPUTES"); do start_compute "$i"; done
await_http "http://$ADDR:8778/" 60 Placement
await_http "http://$ADDR:9292/" 60 Glance
await_http "http://$ADDR:9696/" 30 "the network stand-in"
await_http "http://$ADDR:8774/" 90 nova-api
admin reset-services # a host a test left forced down reads "down" however alive
admin wait-computes "$COMPUTES" 180
for try in 1 2 3 4 5 6 7 8 9 10; do
  nova_manage cell_v2 discover_hosts >>"$LOGS/nova-manage.log" 2>&1 || true
  admin wait-hypervisors "$COMPUTES" 5 2>/dev/null && break
  ((try < 10)) || fail "compute nodes not mapped into cell1 (see $LOGS/nova-manage.log)"
done
admin baseline "$COMPUTES" "$SERVERS_PER_HOST"
say "up in $(($(date +%s) - t0)) s (packages ${t_packages} s); OS_CLIENT_CONFIG_FILE=$CLOUD_DIR/clouds.yaml OS_CLOUD=instance-ha-ci"
