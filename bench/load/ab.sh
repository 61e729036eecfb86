#!/usr/bin/env bash
# Interleaved A/B of two phigate binaries on one shared mock upstream (phigate-json only),
# for changes smaller than the noise of two separate run.sh runs on a shared machine:
# both gateways run at the same time and every round measures A and B back to back
# (order alternating between rounds), so machine load hits both alike. Prints one line
# per measurement: req/s, p50/p99 µs, errors, CPU µs/request (from /proc), load average.
#   A=build-a/src/cli/phigate B=build-b/src/cli/phigate bench/load/ab.sh
# Env: A, B (binaries; may be the same), CONCS ("1 16"), ROUNDS (3), DUR (6s), WARM (2s),
#      HDR (gw.hdr: a new request scope each time | gw-conv.hdr: one conversation),
#      B_ARGS (extra `serve` arguments of B), B_SERVER (one extra `server:` line of B's
#      config, e.g. "audit_threads: 2"), A_SERVER (the same for A; swap the roles to see
#      an order/port bias), PERF (A or B: `perf record --call-graph dwarf` of that
#      gateway during its round-1 measurements, into $OUT_DIR/perf-<A|B>-c<conc>.data),
#      OUT_DIR (/tmp/phigate-ab), ports 28101 (mock), 28190 (A), 28290 (B).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
export OUT_DIR="${OUT_DIR:-/tmp/phigate-ab}" MOCK_PORT=28101 MOCK_SSE_PORT=28102 PROXY_PORT=28180 \
  PROXY_SSE_PORT=28181 GW_PORT=28190 GW_SSE_PORT=28191
CONCS="${CONCS:-1 16}"; ROUNDS="${ROUNDS:-3}"; DUR="${DUR:-6s}"; WARM="${WARM:-2s}"; HDR="${HDR:-gw.hdr}"
: "${A:?A=<phigate binary>}" "${B:?B=<phigate binary>}"
mkdir -p "$OUT_DIR"
rm -rf "$OUT_DIR/a" "$OUT_DIR/b"; mkdir -p "$OUT_DIR/a" "$OUT_DIR/b"
python3 "$HERE/gen_fixtures.py" > /dev/null
# shellcheck disable=SC1091
source "$OUT_DIR/keys.env"; export PHIGATE_MASTER_KEY
sed "s/127.0.0.1:28190/127.0.0.1:28290/" "$OUT_DIR/phigate.yaml" > "$OUT_DIR/phigate-b.yaml"
if [ -n "${B_SERVER:-}" ]; then
  sed -i "s/^  io_threads: \(.*\)$/  io_threads: \1\n  ${B_SERVER}/" "$OUT_DIR/phigate-b.yaml"
fi
if [ -n "${A_SERVER:-}" ]; then
  sed -i "s/^  io_threads: \(.*\)$/  io_threads: \1\n  ${A_SERVER}/" "$OUT_DIR/phigate.yaml"
fi
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do if [ -n "$p" ]; then kill "$p" 2>/dev/null || true; fi; done; }
trap cleanup EXIT
taskset -c 0 nginx -c "$OUT_DIR/nginx-mock.conf" -p "$OUT_DIR"; sleep 0.5
PIDS+=("$(cat "$OUT_DIR/mock.pid")")
# shellcheck disable=SC2086
taskset -c 0 "$A" serve --config "$OUT_DIR/phigate.yaml" --no-watch \
  --store "sqlite://$OUT_DIR/a/vault.db" > "$OUT_DIR/a.log" 2>&1 & PA=$!; PIDS+=("$PA")
# shellcheck disable=SC2086
taskset -c 0 "$B" serve --config "$OUT_DIR/phigate-b.yaml" --no-watch \
  --store "sqlite://$OUT_DIR/b/vault.db" ${B_ARGS:-} > "$OUT_DIR/b.log" 2>&1 & PB=$!; PIDS+=("$PB")
for _ in $(seq 100); do
  grep -q "listening on" "$OUT_DIR/a.log" && grep -q "listening on" "$OUT_DIR/b.log" && break; sleep 0.1
