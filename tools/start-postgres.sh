#!/usr/bin/env bash
# Starts a throwaway PostgreSQL 15 server for the scale-out tests, on a Unix
# socket and 127.0.0.1:${PHIGATE_PG_PORT:-55432}, data in ${PHIGATE_PG_DIR:-/tmp/phigate-pg}.
# Prints the connection URL on its last line. Idempotent: reuses a running server.
set -euo pipefail
PORT="${PHIGATE_PG_PORT:-55432}"
DIR="${PHIGATE_PG_DIR:-/tmp/phigate-pg}"
BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
RUNAS=()
if [ "$(id -u)" = 0 ]; then RUNAS=(runuser -u postgres --); fi
mkdir -p "$DIR"
if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$DIR"; fi
if [ ! -f "$DIR/data/PG_VERSION" ]; then
  "${RUNAS[@]}" "$BIN/initdb" -D "$DIR/data" -U phigate --auth=trust >/dev/null
fi
if ! "${RUNAS[@]}" "$BIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
  "${RUNAS[@]}" "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w \
    -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200" start >/dev/null
fi
"${RUNAS[@]}" "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U phigate -d postgres -tAc \
  "SELECT 1 FROM pg_database WHERE datname='phigate_test'" | grep -q 1 ||
  "${RUNAS[@]}" "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U phigate phigate_test
echo "postgresql://phigate@127.0.0.1:${PORT}/phigate_test"
