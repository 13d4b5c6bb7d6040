#!/usr/bin/env bash
# Runs a command (the test suite) beside the services its tests need, and stops them after:
#   - a redis-server on a free port (TEST_REDIS_URL), the shared cache of the tests;
#   - when DATABASE_URL is PostgreSQL, a streaming replica of that cluster made with
#     pg_basebackup and started on a free port (TEST_DATABASE_REPLICA_URL).
# Each is throwaway (a temporary directory, removed at exit). Without redis-server, or without
# PostgreSQL, the tests that need them are skipped and say why; everything else runs.
# As root (CI), the replica runs as the "postgres" user: PostgreSQL refuses to run as root.
set -euo pipefail

if [ "$#" -eq 0 ]; then
  echo "usage: $0 COMMAND [ARG...]" >&2
  exit 2
fi

redis_dir=""
replica_dir=""
redis_pid=""
pg_bin=""

as_server_user() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cleanup() {
  if [ -n "$redis_pid" ]; then kill "$redis_pid" 2>/dev/null || true; wait "$redis_pid" 2>/dev/null || true; fi
  if [ -n "$replica_dir" ] && [ -f "$replica_dir/postmaster.pid" ]; then
    as_server_user "$pg_bin/pg_ctl" -D "$replica_dir" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  [ -n "$redis_dir" ] && rm -rf "$redis_dir"
  [ -n "$replica_dir" ] && rm -rf "$replica_dir"
  return 0
}
trap cleanup EXIT INT TERM

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# --- Redis -------------------------------------------------------------------------------
if command -v redis-server >/dev/null; then
  redis_dir=$(mktemp -d /tmp/custorder-redis.XXXXXX)
  redis_port=$(free_port)
  redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no \
    --dir "$redis_dir" --logfile "$redis_dir/redis.log" --databases 64 &
  redis_pid=$!
  for _ in $(seq 1 50); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$redis_port") 2>/dev/null; then break; fi
    sleep 0.1
  done
  export TEST_REDIS_URL="redis://127.0.0.1:$redis_port"
  echo "test services: redis-server on 127.0.0.1:$redis_port"
else
  echo "test services: redis-server is not installed; tests that need Redis are skipped" \
    "(apt-get install redis-server)"
fi

# --- a streaming replica of the PostgreSQL cluster -----------------------------------------
if [[ "${DATABASE_URL:-}" == postgres* ]]; then
  # user, password, host, port of DATABASE_URL, one per line.
  mapfile -t pg < <(python3 - <<'EOF'
import os
from urllib.parse import unquote, urlsplit

url = urlsplit(os.environ["DATABASE_URL"])
print(unquote(url.username or ""))
print(unquote(url.password or ""))
print(url.hostname or "127.0.0.1")
print(url.port or 5432)
EOF
  )
  export PGUSER="${pg[0]}" PGPASSWORD="${pg[1]}" PGHOST="${pg[2]}" PGPORT="${pg[3]}"
  major=$(psql -d postgres -tAc "SELECT current_setting('server_version_num')::int / 10000")
  pg_bin="/usr/lib/postgresql/$major/bin"
  [ -x "$pg_bin/pg_ctl" ] || pg_bin=$(pg_config --bindir)
  replica_dir=$(mktemp -d /tmp/custorder-replica.XXXXXX)
  [ "$(id -u)" -eq 0 ] && chown postgres "$replica_dir"
  replica_port=$(free_port)
  # A hot standby needs these at least as large as on its primary.
  settings=$(psql -d postgres -tA -F ' = ' -c "SELECT name, setting FROM pg_settings WHERE name IN
    ('max_connections', 'max_worker_processes', 'max_wal_senders', 'max_prepared_transactions',
     'max_locks_per_transaction')")
  if as_server_user env PGPASSWORD="$PGPASSWORD" "$pg_bin/pg_basebackup" \
      -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -D "$replica_dir" -X stream -R -c fast --no-sync \
      >"$replica_dir.log" 2>&1; then
    as_server_user tee -a "$replica_dir/postgresql.conf" >/dev/null <<EOF
port = $replica_port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$replica_dir'
hot_standby = on
hot_standby_feedback = on
fsync = off
$settings
EOF
    if [ ! -f "$replica_dir/pg_hba.conf" ]; then
      printf 'local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n' \
        | as_server_user tee "$replica_dir/pg_hba.conf" >/dev/null
      as_server_user touch "$replica_dir/pg_ident.conf"
    fi
    if as_server_user "$pg_bin/pg_ctl" -D "$replica_dir" -l "$replica_dir/server.log" -w start >/dev/null; then
      export TEST_DATABASE_REPLICA_URL="postgres://${pg[0]}:${pg[1]}@127.0.0.1:$replica_port/"
      echo "test services: streaming replica of $PGHOST:$PGPORT on 127.0.0.1:$replica_port"
    else
      echo "test services: the replica did not start; replica tests are skipped" >&2
      tail -5 "$replica_dir/server.log" >&2 || true
    fi
  else
    echo "test services: pg_basebackup failed; replica tests are skipped" >&2
    tail -5 "$replica_dir.log" >&2 || true
  fi
  rm -f "$replica_dir.log"
  unset PGUSER PGPASSWORD PGHOST PGPORT
fi

"$@"
