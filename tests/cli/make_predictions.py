#!/usr/bin/env python3
"""Deterministic predictions for the eval agreement test: the gold spans with
perturbations (dropped, shrunk, widened, retyped, shifted by bytes inside
multi-byte characters), false positives, records without predictions and an
unknown id. Writes code-point and UTF-8-byte versions of the same predictions.

  make_predictions.py GOLD.jsonl OUT_CP.jsonl OUT_UTF8.jsonl SEED
"""
import json
import random
import sys

TYPES = ["NAME", "DATE", "LOCATION", "ID", "PHONE", "AGE", ""]


def cp_to_byte(text):
    m, b = [], 0
    for ch in text:
        m.append(b)
        b += len(ch.encode("utf-8"))
    m.append(b)
    return m


def main():
    gold_path, out_cp, out_b, seed = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    rng = random.Random(seed)
    with open(gold_path, encoding="utf-8") as f:
        gold = [json.loads(l) for l in f if l.strip()]
    with open(out_cp, "w", encoding="utf-8") as fc, open(out_b, "w", encoding="utf-8") as fb:
        for g in gold:
            if rng.random() < 0.03:
                continue  # missing prediction
            text = g["text"]
            n = len(text)
            c2b = cp_to_byte(text)
            spans = []
            for s in g["spans"]:
                r = rng.random()
                if r < 0.12:
                    continue
                a, b = s["start"], s["end"]
                if r < 0.30:
                    a = min(b, a + rng.randint(0, 3))
                    b = max(a, b - rng.randint(0, 3))
                elif r < 0.45:
                    a = max(0, a - rng.randint(0, 6))
                    b = min(n, b + rng.randint(0, 6))
                t = s["type"] if rng.random() < 0.8 else rng.choice(TYPES)
                spans.append((a, b, t))
            for _ in range(rng.randint(0, 3)):
                if n == 0:
                    break
                a = rng.randrange(n)
                spans.append((a, min(n, a + rng.randint(1, 12)), rng.choice(TYPES)))
            rng.shuffle(spans)
            cp_spans, b_spans = [], []
            for a, b, t in spans:
                sp = {"start": a, "end": b}
                if t:
                    sp["type"] = t
                cp_spans.append(sp)
                ba, bb = c2b[a], c2b[b]
                # Sometimes point into the middle of a multi-byte character.
                if rng.random() < 0.2 and bb > ba and b < n and len(text[b].encode("utf-8")) > 1:
                    bb += 1
                bs = dict(sp, start=ba, end=bb)
                b_spans.append(bs)
            fc.write(json.dumps({"id": g["id"], "spans": cp_spans}) + "\n")
            fb.write(json.dumps({"id": g["id"], "spans": b_spans}) + "\n")
        fc.write(json.dumps({"id": "no-such-record", "spans": [{"start": 0, "end": 3}]}) + "\n")
        fb.write(json.dumps({"id": "no-such-record", "spans": [{"start": 0, "end": 3}]}) + "\n")


if __name__ == "__main__":
    main()
