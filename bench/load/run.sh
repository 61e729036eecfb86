#!/usr/bin/env bash
# phigate load comparison on loopback (re-runnable by anyone):
#   direct  : wrk -> mock upstream (nginx serving a fixed answer)
#   nginx   : wrk -> nginx reverse proxy -> mock          (the baseline)
#   phigate : wrk -> phigate serve (auth, policy, detect, tokenize (request scope: in memory;
#             the -conv row: a conversation scope in the SQLite vault),
#             audit group commit, re-identify) -> mock
# for JSON and SSE answers, at 1 request in flight and under load, plus CPU µs/request,
# RSS, streaming time-to-first-byte and 500 concurrent streams.
# The echo rows (with nginx's JavaScript module, libnginx-mod-http-js; ECHO_ROWS=0 leaves them
# out) put an upstream in front that writes the request's tokens back into its answer
# (mock_echo.js), so the gateway re-identifies ~12 values per answer, streamed ones split
# across events: OpenAI (echo-json, echo-sse) and Anthropic messages (anthropic-json,
# anthropic-sse); each with its own direct and nginx rows.
# Server side pinned to CPU $SRV_CPU, wrk to CPU $CLI_CPU (2-core machines: 0 and 1).
# Env: PHIGATE_BIN (default build/release/src/cli/phigate), DUR (8s), WARM (2s), CONCS ("1 32"),
#      OUT_DIR (/tmp/phigate-load), IO_THREADS (1), PACE_CONNS (8: connections of the fixed-rate
#      half-maximum-load run), PORTKEY_DIR (optional: a folder where
#      `npm install --prefix "$PORTKEY_DIR" @portkey-ai/gateway` was run; adds Portkey rows:
#      the Portkey gateway, no de-identification, in front of the same mock),
#      AUDIT_SIGN_INTERVAL_MS (optional: audit tree-head signing interval, 0 = every commit).
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
PK_PID=""
PORTKEY_JS="${PORTKEY_DIR:-}/node_modules/@portkey-ai/gateway/build/start-server.js"
if [ -n "${PORTKEY_DIR:-}" ] && [ -f "$PORTKEY_JS" ]; then
  taskset -c "$SRV_CPU" node "$PORTKEY_JS" --port=18195 > "$OUT_DIR/portkey.log" 2>&1 &
  PK_PID=$!; PIDS+=("$PK_PID")
  for _ in $(seq 1 100); do curl -s -o /dev/null http://127.0.0.1:18195/ && break; sleep 0.2; done
  # Portkey routes by headers: OpenAI provider, custom host = the mock.
  printf 'Authorization: Bearer sk-load-fake\nx-portkey-provider: openai\nx-portkey-custom-host: http://127.0.0.1:18101/v1\n' > "$OUT_DIR/portkey.hdr"
fi

printf 'Authorization: Bearer %s\nx-phigate-feature: scribe\n' "$API_KEY" > "$OUT_DIR/gw.hdr"
printf 'Authorization: Bearer %s\nx-phigate-feature: scribe-echo\n' "$API_KEY" > "$OUT_DIR/gw-echo.hdr"
printf 'x-api-key: %s\nanthropic-version: 2023-06-01\nx-phigate-feature: scribe-echo\n' "$API_KEY" \
  > "$OUT_DIR/gw-anthropic.hdr"
printf 'anthropic-version: 2023-06-01\n' > "$OUT_DIR/anthropic.hdr"
# The same request inside one conversation (x-phigate-conversation): its identifiers are
# already in the vault under that scope after the first request, so this row shows the
# gateway without vault writes (phigate-json mints 10 new tokens per request: request scope).
printf 'Authorization: Bearer %s\nx-phigate-feature: scribe\nx-phigate-conversation: load-conversation-1\n' \
  "$API_KEY" > "$OUT_DIR/gw-conv.hdr"
