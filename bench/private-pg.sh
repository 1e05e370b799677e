#!/usr/bin/env bash
# A private PostgreSQL 15 cluster for the benchmarks, configured as a production server of this size
# would be (the shared server on 5432 keeps Debian's defaults: shared_buffers 128MB), never the
# shared one. Usage:
#   bench/private-pg.sh start [port] [shared_buffers]   # prints the BENCH_DATABASE_URL to use
#   bench/private-pg.sh stop [port]
# The cluster lives in a fresh directory made by mktemp (its path kept in /tmp/itp-bench-pg-<port>.dir)
# and is deleted by `stop`. Trust authentication on 127.0.0.1: for a benchmark machine with no other
# users, never for a shared one.
set -euo pipefail
cmd="${1:-}"
port="${2:-55432}"
buffers="${3:-4GB}"
bin=/usr/lib/postgresql/15/bin
pointer="/tmp/itp-bench-pg-$port.dir"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case "$cmd" in
  start)
    [ -x "$bin/initdb" ] || { echo "PostgreSQL 15 is missing: apt-get install -y postgresql-15" >&2; exit 1; }
    [ -e "$pointer" ] && { echo "a cluster on port $port is already recorded in $pointer: stop it first" >&2; exit 1; }
    dir="$(mktemp -d /tmp/itp-bench-pg.XXXXXX)"
    echo "$dir" > "$pointer"
    if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; fi
    as_pg "$bin/initdb" -D "$dir/data" -A trust -U postgres --no-sync >/dev/null
    as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w start -o \
      "-p $port -k $dir -c listen_addresses=127.0.0.1 -c shared_buffers=$buffers -c effective_cache_size=16GB \
       -c max_connections=200 -c max_wal_size=8GB -c checkpoint_timeout=30min -c autovacuum=off" >/dev/null
    echo "BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    dir="$(cat "$pointer")"
    as_pg "$bin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null || true
    rm -rf "$dir" "$pointer"
    ;;
  *) echo "usage: $0 start [port] [shared_buffers] | stop [port]" >&2; exit 2 ;;
esac
