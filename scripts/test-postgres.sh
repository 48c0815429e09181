#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests of the shared store, from
# Debian's `postgresql` package: initdb into a temporary folder, run as an
# unprivileged user (postgres when we are root), listening on 127.0.0.1 only,
# password authentication (scram) with a random password.
#
#   eval "$(scripts/test-postgres.sh start)"   exports MOSAIC_TEST_PG (postgres://mosaic:PW@127.0.0.1:PORT)
#                                               and MOSAIC_TEST_PG_DIR (the cluster's folder)
#   scripts/test-postgres.sh stop DIR          stops it and removes the folder
set -euo pipefail

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "error: PostgreSQL's server programs are missing: install Debian's postgresql package (scripts/install-deps.sh test)" >&2
  exit 1
fi

as_owner=()
if [ "$(id -u)" -eq 0 ]; then
  # The server refuses to run as root.
  as_owner=(runuser -u postgres --)
fi

case "${1:-}" in
start)
  dir=$(mktemp -d /tmp/mosaic-pg.XXXXXX)
  chmod 755 "$dir"
  password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
  printf '%s\n' "$password" >"$dir/password"
  [ ${#as_owner[@]} -eq 0 ] || chown -R postgres "$dir"
  "${as_owner[@]}" "$bin/initdb" -D "$dir/data" -U mosaic --auth=scram-sha-256 --pwfile="$dir/password" -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; exit 1; }
  rm -f "$dir/password"
  for attempt in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 30000))
    # fsync off: a test cluster trades durability for speed; max_connections: the contention benchmark's 64 claimers and more.
    if "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c max_connections=300" start >/dev/null; then
      echo "export MOSAIC_TEST_PG='postgres://mosaic:$password@127.0.0.1:$port'"
      echo "export MOSAIC_TEST_PG_DIR='$dir'"
      exit 0
    fi
  done
  cat "$dir/server.log" >&2
  echo "error: the test PostgreSQL server did not start (log above)" >&2
  exit 1
  ;;
stop)
  dir=${2:?usage: test-postgres.sh stop DIR}
  [ -d "$dir/data" ] && "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
  ;;
*)
  echo "usage: scripts/test-postgres.sh start | stop DIR" >&2
  exit 2
  ;;
esac
