#!/usr/bin/env python3
"""Compares score.py's --json result with `phigate eval --json`: every figure
(counts exactly, ratios to 1e-9; NaN/null equal). Prints the differences.

  compare_eval_json.py SCORE_PY.json PHIGATE.json
"""
import json
import math
import sys

KEYS = ["notes", "missing_predictions", "char", "token", "entity", "per_type",
        "per_pred_type", "no_phi_records"]


def norm(x):
    return None if isinstance(x, float) and math.isnan(x) else x


def diff(a, b, path, out):
    a, b = norm(a), norm(b)
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                out.append(f"{path}.{k}: only in {'score.py' if k in a else 'phigate'}")
            else:
                diff(a[k], b[k], f"{path}.{k}", out)
    elif isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if abs(a - b) > 1e-9:
            out.append(f"{path}: score.py {a} != phigate {b}")
    elif a != b:
        out.append(f"{path}: score.py {a!r} != phigate {b!r}")


def main():
    ref = json.load(open(sys.argv[1]))
    ref = next(iter(ref.values()))  # score.py: {pred name: result}
    got = json.load(open(sys.argv[2]))
    out = []
    for k in KEYS:
        diff(ref.get(k), got.get(k), k, out)
    for line in out[:40]:
        print("  DIFF", line)
    print(f"  compared {sys.argv[1]}: {len(out)} differences; any-PHI char recall "
          f"{ref['char']['recall']}, precision {ref['char']['precision']}, "
          f"missed {ref['entity']['missed']}")
    return 1 if out else 0


if __name__ == "__main__":
    sys.exit(main())
