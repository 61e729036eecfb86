#!/usr/bin/env bash
# The README's first command: builds phigate (Release) and runs the PHI gateway
# on embedded SQLite in front of a local fake model, then sends one synthetic
# clinical note through it and shows what the model received and what came back.
#
#   bash tools/demo.sh            # keeps serving on http://127.0.0.1:8080 (Ctrl-C stops)
#   DEMO_EXIT=1 bash tools/demo.sh  # one request, then stop
#
# Everything here is synthetic: the note, the API keys (config/demo.yaml), the master key.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
DEMO="$ROOT/build/demo"
mkdir -p "$DEMO"

bash tools/install-deps.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DPHIGATE_BUILD_TESTS=OFF \
  -DPHIGATE_BUILD_BENCHMARKS=OFF >/dev/null
ninja -C build/release -j "${JOBS:-2}" phigate
BIN="$ROOT/build/release/src/cli/phigate"

# A demo master key, kept beside the demo database (never do this in production:
# use a key file or a KMS, see docs/gateway.md).
if [ -z "${PHIGATE_MASTER_KEY:-}" ]; then
  [ -f "$DEMO/master.key" ] || (umask 077; openssl rand -hex 32 > "$DEMO/master.key")
  PHIGATE_MASTER_KEY="$(cat "$DEMO/master.key")"
fi
export PHIGATE_MASTER_KEY

PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM

# The fake model the demo policy calls "local" (http://127.0.0.1:18001/v1, inside the boundary).
FAKE_UPSTREAM_LOG=1 node tests/e2e/fake_upstream.mjs 18001 > "$DEMO/fake-upstream.log" 2>&1 &
PIDS+=($!)
"$BIN" serve --config config/demo.yaml --store "sqlite://$DEMO/vault.db" 2> "$DEMO/phigate.log" &
PIDS+=($!)
for _ in $(seq 1 600); do  # up to 60 s: the engine loads its gazetteers at start
  curl -sf http://127.0.0.1:8080/readyz >/dev/null 2>&1 && break
  sleep 0.1
done
cat "$DEMO/phigate.log"

# A synthetic patient-portal message written by the project's generator (docs/synth.md):
# a name, MRN, Medicare number, dates, phone, e-mail, URL and IP address, all invented.
NOTE="$("$BIN" synth --notes 1 --style portal --seed 3 --format text)"
body() {  # the OpenAI chat request carrying $NOTE, as JSON
  python3 -c 'import json, sys; print(json.dumps({"model": "local-llama",
    "messages": [{"role": "user", "content": sys.stdin.read().strip()}]}))' <<< "$NOTE"
}
echo
echo "== the application sends (OpenAI API, key pg_demo_clinician, feature scribe):"
echo "$NOTE" | sed 's/^/   /'
ANSWER=$(curl -s http://127.0.0.1:8080/v1/chat/completions \
  -H 'Authorization: Bearer pg_demo_clinician' -H 'x-phigate-feature: scribe' \
  -H 'Content-Type: application/json' -d "$(body)")
sleep 0.2
echo "== the model received:"
grep '\[fake upstream\]' "$DEMO/fake-upstream.log" | tail -n 1 | sed 's/^/   /'
echo "== the clinician gets back:"
echo "   $ANSWER"
echo "== an analyst (feature coding: names redacted, MRN tokenized, no re-identification) gets back:"
curl -s http://127.0.0.1:8080/v1/chat/completions \
  -H 'Authorization: Bearer pg_demo_analyst' -H 'x-phigate-feature: coding' \
  -H 'Content-Type: application/json' -d "$(body)" | sed 's/^/   /'
echo
if [ "${DEMO_EXIT:-0}" = 1 ]; then exit 0; fi
echo "phigate is serving on http://127.0.0.1:8080 (OpenAI /v1/chat/completions and /v1/responses,"
echo "Anthropic /v1/messages,"
echo "/metrics, /readyz). Ctrl-C stops it."
wait
