#!/usr/bin/env python3
"""Scores prediction files with ../shared/tools/score.py and prints one line each:
file, any-PHI char recall, char precision, F1, entities missed.
   tools/model/score_table.py GOLD PRED.jsonl [PRED.jsonl ...]"""
import json, os, subprocess, sys, tempfile

root = os.path.dirname(os.path.abspath(__file__)) + "/../.."
score = os.environ.get("PHIGATE_SCORE", root + "/../shared/tools/score.py")
gold, preds = sys.argv[1], sys.argv[2:]
with tempfile.TemporaryDirectory() as tmp:
    out = os.path.join(tmp, "s.json")
    print(f"{'predictions':<40} {'recall':>7} {'prec':>7} {'F1':>6} {'missed':>8}")
    for p in preds:
        subprocess.run([sys.executable, score, gold, p, "--json", out], check=True,
                       stdout=subprocess.DEVNULL)
        r = next(iter(json.load(open(out)).values()))
        c, e = r["char"], r["entity"]
        print(f"{os.path.basename(p):<40} {100*c['recall']:6.1f}% {100*c['precision']:6.1f}% "
              f"{100*c['f1']:5.1f} {e['missed']:>4}/{e['total']}")
