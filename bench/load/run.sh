#!/usr/bin/env bash
# phigate load comparison on loopback (re-runnable by anyone):
#   direct  : wrk -> mock upstream (nginx serving a fixed answer)
#   nginx   : wrk -> nginx reverse proxy -> mock          (the baseline)
#   phigate : wrk -> phigate serve (auth, policy, detect, tokenize in the SQLite vault,
#             audit group commit, re-identify) -> mock
# for JSON and SSE answers, at 1 request in flight and under load, plus CPU µs/request,
# RSS, streaming time-to-first-byte and 500 concurrent streams.
# Server side pinned to CPU $SRV_CPU, wrk to CPU $CLI_CPU (2-core machines: 0 and 1).
# Env: PHIGATE_BIN (default build/release/src/cli/phigate), DUR (8s), WARM (2s), CONCS ("1 32"),
#      OUT_DIR (/tmp/phigate-load), IO_THREADS (1), PORTKEY_DIR (optional: add Portkey rows).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
export OUT_DIR="${OUT_DIR:-/tmp/phigate-load}"
PHIGATE_BIN="${PHIGATE_BIN:-$ROOT/build/release/src/cli/phigate}"
DUR="${DUR:-8s}"; WARM="${WARM:-2s}"; CONCS="${CONCS:-1 32}"
SRV_CPU="${SRV_CPU:-0}"; CLI_CPU="${CLI_CPU:-1}"
export IO_THREADS="${IO_THREADS:-1}"
RES="$OUT_DIR/results.tsv"
mkdir -p "$OUT_DIR"
rm -f "$OUT_DIR"/*.db "$OUT_DIR"/*.db-* 2>/dev/null || true
python3 "$HERE/gen_fixtures.py"
# shellcheck disable=SC1091
source "$OUT_DIR/keys.env"
export PHIGATE_MASTER_KEY

PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  sleep 0.5
}
trap cleanup EXIT

taskset -c "$SRV_CPU" nginx -c "$OUT_DIR/nginx-mock.conf" -p "$OUT_DIR"
taskset -c "$SRV_CPU" nginx -c "$OUT_DIR/nginx-proxy.conf" -p "$OUT_DIR"
sleep 0.5
MOCK_MASTER=$(cat "$OUT_DIR/mock.pid"); PROXY_MASTER=$(cat "$OUT_DIR/proxy.pid")
PIDS+=("$MOCK_MASTER" "$PROXY_MASTER")
start_gw() {  # config store-file log -> sets LAST_PID (no subshell: PIDS must see it)
  taskset -c "$SRV_CPU" "$PHIGATE_BIN" serve --config "$OUT_DIR/$1" --no-watch \
    --store "sqlite://$OUT_DIR/$2" > "$OUT_DIR/$3" 2>&1 &
  LAST_PID=$!
  PIDS+=("$LAST_PID")
  for _ in $(seq 1 100); do grep -q "listening on" "$OUT_DIR/$3" 2>/dev/null && break; sleep 0.1; done
}
start_gw phigate.yaml vault.db phigate.log; GW_PID=$LAST_PID
start_gw phigate-sse.yaml vault-sse.db phigate-sse.log; GWS_PID=$LAST_PID
PROXY_W=$(pgrep -P "$PROXY_MASTER" | tr '\n' ' ')

printf 'Authorization: Bearer %s\nx-phigate-feature: scribe\n' "$API_KEY" > "$OUT_DIR/gw.hdr"
: > "$OUT_DIR/empty.hdr"
TARGETS=(
  "direct-json|http://127.0.0.1:18101/v1/chat/completions|request.json|empty.hdr|"
  "nginx-json|http://127.0.0.1:18180/v1/chat/completions|request.json|empty.hdr|$PROXY_W"
  "phigate-json|http://127.0.0.1:18190/v1/chat/completions|request.json|gw.hdr|$GW_PID"
  "direct-sse|http://127.0.0.1:18102/v1/chat/completions|request_stream.json|empty.hdr|"
  "nginx-sse|http://127.0.0.1:18181/v1/chat/completions|request_stream.json|empty.hdr|$PROXY_W"
  "phigate-sse|http://127.0.0.1:18191/v1/chat/completions|request_stream.json|gw.hdr|$GWS_PID"
)
for t in "${TARGETS[@]}"; do  # sanity: each answers 200
  IFS='|' read -r label url body hdr _ <<< "$t"
  args=(); while IFS= read -r l; do [ -n "$l" ] && args+=(-H "$l"); done < "$OUT_DIR/$hdr"
  code=$(curl -s -o "$OUT_DIR/sanity-$label.out" -w '%{http_code}' -H 'Content-Type: application/json' \
         "${args[@]}" --data-binary @"$OUT_DIR/$body" "$url")
  echo "sanity $label http=$code"
  [ "$code" = 200 ] || { echo "sanity failed for $label:"; cat "$OUT_DIR/sanity-$label.out"; exit 1; }
done

cpu_ticks() { local s=0 p; for p in "$@"; do [ -r "/proc/$p/stat" ] && s=$(( s + $(awk '{print $14+$15}' "/proc/$p/stat") )); done; echo "$s"; }
rss_kb() { local s=0 p; for p in "$@"; do [ -r "/proc/$p/status" ] && s=$(( s + $(awk '/VmRSS/{print $2}' "/proc/$p/status") )); done; echo "$s"; }
TCK=$(getconf CLK_TCK)
echo -e "label\tconc\trequests\trps\tp50_us\tp90_us\tp99_us\terrors\tcpu_us_per_req\trss_mb" > "$RES"
run_wrk() {  # label url body hdr pids conc
  local label=$1 url=$2 body=$3 hdr=$4 pids=$5 conc=$6
  export BODY_FILE="$OUT_DIR/$body" HDR_FILE="$OUT_DIR/$hdr" LABEL="$label"
  taskset -c "$CLI_CPU" wrk -t1 -c"$conc" -d"$WARM" -s "$HERE/post.lua" "$url" > /dev/null
  local c0; c0=$(cpu_ticks $pids)
  local line; line=$(taskset -c "$CLI_CPU" wrk -t1 -c"$conc" -d"$DUR" --timeout 10s -s "$HERE/post.lua" "$url" | grep '^RESULT')
  local c1; c1=$(cpu_ticks $pids)
  local rss; rss=$(rss_kb $pids)
  python3 - "$conc" "$line" "$(( c1 - c0 ))" "$TCK" "$rss" >> "$RES" <<'PY'
import sys
conc, line, ticks, tck, rss = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
kv = dict(x.split("=", 1) for x in line.split()[1:])
n = int(kv["requests"])
err = sum(int(kv[k]) for k in kv if k.startswith("err_"))
cpu = ticks * 1e6 / tck / n if n and ticks else 0
print("\t".join([kv["label"], conc, kv["requests"], kv["rps"], kv["p50_us"], kv["p90_us"], kv["p99_us"],
                 str(err), f"{cpu:.0f}", f"{rss/1024:.0f}"]))
PY
  tail -n1 "$RES"
}
for conc in $CONCS; do
  for t in "${TARGETS[@]}"; do
    IFS='|' read -r label url body hdr pids <<< "$t"
    run_wrk "$label" "$url" "$body" "$hdr" "$pids" "$conc"
  done
done
# 500 concurrent streams.
run_wrk "direct-sse" "http://127.0.0.1:18102/v1/chat/completions" request_stream.json empty.hdr "" 500
run_wrk "phigate-sse" "http://127.0.0.1:18191/v1/chat/completions" request_stream.json gw.hdr "$GWS_PID" 500
# Streaming time to first byte (median of 200 sequential requests).
ttfb() {  # url hdr
  local args=(); while IFS= read -r l; do [ -n "$l" ] && args+=(-H "$l"); done < "$OUT_DIR/$2"
  for _ in $(seq 1 200); do
    curl -s -o /dev/null -w '%{time_starttransfer}\n' -H 'Content-Type: application/json' "${args[@]}" \
      --data-binary @"$OUT_DIR/request_stream.json" "$1"
  done | sort -n | awk '{a[NR]=$1} END {printf "%.0f", a[int(NR/2)+1]*1e6}'
}
echo -e "ttfb_direct_us\t$(ttfb http://127.0.0.1:18102/v1/chat/completions empty.hdr)" | tee -a "$RES"
echo -e "ttfb_phigate_us\t$(ttfb http://127.0.0.1:18191/v1/chat/completions gw.hdr)" | tee -a "$RES"
echo "results: $RES"
python3 "$HERE/summarize.py" "$RES" | tee "$OUT_DIR/summary.md"