: > "$OUT_DIR/empty.hdr"
TARGETS=(
  "direct-json|http://127.0.0.1:18101/v1/chat/completions|request.json|empty.hdr|"
  "nginx-json|http://127.0.0.1:18180/v1/chat/completions|request.json|empty.hdr|$PROXY_W"
  "phigate-json|http://127.0.0.1:18190/v1/chat/completions|request.json|gw.hdr|$GW_PID"
  "phigate-json-conv|http://127.0.0.1:18190/v1/chat/completions|request.json|gw-conv.hdr|$GW_PID"
  "direct-sse|http://127.0.0.1:18102/v1/chat/completions|request_stream.json|empty.hdr|"
  "nginx-sse|http://127.0.0.1:18181/v1/chat/completions|request_stream.json|empty.hdr|$PROXY_W"
  "phigate-sse|http://127.0.0.1:18191/v1/chat/completions|request_stream.json|gw.hdr|$GWS_PID"
)
if [ "${HAVE_ECHO:-0}" = 1 ] && [ "${ECHO_ROWS:-1}" = 1 ]; then
  E=http://127.0.0.1:18103/v1; PE=http://127.0.0.1:18182/v1; G=http://127.0.0.1:18190/v1
  TARGETS+=(
    "direct-echo-json|$E/chat/completions|request.json|empty.hdr|"
    "nginx-echo-json|$PE/chat/completions|request.json|empty.hdr|$PROXY_W"
    "phigate-echo-json|$G/chat/completions|request.json|gw-echo.hdr|$GW_PID"
    "direct-echo-sse|$E/chat/completions|request_stream.json|empty.hdr|"
    "nginx-echo-sse|$PE/chat/completions|request_stream.json|empty.hdr|$PROXY_W"
    "phigate-echo-sse|$G/chat/completions|request_stream.json|gw-echo.hdr|$GW_PID"
    "direct-anthropic-json|$E/messages|request_anthropic.json|anthropic.hdr|"
    "nginx-anthropic-json|$PE/messages|request_anthropic.json|anthropic.hdr|$PROXY_W"
    "phigate-anthropic-json|$G/messages|request_anthropic.json|gw-anthropic.hdr|$GW_PID"
    "direct-anthropic-sse|$E/messages|request_anthropic_stream.json|anthropic.hdr|"
    "nginx-anthropic-sse|$PE/messages|request_anthropic_stream.json|anthropic.hdr|$PROXY_W"
    "phigate-anthropic-sse|$G/messages|request_anthropic_stream.json|gw-anthropic.hdr|$GW_PID"
  )
fi
if [ -n "$PK_PID" ]; then
  # JSON only: Portkey 1.15.2's streaming path fails on this Node (undici "immutable" headers
  # TypeError, HTTP 500), so there is no Portkey SSE row.
  TARGETS+=("portkey-json|http://127.0.0.1:18195/v1/chat/completions|request.json|portkey.hdr|$PK_PID")
fi
for t in "${TARGETS[@]}"; do  # sanity: each answers 200
  IFS='|' read -r label url body hdr _ <<< "$t"
  args=(); while IFS= read -r l; do [ -n "$l" ] && args+=(-H "$l"); done < "$OUT_DIR/$hdr"
  code=$(curl -s -o "$OUT_DIR/sanity-$label.out" -w '%{http_code}' -H 'Content-Type: application/json' \
         "${args[@]}" --data-binary @"$OUT_DIR/$body" "$url")
  echo "sanity $label http=$code"
  [ "$code" = 200 ] || { echo "sanity failed for $label:"; cat "$OUT_DIR/sanity-$label.out"; exit 1; }
  case "$label" in  # the echo rows measure re-identification only if it happens
    phigate-echo-*|phigate-anthropic-*) python3 "$HERE/check_reid.py" "$OUT_DIR/sanity-$label.out" ;;
  esac
done

