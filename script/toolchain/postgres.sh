#!/usr/bin/env bash
# A throwaway PostgreSQL server for the indexer's Postgres tests (the production database path).
#   script/toolchain/postgres.sh start   installs Debian's postgresql when missing (needs root), starts a private
#                                        cluster on 127.0.0.1:${PODNET_PG_PORT:-54329} and prints its connection URL
#   script/toolchain/postgres.sh stop    stops that cluster
# The cluster lives in /tmp (owned by the postgres user, who runs the server: PostgreSQL refuses to run as root).
set -euo pipefail
port=${PODNET_PG_PORT:-54329}
data=/tmp/podnet-postgres-$port
url="postgresql://postgres@127.0.0.1:$port/podnet_test"

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
as_postgres() { if [ "$(id -un)" = postgres ]; then "$@"; else runuser -u postgres -- "$@"; fi; }

case "${1:-start}" in
start)
  bin=$(pg_bin)
  if [ -z "$bin" ] || [ ! -x "$bin/postgres" ]; then
    if [ "$(id -u)" -ne 0 ]; then
      echo "PostgreSQL is not installed; install Debian's postgresql package (or run as root)." >&2
      exit 1
    fi
    echo "Installing PostgreSQL from Debian..." >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    bin=$(pg_bin)
  fi
  if ! "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"; then
    if [ ! -f "$data/PG_VERSION" ]; then
      mkdir -p "$data"
      chown postgres: "$data" 2>/dev/null || true
      as_postgres "$bin/initdb" -D "$data" --auth=trust --username=postgres >/dev/null
    fi
    as_postgres "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w \
      -o "-p $port -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
  fi
  as_postgres "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = 'podnet_test'" | grep -q 1 ||
    as_postgres "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres podnet_test
  echo "$url"
  ;;
stop)
  bin=$(pg_bin)
  if [ -n "$bin" ] && [ -f "$data/PG_VERSION" ]; then
    as_postgres "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  ;;
*)
  echo "usage: script/toolchain/postgres.sh start|stop" >&2
  exit 2
  ;;
esac
