#!/usr/bin/env bash
# Cross-validates the sequence tagger by patient on the PhysioNet dev notes and
# scores rules-only, model-only, union and combined ("both") predictions with
# ../shared/tools/score.py. Every note is predicted by a model that never saw
# any note of its patient; the rules-only, union and both files are what
# RuleEngine::Scan returns in those modes (min score 0.35) with that model.
#
#   tools/model/crossval.sh [BUILD_DIR]          (default build/model)
#   env: FOLDS=5 SEED=1 EPOCHS=8 SYNTH_NOTES=3000 BIASES=16 VETOES=<default>
#        STACK=1 TRAIN_ARGS="<more phigate train options>" OUT=<dir>
#        PHIGATE_SHARED_DATA=<dir of the gold files> PHIGATE_SCORE=<score.py>
# Last, the rules and both predictions are scored once more with each
# patient's notes grouped (phigate eval --group-id-prefix -: a word found as a
# name or place in most of its occurrences in a patient's notes is flagged in
# the others).
# STACK=1 (default) trains stacked models (phigate train --stack: the rule
# engine's findings are features); STACK=0 plain models. Other options are
# phigate train's defaults, which are the shipped model's.
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
BIASES="${BIASES:-16}"
VETOES="${VETOES:-}"
STACK="${STACK:-1}"
read -ra more <<< "${TRAIN_ARGS:-}"
OUT="${OUT:-$BUILD/model-crossval}"
mkdir -p "$OUT"
GOLD="$DATA/physionet_deid_dev.jsonl"

extra=("$DATA/presidio_synth.jsonl")
if [ "$SYNTH_NOTES" -gt 0 ]; then
  "$P" synth --notes "$SYNTH_NOTES" --seed 11 > "$OUT/synth.jsonl"
  extra+=("$OUT/synth.jsonl")
fi
stack=()
[ "$STACK" = 1 ] && stack=(--stack)
[ -n "$VETOES" ] && stack+=(--eval-vetoes "$VETOES")

"$P" train --crossval "$FOLDS" --seed "$SEED" --epochs "$EPOCHS" --data "$GOLD" \
  --extra-data "${extra[@]}" --pred-out "$OUT/cv.jsonl" --eval-biases "$BIASES" "${stack[@]}" "${more[@]}"

IFS=, read -ra bs <<< "$BIASES"
if [ "${#bs[@]}" -gt 1 ]; then
  echo "== model only by recall bias (cross-validated by patient, $FOLDS folds)"
  for b in "${bs[@]}"; do
    echo "-- recall bias $b"; python3 "$SCORE" "$GOLD" "$OUT/cv.bias$b.jsonl" | sed -n 2,4p
  done
fi
if [ "${#bs[@]}" -gt 1 ] || [[ "$VETOES" == *,* ]]; then
  # One line per engine-mode predictions file (several biases / vetoes).
  PHIGATE_SCORE="$SCORE" python3 tools/model/score_table.py "$GOLD" "$OUT"/cv.rules.jsonl \
    "$OUT"/cv.model*.jsonl "$OUT"/cv.union*.jsonl "$OUT"/cv.both*.jsonl
  exit 0
fi
for m in rules model union both; do
  echo "== $m (engine mode, cross-validated by patient, $FOLDS folds, stack=$STACK)"
  python3 "$SCORE" "$GOLD" "$OUT/cv.$m.jsonl" | sed -n 2,4p
done
# The same predictions with each patient's notes made consistent
# (phigate deid/eval --group-id-prefix -; docs/model.md, session 18).
for m in rules both; do
  echo "== $m, notes grouped by patient (phigate eval --pred --group-id-prefix -)"
  "$P" eval "$GOLD" --pred "$OUT/cv.$m.jsonl" --group-id-prefix - | sed -n 2,4p
done
