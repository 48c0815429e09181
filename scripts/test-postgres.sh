#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests of the shared store, from
# Debian's `postgresql` package: initdb into a temporary folder, run as an
# unprivileged user (postgres when we are root), listening on 127.0.0.1 only,
# password authentication (scram) with a random password, TLS offered with a
# test certificate authority's certificate.
#
#   eval "$(scripts/test-postgres.sh start)"   exports MOSAIC_TEST_PG (postgres://mosaic:PW@127.0.0.1:PORT),
#                                               MOSAIC_TEST_PG_CA (the certificate authority, PEM)
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
  # TLS as well (the server still takes plain connections): a test certificate
  # authority and a server certificate for 127.0.0.1 and localhost.
  (
    cd "$dir"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3 -subj "/CN=mosaic test CA" -keyout ca.key -out ca.crt
    openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout server.key -out server.csr
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n' >server.ext
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3 -extfile server.ext -out server.crt
    chmod 600 server.key
  ) >"$dir/tls.log" 2>&1 || { cat "$dir/tls.log" >&2; exit 1; }
  [ ${#as_owner[@]} -eq 0 ] || chown postgres "$dir"/server.*
  # The role tls_only may connect over TLS only: what proves a client's TLS works.
  { echo "hostnossl all tls_only 0.0.0.0/0 reject"; cat "$dir/data/pg_hba.conf"; } >"$dir/pg_hba.conf"
  "${as_owner[@]}" cp "$dir/pg_hba.conf" "$dir/data/pg_hba.conf"
  for attempt in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 30000))
    # fsync off: a test cluster trades durability for speed; max_connections: the contention benchmark's 64 claimers and more.
    if "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c max_connections=300 \
          -c ssl=on -c ssl_cert_file=$dir/server.crt -c ssl_key_file=$dir/server.key" start >/dev/null; then
      PGPASSWORD=$password psql -q -h 127.0.0.1 -p "$port" -U mosaic -d postgres \
        -c "CREATE ROLE tls_only LOGIN SUPERUSER PASSWORD '$password'" >/dev/null
      echo "export MOSAIC_TEST_PG='postgres://mosaic:$password@127.0.0.1:$port'"
      echo "export MOSAIC_TEST_PG_CA='$dir/ca.crt'"
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