cpu_ticks() { local s=0 p; for p in "$@"; do [ -r "/proc/$p/stat" ] && s=$(( s + $(awk '{print $14+$15}' "/proc/$p/stat") )); done; echo "$s"; }
rss_kb() { local s=0 p; for p in "$@"; do [ -r "/proc/$p/status" ] && s=$(( s + $(awk '/VmRSS/{print $2}' "/proc/$p/status") )); done; echo "$s"; }
TCK=$(getconf CLK_TCK)
echo -e "label\tconc\trequests\trps\tp50_us\tp90_us\tp99_us\terrors\tcpu_us_per_req\trss_mb" > "$RES"
run_wrk() {  # label url body hdr pids conc [rate_rps]
  local label=$1 url=$2 body=$3 hdr=$4 pids=$5 conc=$6
  export BODY_FILE="$OUT_DIR/$body" HDR_FILE="$OUT_DIR/$hdr" LABEL="$label" RATE_RPS="${7:-0}"
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
# p99 at half the maximum load: the best phigate JSON req/s above, halved, sent at that
# fixed rate (post.lua's RATE_RPS: one send time every 1/rate s, whatever the latency)
# over $PACE_CONNS connections. (Until session 11 each connection waited a fixed delay
# after each answer, so the rate fell short by the latency: ~65 % of the aim.)
PACE_CONNS="${PACE_CONNS:-8}"
MAX_RPS=$(awk -F'\t' '$1=="phigate-json" && $4+0>m {m=$4+0} END {print m+0}' "$RES")
if [ "${MAX_RPS%.*}" -gt 0 ]; then
  HALF_RPS=$(python3 -c "print(round($MAX_RPS / 2))")
  echo -e "half_load_target_rps\t$HALF_RPS" >> "$RES"
  run_wrk "phigate-json-halfmax" "http://127.0.0.1:18190/v1/chat/completions" request.json gw.hdr \
    "$GW_PID" "$PACE_CONNS" "$HALF_RPS"
  run_wrk "nginx-json-halfmax" "http://127.0.0.1:18180/v1/chat/completions" request.json empty.hdr \
    "$PROXY_W" "$PACE_CONNS" "$HALF_RPS"
fi
# 500 concurrent streams.
run_wrk "direct-sse" "http://127.0.0.1:18102/v1/chat/completions" request_stream.json empty.hdr "" 500
run_wrk "phigate-sse" "http://127.0.0.1:18191/v1/chat/completions" request_stream.json gw.hdr "$GWS_PID" 500
# Streaming time to first byte (median of 200 sequential requests).
# shellcheck disable=SC1091
source "$HERE/ttfb_lib.sh"
echo -e "ttfb_direct_us\t$(ttfb http://127.0.0.1:18102/v1/chat/completions empty.hdr)" | tee -a "$RES"
echo -e "ttfb_phigate_us\t$(ttfb http://127.0.0.1:18191/v1/chat/completions gw.hdr)" | tee -a "$RES"
echo -e "ttfb_nginx_us\t$(ttfb http://127.0.0.1:18181/v1/chat/completions empty.hdr)" | tee -a "$RES"
if [ "${HAVE_ECHO:-0}" = 1 ] && [ "${ECHO_ROWS:-1}" = 1 ]; then  # Anthropic stream, re-identified
  echo -e "ttfb_direct_anthropic_us\t$(ttfb http://127.0.0.1:18103/v1/messages anthropic.hdr \
    request_anthropic_stream.json)" | tee -a "$RES"
  echo -e "ttfb_phigate_anthropic_us\t$(ttfb http://127.0.0.1:18190/v1/messages gw-anthropic.hdr \
    request_anthropic_stream.json)" | tee -a "$RES"
fi
# Peak RSS of the gateways over the whole run (VmHWM).
hwm() { awk '/VmHWM/{print int($2/1024)}' "/proc/$1/status" 2>/dev/null || echo 0; }
echo -e "rss_peak_mb_phigate_json\t$(hwm "$GW_PID")" | tee -a "$RES"
echo -e "rss_peak_mb_phigate_sse\t$(hwm "$GWS_PID")" | tee -a "$RES"
echo "results: $RES"
python3 "$HERE/summarize.py" "$RES" | tee "$OUT_DIR/summary.md"
