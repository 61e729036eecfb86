#!/usr/bin/env python3
"""How coherent surrogate names are (docs/vault.md, session 34).

  python3 bench/vault/surrogate_names.py build/rel/src/cli/phigate notes.jsonl

De-identifies labelled notes ({"id","text"} JSONL, e.g. `phigate synth --notes 2000
--seed 7`) with `phigate deid --jsonl --mode surrogate` in one tenant scope (a fresh
SQLite vault and a random master key in a temporary folder), lines each NAME span up
with its surrogate, and prints:
  * of the name words that occur in two or more NAME spans of one note, the share that
    got one surrogate word in all of them ("Smith" in "John Smith" and "Mr. Smith");
  * of the "First Last" names whose first name and its surrogate both have a sex in
    data/gazetteers/first_name_sexes.tsv, the share where the sexes agree.
Titles, suffixes and initials are left out; spans whose surrogate has another number of
words are skipped. No text is printed.
"""
import collections
import json
import os
import secrets
import subprocess
import sys
import tempfile

TITLES = {'dr', 'dr.', 'mr', 'mr.', 'mrs', 'mrs.', 'ms', 'ms.', 'miss', 'prof', 'prof.', 'jr',
          'jr.', 'sr', 'sr.', 'md', 'rn', 'np', 'do', 'phd', 'ii', 'iii', 'iv'}


def words(s):
    return [w.rstrip(',') for w in s.split() if w.rstrip(',').lower() not in TITLES]


def pairs(src, dst, spans):
    """(type, original, surrogate) of each span; None when the texts do not line up."""
    sb, db = src.encode(), dst.encode()
    spans = sorted(spans, key=lambda s: s['start'])
    pos_in = pos_out = 0
    out = []
    for k, s in enumerate(spans):
        seg = sb[pos_in:s['start']]
        if db[pos_out:pos_out + len(seg)] != seg:
            return None
        pos_out += len(seg)
        nxt = sb[s['end']:spans[k + 1]['start']] if k + 1 < len(spans) else sb[s['end']:]
        end = db.find(nxt, pos_out) if nxt else len(db)
        if end < 0:
            return None
        out.append((s['type'], sb[s['start']:s['end']].decode(), db[pos_out:end].decode()))
        pos_out, pos_in = end, s['end']
    return out


def main():
    binary, source = sys.argv[1], sys.argv[2]
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    sexes = {}
    with open(os.path.join(root, 'data', 'gazetteers', 'first_name_sexes.tsv')) as f:
        for line in f:
            if not line.startswith('#'):
                name, sex = line.rstrip('\n').split('\t')
                sexes[name.lower()] = sex
    originals = {}
    with open(source) as f:
        for line in f:
            r = json.loads(line)
            originals[r['id']] = r['text']
    with tempfile.TemporaryDirectory() as tmp:
        key = os.path.join(tmp, 'key')
        with open(key, 'w') as f:
            f.write(secrets.token_hex(32))
        os.chmod(key, 0o600)
        with open(source, 'rb') as f:
            run = subprocess.run([binary, 'deid', '--jsonl', '--mode', 'surrogate', '--tenant', 'bench',
                                  '--store', 'sqlite://' + os.path.join(tmp, 'vault.db'),
                                  '--master-key-file', key], stdin=f, capture_output=True, check=True)
    same = repeated = agree = known = skipped = 0
    for line in run.stdout.decode().splitlines():
        r = json.loads(line)
        got = pairs(originals[r['id']], r['text'], r['spans'])
        if got is None:
            skipped += 1
            continue
        given, count = collections.defaultdict(set), collections.Counter()
        for kind, original, surrogate in got:
            if kind != 'NAME':
                continue
            wo, ws = words(original), words(surrogate)
            if len(wo) != len(ws):
                continue
            for a, b in zip(wo, ws):
                if len(a) > 2:  # not an initial
                    given[a.lower()].add(b.lower())
                    count[a.lower()] += 1
            if len(wo) == 2 and ',' not in original:
                sa, sb = sexes.get(wo[0].lower()), sexes.get(ws[0].lower())
                if sa in ('F', 'M') and sb in ('F', 'M'):
                    known += 1
                    agree += sa == sb
        for w, c in count.items():
            if c >= 2:
                repeated += 1
                same += len(given[w]) == 1
    print(f'notes: {len(originals)} (not lined up: {skipped})')
    print(f'name words in 2+ NAME spans of a note: {repeated}; one surrogate in all: {same} '
          f'({100.0 * same / max(repeated, 1):.1f} %)')
    print(f'"First Last" names with a known sex on both sides: {known}; same sex: {agree} '
          f'({100.0 * agree / max(known, 1):.1f} %)')


if __name__ == '__main__':
    main()
