#!/usr/bin/env bash
# Streaming time to first byte alone, as run.sh measures it (ttfb_lib.sh: one curl per request, median of
# $N), direct to the mock and through phigate, $ROUNDS times; curl pinned to $CLI_CPU, the
# servers to $SRV_CPU. Env: PHIGATE_BIN (default build/release/src/cli/phigate), N (200),
# ROUNDS (3), OUT_DIR (/tmp/phigate-ttfb).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
export OUT_DIR="${OUT_DIR:-/tmp/phigate-ttfb}" IO_THREADS="${IO_THREADS:-1}"
PHIGATE_BIN="${PHIGATE_BIN:-$ROOT/build/release/src/cli/phigate}"
SRV_CPU="${SRV_CPU:-0}"; CLI_CPU="${CLI_CPU:-1}"
mkdir -p "$OUT_DIR"
rm -f "$OUT_DIR"/*.db "$OUT_DIR"/*.db-* 2>/dev/null || true
python3 "$HERE/gen_fixtures.py" > /dev/null
# shellcheck disable=SC1091
source "$OUT_DIR/keys.env"
export PHIGATE_MASTER_KEY
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
taskset -c "$SRV_CPU" nginx -c "$OUT_DIR/nginx-mock.conf" -p "$OUT_DIR"
sleep 0.3
PIDS+=("$(cat "$OUT_DIR/mock.pid")")
taskset -c "$SRV_CPU" "$PHIGATE_BIN" serve --config "$OUT_DIR/phigate-sse.yaml" --no-watch \
  --store "sqlite://$OUT_DIR/vault-sse.db" > "$OUT_DIR/phigate-sse.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do grep -q "listening on" "$OUT_DIR/phigate-sse.log" && break; sleep 0.1; done
printf 'Authorization: Bearer %s\nx-phigate-feature: scribe\n' "$API_KEY" > "$OUT_DIR/gw.hdr"
: > "$OUT_DIR/empty.hdr"
# shellcheck disable=SC1091
source "$HERE/ttfb_lib.sh"
for r in $(seq 1 "${ROUNDS:-3}"); do
  d=$(ttfb http://127.0.0.1:18102/v1/chat/completions empty.hdr)
  g=$(ttfb http://127.0.0.1:18191/v1/chat/completions gw.hdr)
  echo -e "round $r\tttfb_direct_us $d\tttfb_phigate_us $g\tadded_us $((g - d))"
done
