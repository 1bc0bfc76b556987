#!/usr/bin/env bash
# A throwaway PostgreSQL for the tests: its own data directory, loopback and a Unix socket.
#   scripts/pg.sh start DIR   -> prints the admin URL; the server runs until `stop DIR`
#   scripts/pg.sh stop DIR    -> stops it and removes DIR
#   scripts/pg.sh standby DIR PRIMARY_PORT -> a hot standby of the server on PRIMARY_PORT
#                               (pg_basebackup -R: streaming replication from 127.0.0.1, which
#                               initdb's pg_hba trusts), on LEDGER_PG_PORT; prints its URL
# Uses Debian's postgresql package (installed by .ci/run). Runs the server as the
# `postgres` user when called as root, since PostgreSQL refuses to run as root.
set -euo pipefail
cmd=${1:?start or stop}
dir=${2:?data directory}
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bindir/postgres" ] || { echo "pg.sh: no PostgreSQL server found (apt-get install postgresql)" >&2; exit 1; }
port=${LEDGER_PG_PORT:-54329}

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
  start)
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    as_owner "$bindir/initdb" -D "$dir/data" -U ledger --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=200" >/dev/null \
      || { cat "$dir/server.log" >&2; exit 1; }
    as_owner "$bindir/createdb" -h 127.0.0.1 -p "$port" -U ledger ledger_test
    echo "postgresql://ledger@127.0.0.1:$port/ledger_test"
    ;;
  standby)
    primary=${3:?port of the primary}
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    # A copy taken while the primary is busy can fail (a WAL sender not yet free): three tries,
    # each from an empty directory, and the last one's words if all fail.
    for try in 1 2 3; do
      rm -rf "$dir/data"
      as_owner "$bindir/pg_basebackup" -h 127.0.0.1 -p "$primary" -U ledger -D "$dir/data" -R \
        -X stream -c fast >"$dir/basebackup.log" 2>&1 && break
      [ "$try" = 3 ] && { cat "$dir/basebackup.log" >&2; exit 1; }
      sleep 2
    done
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=200" >/dev/null \
      || { cat "$dir/server.log" >&2; exit 1; }
    echo "postgresql://ledger@127.0.0.1:$port/ledger_test"
    ;;
  stop)
    if [ -d "$dir/data" ]; then
      as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
  *) echo "usage: pg.sh start|stop DIR, or standby DIR PRIMARY_PORT" >&2; exit 2 ;;
esac
