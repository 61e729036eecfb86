#!/usr/bin/env python3
"""Checks one answer of run.sh's echo rows: the gateway put the request's values back.

The echo upstream (mock_echo.js) writes the de-identified request's tokens into its answer;
a gateway that re-identifies returns the fixture's identifiers there and no token. Reads an
OpenAI or Anthropic answer, JSON or SSE; exits 1 (with a PHI-free reason) otherwise.
"""
import json
import re
import sys

# Identifiers of gen_fixtures.py's note that the load policy tokenizes (synthetic).
EXPECTED = ["Orrin Tessaly-Brookmere", "00482913", "912-45-6789", "o.tessaly62@example.com",
            "(555) 010-0134", "Velma Ostrander", "01/16/2024"]
TOKEN = re.compile(r"\[[A-Z]+_[0-9A-Z]+\]")


def answer_text(raw):
    if not raw.lstrip().startswith(("data:", "event:")):
        doc = json.loads(raw)
        if "choices" in doc:
            return doc["choices"][0]["message"]["content"]
        return "".join(b.get("text", "") for b in doc["content"])
    text = []
    for line in raw.splitlines():
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        ev = json.loads(line[6:])
        if "choices" in ev:
            text.append(ev["choices"][0].get("delta", {}).get("content") or "")
        elif ev.get("type") == "content_block_delta":
            text.append(ev["delta"].get("text", ""))
        elif ev.get("type") == "error" or "error" in ev:
            sys.exit(f"{sys.argv[1]}: the stream ended with an error event")
    return "".join(text)


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        text = answer_text(f.read())
    missing = sum(1 for v in EXPECTED if v not in text)
    tokens = len(TOKEN.findall(text))
    if missing or tokens:
        sys.exit(f"{sys.argv[1]}: {missing} of {len(EXPECTED)} values not put back, "
                 f"{tokens} tokens left in the answer")
    print(f"reid ok: {sys.argv[1].rsplit('/', 1)[-1]} ({len(EXPECTED)} values back, no token)")


if __name__ == "__main__":
    main()
