#!/usr/bin/env bash
# Proves `phigate eval --pred` and ../shared/tools/score.py agree on the same
# predictions: every figure of score.py's JSON, for code-point and UTF-8 byte
# offsets, on a synthetic Unicode corpus and (when present) the shared corpora.
#   eval_agreement_test.sh PHIGATE_BINARY
# The shared files are found next to the source tree (../shared) unless
# PHIGATE_SHARED_DATA (the gold corpora's folder) and PHIGATE_SCORE (score.py;
# by default tools/score.py beside that folder) say otherwise, as in
# tools/model/crossval.sh: a git worktree elsewhere sets them.
# Exits 77 (skipped) when score.py or python3 is missing.
set -euo pipefail
PHIGATE="$1"
HERE="$(cd "$(dirname "$0")" && pwd)"
SRC="${PHIGATE_SOURCE_DIR:-$HERE/../..}"
DATA="${PHIGATE_SHARED_DATA:-$SRC/../shared/data}"
SCORE="${PHIGATE_SCORE:-$DATA/../tools/score.py}"
if ! command -v python3 >/dev/null || [ ! -f "$SCORE" ]; then
  echo "SKIP: $SCORE or python3 not found (set PHIGATE_SHARED_DATA or PHIGATE_SCORE)"
  exit 77
fi
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# A synthetic gold corpus (made-up values) exercising multi-byte and astral
# characters, Python-only whitespace (NBSP, U+2028, U+3000), neutral and
# year-only spans, records without PHI, numeric ids and overlapping spans.
python3 - "$TMP/synthetic.jsonl" <<'PY'
import json, random, sys
rng = random.Random(11)
words = ["Pt", "seen", "by", "Dr.", "José", "Núñez", "on", "3/14", "at", "Zoë's", "clinic", "😀",
         "北京", "MRN", "4429871", "cell", "617-555-0199", "\u00a0", "\u2028", "\u3000", "age", "45",
         "in", "1999", "x_y", "²", "O'Brien-Smith", "\t", "née", "Ωmega"]
types = ["NAME", "DATE", "LOCATION", "ID", "PHONE", "AGE"]
with open(sys.argv[1], "w", encoding="utf-8") as f:
    for i in range(300):
        toks = [rng.choice(words) for _ in range(rng.randint(0, 40))]
        text = " ".join(toks)
        n = len(text)
        spans = []
        for _ in range(rng.randint(0, 6) if n else 0):
            a = rng.randrange(n)
            b = min(n, a + rng.randint(0, 15))
            s = {"start": a, "end": b, "type": rng.choice(types)}
            r = rng.random()
            if r < 0.15:
                s["phi"] = False
            elif r < 0.25:
                s.update(type="DATE", phi=False, year_only=True)
            spans.append(s)
        rid = i if i % 7 == 0 else f"s-{i}"
        f.write(json.dumps({"id": rid, "text": text, "spans": spans}, ensure_ascii=(i % 2 == 0)) + "\n")
PY

fail=0
run_case() {  # gold unit seed [extra flags...]
  local gold="$1" unit="$2" seed="$3"
  shift 3
  local base
  base="$(basename "$gold" .jsonl)-$unit-$seed"
  python3 "$HERE/make_predictions.py" "$gold" "$TMP/$base.cp.jsonl" "$TMP/$base.utf8.jsonl" "$seed"
  local pred="$TMP/$base.$unit.jsonl"
  python3 "$SCORE" "$gold" "$pred" --unit "$unit" --json "$TMP/$base.ref.json" "$@" >/dev/null
  "$PHIGATE" eval "$gold" --pred "$pred" --unit "$unit" --json "$@" >"$TMP/$base.got.json"
  echo "case $base $*"
  if ! python3 "$HERE/compare_eval_json.py" "$TMP/$base.ref.json" "$TMP/$base.got.json"; then
    fail=1
  fi
}

run_case "$TMP/synthetic.jsonl" cp 1
run_case "$TMP/synthetic.jsonl" utf8 2
run_case "$TMP/synthetic.jsonl" utf8 3 --years-as-phi
for corpus in physionet_deid_dev presidio_synth; do
  gold="$DATA/$corpus.jsonl"
  [ -f "$gold" ] || { echo "note: $gold missing, not compared"; continue; }
  run_case "$gold" cp 4
  run_case "$gold" utf8 5
done

# Engine mode (no --pred) must also agree: score what `phigate deid --spans-jsonl` writes.
"$PHIGATE" deid --spans-jsonl <"$TMP/synthetic.jsonl" >"$TMP/engine.utf8.jsonl"
python3 "$SCORE" "$TMP/synthetic.jsonl" "$TMP/engine.utf8.jsonl" --unit utf8 --json "$TMP/engine.ref.json" >/dev/null
"$PHIGATE" eval "$TMP/synthetic.jsonl" --json >"$TMP/engine.got.json"
echo "case engine (deid --spans-jsonl vs eval without --pred)"
python3 "$HERE/compare_eval_json.py" "$TMP/engine.ref.json" "$TMP/engine.got.json" || fail=1

# Grouped by patient (--group-field): what `deid --spans-jsonl` writes grouped
# scores the same with score.py as `eval` grouped; and grouping the ungrouped
# predictions in `eval --pred` gives the same figures as grouping in the engine.
"$PHIGATE" synth --notes 600 --seed 31 >"$TMP/patients.jsonl"
"$PHIGATE" deid --spans-jsonl --group-field patient_id <"$TMP/patients.jsonl" \
  >"$TMP/grouped.utf8.jsonl" 2>"$TMP/grouped.err"
python3 "$SCORE" "$TMP/patients.jsonl" "$TMP/grouped.utf8.jsonl" --unit utf8 --json "$TMP/grouped.ref.json" >/dev/null
"$PHIGATE" eval "$TMP/patients.jsonl" --group-field patient_id --json >"$TMP/grouped.got.json" 2>/dev/null
echo "case engine grouped by patient (deid --spans-jsonl --group-field vs eval --group-field)"
python3 "$HERE/compare_eval_json.py" "$TMP/grouped.ref.json" "$TMP/grouped.got.json" || fail=1
"$PHIGATE" deid --spans-jsonl <"$TMP/patients.jsonl" >"$TMP/ungrouped.utf8.jsonl" 2>/dev/null
"$PHIGATE" eval "$TMP/patients.jsonl" --pred "$TMP/ungrouped.utf8.jsonl" --unit utf8 \
  --group-field patient_id --json >"$TMP/pred-grouped.json" 2>/dev/null
echo "case eval --pred grouped vs engine grouped"
python3 - "$TMP/grouped.got.json" "$TMP/pred-grouped.json" "$TMP/grouped.err" <<'PY' || fail=1
import json, re, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
a.pop("throughput", None)
assert a == b, "grouping in eval --pred and in the engine disagree"
added = int(re.search(r"(\d+) findings added", open(sys.argv[3]).read()).group(1))
assert added > 0, "the generated patients' notes gave nothing to propagate: the case tests nothing"
print("  same figures; %d findings added by grouping" % added)
PY

if [ "$fail" != 0 ]; then
  echo "FAIL: phigate eval and score.py disagree"
  exit 1
fi
echo "PASS: phigate eval and score.py agree on every case"
