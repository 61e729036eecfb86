# shellcheck shell=bash
# Streaming time to first byte, sourced by run.sh and ttfb.sh: the median of $N (200)
# sequential curl requests, one connection each, curl pinned to $CLI_CPU as wrk is.
#   ttfb URL HEADER_FILE [BODY_FILE]   (files in $OUT_DIR; body default request_stream.json)
ttfb() {
  local args=(); while IFS= read -r l; do [ -n "$l" ] && args+=(-H "$l"); done < "$OUT_DIR/$2"
  for _ in $(seq 1 "${N:-200}"); do
    taskset -c "$CLI_CPU" curl -s -o /dev/null -w '%{time_starttransfer}\n' \
      -H 'Content-Type: application/json' "${args[@]}" \
      --data-binary @"$OUT_DIR/${3:-request_stream.json}" "$1"
  done | sort -n | awk '{a[NR]=$1} END {printf "%.0f", a[int(NR/2)+1]*1e6}'
}
