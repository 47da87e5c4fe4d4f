#!/usr/bin/env bash
# Start or stop PostgreSQL 15 and Redis from Debian's packages on loopback, for
# tests and benchmarks (never for production: fsync is off).
#   bash scripts/services.sh start   -> prints DATABASE_URL (the owner: migrations, tests),
#                                       APP_DATABASE_URL (the application's role), REDIS_URL
#                                       and DATABASE_REPLICA_URL (a hot standby of the primary,
#                                       kept by streaming replication; REPLICA=0 skips it)
#   bash scripts/services.sh stop
set -euo pipefail
PG_PORT=${PG_PORT:-55432}
REDIS_PORT=${REDIS_PORT:-56379}
REPLICA_PORT=${REPLICA_PORT:-55433}
REPLICA=${REPLICA:-1}
DIR=${SERVICES_DIR:-/tmp/segmentation-services}
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)

install_packages() {
  if [ -z "$PGBIN" ] || ! command -v redis-server >/dev/null 2>&1; then
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql redis-server
    PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
}

start() {
  install_packages
  install -d -o postgres -g postgres "$DIR" "$DIR/sock"
  if [ ! -f "$DIR/data/PG_VERSION" ]; then
    runuser -u postgres -- "$PGBIN/initdb" -D "$DIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  if ! runuser -u postgres -- "$PGBIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
    runuser -u postgres -- "$PGBIN/pg_ctl" -D "$DIR/data" -l "$DIR/pg.log" -w -t 60 start \
      -o "-c listen_addresses=127.0.0.1 -c port=$PG_PORT -c unix_socket_directories=$DIR/sock -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 -c shared_buffers=1GB -c work_mem=64MB -c maintenance_work_mem=512MB -c max_slot_wal_keep_size=20GB" >/dev/null
  fi
  # Two roles (docs/governance.md, "Operations"): app_owner owns the database and
  # runs migrations (and the test suite, which creates its test database); app
  # is what the application logs in as: DML on the tables app_owner creates, but
  # on the audit table only SELECT and INSERT (audit migration 0003,
  # `manage.py grant_app_role`), and it owns nothing, so it can neither
  # TRUNCATE, ALTER nor DISABLE TRIGGER.
  pg() { psql -q -h 127.0.0.1 -p "$PG_PORT" -U postgres "$@"; }
  pg -tAc "SELECT 1 FROM pg_roles WHERE rolname='app_owner'" | grep -q 1 ||
    pg -c "CREATE ROLE app_owner LOGIN PASSWORD 'owner' CREATEDB"
  pg -tAc "SELECT 1 FROM pg_roles WHERE rolname='app'" | grep -q 1 ||
    pg -c "CREATE ROLE app LOGIN PASSWORD 'app'"
  pg -c "ALTER ROLE app NOSUPERUSER NOCREATEDB NOCREATEROLE"
  pg -tAc "SELECT 1 FROM pg_database WHERE datname='app'" | grep -q 1 ||
    pg -c "CREATE DATABASE app OWNER app_owner"
  pg -d app -c "ALTER DEFAULT PRIVILEGES FOR ROLE app_owner IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO app" \
    -c "ALTER DEFAULT PRIVILEGES FOR ROLE app_owner IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO app"
  if [ "$REPLICA" = 1 ]; then start_standby; fi
  if ! redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --daemonize yes --save '' --appendonly no \
      --pidfile "$DIR/redis.pid" --logfile "$DIR/redis.log" --dir "$DIR"
    for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
  fi
  echo "DATABASE_URL=postgres://app_owner:owner@127.0.0.1:$PG_PORT/app"
  echo "APP_DATABASE_URL=postgres://app:app@127.0.0.1:$PG_PORT/app"
  echo "REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0"
  if [ "$REPLICA" = 1 ]; then
    echo "DATABASE_REPLICA_URL=postgres://app:app@127.0.0.1:$REPLICA_PORT/app"
  fi
}

# A hot standby: a base backup of the primary with -R (standby.signal and the
# primary's address), started read-only on its own port; the primary streams
# its WAL to it (initdb's trust rules already admit replication on loopback).
# The standby streams through a replication slot, so the primary keeps every WAL
# segment the standby has not replayed yet: a bulk load that writes faster than
# the standby replays no longer leaves it behind for good ("requested WAL segment
# has already been removed"). max_slot_wal_keep_size caps what a stopped standby
# can hold back. A standby without its slot (made before slots, or lost) is
# rebuilt from a fresh base backup.
SLOT=segmentation_standby
start_standby() {
  pg() { psql -q -h 127.0.0.1 -p "$PG_PORT" -U postgres "$@"; }
  local has_slot
  has_slot=$(pg -tAc "SELECT 1 FROM pg_replication_slots WHERE slot_name='$SLOT'")
  if [ ! -f "$DIR/standby/PG_VERSION" ] || [ -z "$has_slot" ]; then
    runuser -u postgres -- "$PGBIN/pg_ctl" -D "$DIR/standby" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$DIR/standby"
    if [ -n "$has_slot" ]; then pg -c "SELECT pg_drop_replication_slot('$SLOT')" >/dev/null; fi
    runuser -u postgres -- "$PGBIN/pg_basebackup" -h 127.0.0.1 -p "$PG_PORT" -U postgres \
      -D "$DIR/standby" -R -X stream -C -S "$SLOT" -c fast >/dev/null
  fi
  if ! runuser -u postgres -- "$PGBIN/pg_ctl" -D "$DIR/standby" status >/dev/null 2>&1; then
    runuser -u postgres -- "$PGBIN/pg_ctl" -D "$DIR/standby" -l "$DIR/standby.log" -w -t 60 start \
      -o "-c listen_addresses=127.0.0.1 -c port=$REPLICA_PORT -c unix_socket_directories=$DIR/sock -c hot_standby=on -c max_connections=200 -c shared_buffers=256MB -c hot_standby_feedback=on" >/dev/null
  fi
}

stop() {
  redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
  if [ -n "$PGBIN" ] && [ -d "$DIR/standby" ]; then
    runuser -u postgres -- "$PGBIN/pg_ctl" -D "$DIR/standby" -m fast -w stop >/dev/null 2>&1 || true
  fi
  if [ -n "$PGBIN" ] && [ -d "$DIR/data" ]; then
    runuser -u postgres -- "$PGBIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