done
printf 'Authorization: Bearer %s\nx-phigate-feature: scribe\n' "$API_KEY" > "$OUT_DIR/gw.hdr"
printf 'Authorization: Bearer %s\nx-phigate-feature: scribe\nx-phigate-conversation: ab-1\n' \
  "$API_KEY" > "$OUT_DIR/gw-conv.hdr"
for port in 28190 28290; do  # sanity: each answers 200
  args=(); while IFS= read -r l; do [ -n "$l" ] && args+=(-H "$l"); done < "$OUT_DIR/$HDR"
  code=$(curl -s -o "$OUT_DIR/sanity.out" -w '%{http_code}' -H 'Content-Type: application/json' \
         "${args[@]}" --data-binary @"$OUT_DIR/request.json" "http://127.0.0.1:$port/v1/chat/completions")
  [ "$code" = 200 ] || { echo "sanity failed on port $port: http $code"; cat "$OUT_DIR/sanity.out"; exit 1; }
done
TCK=$(getconf CLK_TCK)
: > "$OUT_DIR/ab.tsv"
ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
measure() {  # label port pid conc perf(0|1)
  export BODY_FILE="$OUT_DIR/request.json" HDR_FILE="$OUT_DIR/$HDR" LABEL=$1 DELAY_MS=0
  local url="http://127.0.0.1:$2/v1/chat/completions" pp=""
  taskset -c 1 wrk -t1 -c"$4" -d"$WARM" -s "$HERE/post.lua" "$url" > /dev/null
  local c0; c0=$(ticks "$3")
  if [ "$5" = 1 ]; then
    perf record -q --call-graph dwarf,16384 -F 499 -p "$3" -o "$OUT_DIR/perf-$1-c$4.data" \
      -- sleep 5 > /dev/null 2>&1 & pp=$!
  fi
  local line; line=$(taskset -c 1 wrk -t1 -c"$4" -d"$DUR" --timeout 10s -s "$HERE/post.lua" "$url" | grep '^RESULT')
  local c1; c1=$(ticks "$3")
  if [ -n "$pp" ]; then wait "$pp" || true; fi
  python3 - "$line" $((c1 - c0)) "$TCK" "$4" <<'PY' | tee -a "$OUT_DIR/ab.tsv"
import sys
kv = dict(x.split("=", 1) for x in sys.argv[1].split()[1:])
n, ticks, tck, conc = int(kv["requests"]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
err = sum(int(kv[k]) for k in kv if k.startswith("err_"))
load = open("/proc/loadavg").read().split()[0]
print(f"{kv['label']}\tc={conc}\treq/s={float(kv['rps']):.0f}\tp50={kv['p50_us']}\tp99={kv['p99_us']}"
      f"\terr={err}\tcpu_us={ticks * 1e6 / tck / n:.0f}\tload={load}")
PY
}
for r in $(seq "$ROUNDS"); do
  for c in $CONCS; do
    pa=0; pb=0
    [ "$r" = 1 ] && [ "${PERF:-}" = A ] && pa=1
    [ "$r" = 1 ] && [ "${PERF:-}" = B ] && pb=1
    if [ $((r % 2)) = 1 ]; then
      measure A 28190 "$PA" "$c" $pa; measure B 28290 "$PB" "$c" $pb
    else
      measure B 28290 "$PB" "$c" $pb; measure A 28190 "$PA" "$c" $pa
    fi
  done
done
python3 - "$OUT_DIR/ab.tsv" <<'PY'
import collections, statistics, sys
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    f = line.split("\t")
    kv = dict(x.split("=", 1) for x in f[1:])
    rows[(f[0], kv["c"])].append(kv)
print("medians:")
for (label, c), v in sorted(rows.items(), key=lambda x: (int(x[0][1]), x[0][0])):
    med = lambda k: statistics.median(float(x[k]) for x in v)
    print(f"  {label} c={c}: cpu_us {med('cpu_us'):.0f}, p50 {med('p50'):.0f}, p99 {med('p99'):.0f}, "
          f"req/s {med('req/s'):.0f} ({len(v)} runs)")
PY
