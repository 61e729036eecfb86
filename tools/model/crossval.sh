#!/usr/bin/env bash
# Cross-validates the sequence tagger by patient on the PhysioNet dev notes and
# scores model-only, rules-only and combined (union of spans) predictions with
# ../shared/tools/score.py. Every note is predicted by a model that never saw
# any note of its patient.
#
#   tools/model/crossval.sh [BUILD_DIR]          (default build/model)
#   env: FOLDS=5 SEED=1 EPOCHS=8 SYNTH_NOTES=3000 BIASES=0,4,16 OUT=<dir>
# Other options are phigate train's defaults, which are the shipped model's.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"
BUILD="${1:-build/model}"
P="$BUILD/src/cli/phigate"
DATA="${PHIGATE_SHARED_DATA:-$ROOT/../shared/data}"
SCORE="${PHIGATE_SCORE:-$ROOT/../shared/tools/score.py}"
FOLDS="${FOLDS:-5}"
SEED="${SEED:-1}"
EPOCHS="${EPOCHS:-8}"
SYNTH_NOTES="${SYNTH_NOTES:-3000}"
BIASES="${BIASES:-0,4,16}"
OUT="${OUT:-$BUILD/model-crossval}"
mkdir -p "$OUT"
GOLD="$DATA/physionet_deid_dev.jsonl"

extra=("$DATA/presidio_synth.jsonl")
if [ "$SYNTH_NOTES" -gt 0 ]; then
  "$P" synth --notes "$SYNTH_NOTES" --seed 11 > "$OUT/synth.jsonl"
  extra+=("$OUT/synth.jsonl")
fi

"$P" train --crossval "$FOLDS" --seed "$SEED" --epochs "$EPOCHS" --data "$GOLD" \
  --extra-data "${extra[@]}" --pred-out "$OUT/cv.jsonl" --eval-biases "$BIASES"

# Rules-only predictions (byte offsets) converted to code points, and the union.
"$P" deid --spans-jsonl < "$GOLD" > "$OUT/rules.utf8.jsonl" || true
IFS=, read -ra bs <<< "$BIASES"
for b in "${bs[@]}"; do
  model="$OUT/cv.bias$b.jsonl"
  [ "${#bs[@]}" -eq 1 ] && model="$OUT/cv.jsonl"
  python3 - "$GOLD" "$OUT/rules.utf8.jsonl" "$model" "$OUT/rules.jsonl" "$OUT/combined.bias$b.jsonl" <<'PY'
import json, sys
gold, rules_utf8, model, rules_out, combined_out = sys.argv[1:]
texts = {}
for l in open(gold, encoding="utf-8"):
    if l.strip():
        r = json.loads(l); texts[r["id"]] = r["text"]
def cpmap(t):
    m = []
    for i, ch in enumerate(t):
        m.extend([i] * len(ch.encode("utf-8")))
    m.append(len(t)); return m
rules = {}
try:
    for l in open(rules_utf8, encoding="utf-8"):
        if not l.strip(): continue
        r = json.loads(l); m = cpmap(texts[r["id"]])
        rules[r["id"]] = [{"start": m[s["start"]], "end": m[s["end"]], "type": s.get("type", "UNK")}
                          for s in r["spans"]]
except FileNotFoundError:
    pass
with open(rules_out, "w") as f:
    for i in texts: f.write(json.dumps({"id": i, "spans": rules.get(i, [])}) + "\n")
with open(combined_out, "w") as f:
    for l in open(model, encoding="utf-8"):
        r = json.loads(l)
        f.write(json.dumps({"id": r["id"], "spans": r["spans"] + rules.get(r["id"], [])}) + "\n")
PY
done

echo "== model only (cross-validated by patient, $FOLDS folds)"
for b in "${bs[@]}"; do
  model="$OUT/cv.bias$b.jsonl"; [ "${#bs[@]}" -eq 1 ] && model="$OUT/cv.jsonl"
  echo "-- recall bias $b"; python3 "$SCORE" "$GOLD" "$model" | sed -n 2,4p
done
if [ -s "$OUT/rules.utf8.jsonl" ]; then
  echo "== rules only"; python3 "$SCORE" "$GOLD" "$OUT/rules.jsonl" | sed -n 2,4p
  echo "== combined (rules + model)"
  for b in "${bs[@]}"; do
    echo "-- recall bias $b"; python3 "$SCORE" "$GOLD" "$OUT/combined.bias$b.jsonl" | sed -n 2,4p
  done
fi
