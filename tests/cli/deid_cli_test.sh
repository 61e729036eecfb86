#!/usr/bin/env bash
# `phigate deid` end to end: the input modes and every kind of bad input
# (invalid UTF-8, NUL bytes, empty input, a multi-megabyte single line, binary
# files, unreadable paths). Values are synthetic.
#   deid_cli_test.sh PHIGATE_BINARY
set -uo pipefail
PHIGATE="$1"
HERE="$(cd "$(dirname "$0")" && pwd)"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
source "$HERE/../testing/checks.sh"
py() { python3 -c "$@"; }

NOTE='Pt seen 3/14/2024 (MRN 4429871), cell 617-555-0199, email jo.doe@example.com'

PHIGATE="$(cd "$(dirname "$PHIGATE")" && pwd)/$(basename "$PHIGATE")"  # the tests cd

# --- text on stdin -> placeholders
echo "$NOTE" | "$PHIGATE" deid >"$TMP/out.txt" 2>"$TMP/err.txt"
check "stdin: exit 0" test $? -eq 0
check "stdin: MRN replaced" lacks "$TMP/out.txt" 4429871
check "stdin: date replaced" lacks "$TMP/out.txt" 3/14/2024
check "stdin: email replaced" lacks "$TMP/out.txt" jo.doe@example.com
check "stdin: typed placeholder" contains "$TMP/out.txt" "[DATE]"
check "stdin: non-PHI kept" contains "$TMP/out.txt" "Pt seen"
check "stdin: stderr empty" test ! -s "$TMP/err.txt"

echo "$NOTE" | "$PHIGATE" deid --placeholder-format '<<{type}>>' >"$TMP/out.txt"
check "placeholder format" contains "$TMP/out.txt" "<<DATE>>"

echo "$NOTE" | "$PHIGATE" deid --mode mask >"$TMP/out.txt"
check "mask: digits masked" lacks "$TMP/out.txt" 4429871
check "mask: separators kept" contains "$TMP/out.txt" "*/**/****"

echo "$NOTE" | "$PHIGATE" deid --mode generalize >"$TMP/out.txt"
check "generalize: year kept" contains "$TMP/out.txt" "2024"
check "generalize: month/day gone" lacks "$TMP/out.txt" "3/14"
# A year that could be the birth year of someone 90 or older gives the age
# back: aggregated into one category (reference: this year).
OLDEST=$(($(date -u +%Y) - 89))
printf 'DOB: 03/14/%d   Age: 99\nDOB 1/2/%d\n' $((OLDEST - 7)) "$OLDEST" |
  "$PHIGATE" deid --mode generalize >"$TMP/out.txt"
check "generalize: a 90+ birth year aggregated" contains "$TMP/out.txt" "DOB: $((OLDEST - 1)) or earlier"
check "generalize: the 90+ birth year itself gone" lacks "$TMP/out.txt" "$((OLDEST - 7))"
check "generalize: a younger birth year kept" contains "$TMP/out.txt" "DOB $OLDEST"
# An address merged with its ZIP: the ZIP's prefix, never the house number's.
printf 'Address: 4417 Elm Street, Wolfeboro, NH 03894\n' | "$PHIGATE" deid --mode generalize >"$TMP/out.txt"
check "generalize: ZIP3 of the ZIP in an address span" contains "$TMP/out.txt" "038**"
check "generalize: no house-number digits as ZIP3" lacks "$TMP/out.txt" "441"

"$PHIGATE" deid --mode tokenize </dev/null >/dev/null 2>"$TMP/err.txt"
check "tokenize without --tenant: usage error (2)" test $? -eq 2
check "tokenize without --tenant: says so" grep -qi "tenant" "$TMP/err.txt"

# --- empty input
: | "$PHIGATE" deid >"$TMP/out.txt" 2>"$TMP/err.txt"
check "empty input: exit 0" test $? -eq 0
check "empty input: empty output" test ! -s "$TMP/out.txt"

# --- invalid UTF-8: sanitised (U+FFFD), warned, offsets valid. The rules
# engine, so that the check is on the sanitiser: the tagger may (and the
# session-8 one does) redact a run of replacement characters as a place.
printf 'bad \xff\xfe bytes, MRN 4429871 \xc3(\n' | "$PHIGATE" deid --engine rules >"$TMP/out.txt" 2>"$TMP/err.txt"
check "invalid UTF-8: exit 0" test $? -eq 0
check "invalid UTF-8: output is valid UTF-8" py "open('$TMP/out.txt', encoding='utf-8').read()"
check "invalid UTF-8: U+FFFD in output" py "assert '\ufffd' in open('$TMP/out.txt', encoding='utf-8').read()"
check "invalid UTF-8: still de-identified" lacks "$TMP/out.txt" 4429871
check "invalid UTF-8: warning counts bytes" contains "$TMP/err.txt" "3 invalid UTF-8 bytes"

# --- a few NUL bytes: text, kept
printf 'MRN 4429871\0 seen\0 3/14/2024\n' | "$PHIGATE" deid >"$TMP/out.txt"
check "NUL bytes: exit 0" test $? -eq 0
check "NUL bytes: kept" py "assert open('$TMP/out.txt','rb').read().count(b'\0') == 2"
check "NUL bytes: de-identified" lacks "$TMP/out.txt" 4429871

# --- binary on stdin: refused, or skipped with --skip-binary
head -c 20000 /dev/zero >"$TMP/zeros.bin"
"$PHIGATE" deid <"$TMP/zeros.bin" >"$TMP/out.txt" 2>"$TMP/err.txt"
check "binary stdin: exit 1" test $? -eq 1
check "binary stdin: clear error" contains "$TMP/err.txt" "looks binary"
check "binary stdin: no output" test ! -s "$TMP/out.txt"
"$PHIGATE" deid --skip-binary <"$TMP/zeros.bin" >"$TMP/out.txt" 2>"$TMP/err.txt"
check "binary stdin --skip-binary: exit 0" test $? -eq 0
# A compressed note holds few NULs but is mostly not UTF-8: binary, not
# "de-identified" with its text never scanned.
for i in $(seq 200); do echo "$NOTE"; done | gzip -c >"$TMP/notes.gz"
"$PHIGATE" deid "$TMP/notes.gz" >"$TMP/out.txt" 2>"$TMP/err.txt"
check "gzip file: exit 1" test $? -eq 1
check "gzip file: said why" contains "$TMP/err.txt" "not UTF-8"

# --- one long line (1 MB, four times the chunk size): scanned whole, correct
py "
line = ('MRN 4429871 seen 3/14/2024 and stable. ' * 25000)
open('$TMP/long.txt', 'w').write(line)
"
"$PHIGATE" deid --chunk-bytes 262144 <"$TMP/long.txt" >"$TMP/out.txt"
check "long line: exit 0" test $? -eq 0
check "long line: no MRN left" lacks "$TMP/out.txt" 4429871
check "long line: one line out" py "d=open('$TMP/out.txt').read(); assert d.count('\n') == 0 and d.count('[DATE]') == 25000, d.count('[DATE]')"

# --- many lines, chunked: the same result as one chunk
py "
import random
r = random.Random(3)
lines = []
for i in range(10000):
    lines.append(r.choice(['MRN 4429871 noted.', 'Seen 3/14/2024.', 'Stable overnight.', '']))
open('$TMP/lines.txt', 'w').write('\n'.join(lines) + '\n')
"
"$PHIGATE" deid --chunk-bytes 4096 <"$TMP/lines.txt" >"$TMP/a.txt"
"$PHIGATE" deid --chunk-bytes 67108864 <"$TMP/lines.txt" >"$TMP/b.txt"
check "chunking does not change the result" cmp -s "$TMP/a.txt" "$TMP/b.txt"
check "chunked output de-identified" lacks "$TMP/a.txt" 4429871

# --- chunks really are about --chunk-bytes long: each is scanned on its own, so a
# surname confirmed by a title ~10 KB earlier is carried over in one 64 MiB chunk
# but not across 4 KiB chunks (upper-case notes flag an unknown word only when
# confirmed). Before the chunk cut was fixed, any input under 1 MiB was one chunk.
# The name comes from the project's generator: a first name and a surname that no
# gazetteer or word list holds.
"$PHIGATE" synth --notes 200 --seed 11 >"$TMP/cons.jsonl"
py "
import json, os
gaz = os.path.join('$HERE', '..', '..', 'data', 'gazetteers')
listed = set()
for f in ('first_names.tsv', 'surnames.tsv', 'us_cities.tsv', 'common_words.txt', 'medical_words.txt'):
    for line in open(os.path.join(gaz, f), encoding='utf-8'):
        listed.add(line.split('\\t')[0].strip().lower())
name = None
for line in open('$TMP/cons.jsonl'):
    note = json.loads(line)
    for sp in note['spans']:
        w = note['text'][sp['start']:sp['end']].split()
        if (sp['type'] == 'NAME' and len(w) == 2 and all(x.isalpha() and len(x) >= 4 for x in w)
                and w[1].lower() not in listed):
            name = (w[0].upper(), w[1].upper())
            break
    if name:
        break
assert name, 'no unlisted two-word name in the generated notes'
t = 'PT SEEN BY DR. %s %s TODAY.\\n' % name
t += 'STABLE OVERNIGHT. VITALS WITHIN NORMAL LIMITS.\\n' * 200
open('$TMP/cons.txt', 'w').write(t + 'PLAN DISCUSSED W %s.\\n' % name[1])
open('$TMP/cons.sur', 'w').write(name[1])
"
SUR="$(cat "$TMP/cons.sur")"
"$PHIGATE" deid --chunk-bytes 67108864 <"$TMP/cons.txt" >"$TMP/cons.big.txt"
"$PHIGATE" deid --chunk-bytes 4096 <"$TMP/cons.txt" >"$TMP/cons.small.txt"
check "one chunk: the confirmed surname is replaced at the end too" \
  py "assert open('$TMP/cons.big.txt').read().endswith('PLAN DISCUSSED W [NAME].\\n')"
check "4 KiB chunks: the last chunk did not see the title" \
  py "assert open('$TMP/cons.small.txt').read().endswith('PLAN DISCUSSED W $SUR.\\n')"
check "4 KiB chunks: same line count, title line replaced" py "
a, b = open('$TMP/cons.big.txt').read(), open('$TMP/cons.small.txt').read()
assert a.count('\\n') == b.count('\\n') == 202 and b.startswith('PT SEEN BY DR. [NAME] TODAY.')"

# --- files to stdout, unreadable paths
echo "$NOTE" >"$TMP/n1.txt"
echo "MRN 5550001" >"$TMP/n2.txt"
"$PHIGATE" deid "$TMP/n1.txt" "$TMP/n2.txt" >"$TMP/out.txt"
check "files to stdout: both" py "d=open('$TMP/out.txt').read(); assert d.count('\n') == 2 and '5550001' not in d"
"$PHIGATE" deid "$TMP/n1.txt" "$TMP/missing.txt" >"$TMP/out.txt" 2>"$TMP/err.txt"
check "missing path: exit 1" test $? -eq 1
check "missing path: named" contains "$TMP/err.txt" "missing.txt"
ln -s "$TMP/nowhere" "$TMP/dangling.txt"
"$PHIGATE" deid "$TMP/dangling.txt" >/dev/null 2>"$TMP/err.txt"
check "dangling link argument: exit 1" test $? -eq 1
"$PHIGATE" deid "$TMP" >/dev/null 2>"$TMP/err.txt"
check "folder without --out: usage error" test $? -eq 2

# --- a folder -> OUTDIR with manifest
mkdir -p "$TMP/notes/sub" "$TMP/notes/empty"
echo "$NOTE" >"$TMP/notes/a.txt"
echo "Seen 3/14/2024 by the team" >"$TMP/notes/sub/b.txt"
: >"$TMP/notes/sub/empty.txt"
printf 'x\xffy MRN 4429871\n' >"$TMP/notes/sub/latin1.txt"
cp "$TMP/zeros.bin" "$TMP/notes/image.bin"
ln -s "$TMP/nowhere" "$TMP/notes/broken.txt"
"$PHIGATE" deid "$TMP/notes" --out "$TMP/deid" 2>"$TMP/err.txt"
check "folder with a binary file and a broken link: exit 1" test $? -eq 1
check "folder: outputs mirror the tree" test -f "$TMP/deid/sub/b.txt" -a -f "$TMP/deid/a.txt" -a -f "$TMP/deid/sub/empty.txt"
check "folder: binary file not written" test ! -e "$TMP/deid/image.bin"
check "folder: no temporary files left" py "
import os
assert not [f for d, _, fs in os.walk('$TMP/deid') for f in fs if 'phigate-tmp' in f]"
check "folder: outputs de-identified" py "
import os
for d, _, fs in os.walk('$TMP/deid'):
    for f in fs:
        t = open(os.path.join(d, f), 'rb').read()
        assert b'4429871' not in t and b'3/14/2024' not in t, f"
check "folder: stderr names the binary file" contains "$TMP/err.txt" "image.bin"
check "manifest: content" py "
import json
m = json.load(open('$TMP/deid/manifest.json'))
files = {f['input']: f for f in m['files']}
assert files['a.txt']['status'] == 'ok' and files['a.txt']['findings'] >= 3, files['a.txt']
assert files['a.txt']['counts'].get('MRN') == 1, files['a.txt']['counts']
assert files['image.bin']['status'] == 'binary' and 'looks binary' in files['image.bin']['error']
assert files['broken.txt']['status'] == 'error'
assert files['sub/empty.txt']['status'] == 'ok' and files['sub/empty.txt']['bytes_in'] == 0
assert files['sub/latin1.txt']['invalid_utf8_bytes'] == 1
assert m['totals']['failed'] == 2 and m['totals']['ok'] == 4, m['totals']
assert m['engine']['gazetteers'].startswith('fnv1a64:'), m['engine']
assert m['transform']['mode'] == 'placeholder'
"
# --- usage errors exit 2; a negative synth size is one
"$PHIGATE" deid --mode bogus </dev/null >/dev/null 2>&1
check "unknown --mode value: exit 2" test $? -eq 2
"$PHIGATE" deid --no-such-flag </dev/null >/dev/null 2>&1
check "unknown flag: exit 2" test $? -eq 2
timeout 20 "$PHIGATE" synth --size-mb -1 >/dev/null 2>&1
check "synth --size-mb -1: exit 2 (it never ended)" test $? -eq 2
"$PHIGATE" deid --help >/dev/null 2>&1
check "--help: exit 0" test $? -eq 0
mkdir -p "$TMP/mf"
echo "MRN 4429871" >"$TMP/mf/manifest.json"
"$PHIGATE" deid "$TMP/mf" --out "$TMP/mf.out" >/dev/null 2>&1
check "an input named manifest.json: refused (2), not overwritten by the manifest" test $? -eq 2

# --- Windows line ends find what Unix line ends find
"$PHIGATE" synth --notes 120 --seed 5 --format text 2>/dev/null >"$TMP/lf.txt"
sed 's/$/\r/' "$TMP/lf.txt" >"$TMP/crlf.txt"
"$PHIGATE" deid --engine rules "$TMP/lf.txt" >"$TMP/lf.out" 2>/dev/null
"$PHIGATE" deid --engine rules "$TMP/crlf.txt" 2>/dev/null | tr -d '\r' >"$TMP/crlf.out"
check "CRLF: the same output as LF" cmp -s "$TMP/lf.out" "$TMP/crlf.out"

# --- nothing is written outside OUTDIR or over an input
# n1 mirrors $TMP's own path: the old bug (an absolute output path) landed
# its file in $TMP/w/x.txt, inside the test's folder, not somewhere in /.
mkdir -p "$TMP/w/n1$TMP/w" "$TMP/w/n2" "$TMP/w/elsewhere" "$TMP/w/in/sub"
echo "Pt seen 3/14/2024" >"$TMP/w/n1$TMP/w/x.txt"
echo "MRN 4429871" >"$TMP/w/n2/b.txt"
(cd "$TMP/w" && "$PHIGATE" deid n1/ n2/ --out out >/dev/null 2>&1)
check "folders given with a trailing slash: under OUTDIR, by their names" \
  test -f "$TMP/w/out/n1$TMP/w/x.txt" -a -f "$TMP/w/out/n2/b.txt"
check "folders given with a trailing slash: nothing outside OUTDIR" test ! -e "$TMP/w/x.txt"
echo "ORIGINAL 4429871" >"$TMP/w/elsewhere/orig.txt"
echo "Seen 3/14/2024" >"$TMP/w/in/a.txt"
ln -s ../../elsewhere/orig.txt "$TMP/w/in/sub/link.txt"
(cd "$TMP/w" && "$PHIGATE" deid in --out out2 >/dev/null 2>&1)
check "a linked file keeps its own name under OUTDIR" test -f "$TMP/w/out2/sub/link.txt"
check "a linked file's target is not written" contains "$TMP/w/elsewhere/orig.txt" "ORIGINAL 4429871"
check "a linked file: manifest names the link" py "
import json
m = json.load(open('$TMP/w/out2/manifest.json'))
assert sorted(f['input'] for f in m['files']) == ['a.txt', 'sub/link.txt'], m['files']"
(cd "$TMP/w" && "$PHIGATE" deid in --out in >/dev/null 2>"$TMP/err.txt")
check "--out the input folder: usage error (2)" test $? -eq 2
check "--out the input folder: input kept" contains "$TMP/w/in/a.txt" "3/14/2024"
check "--out the input folder: said why" contains "$TMP/err.txt" "overwrite its input"

# --veto (both): recorded in the manifest; out of [0, 1] is a usage error
"$PHIGATE" deid --engine both --veto 0.6 --min-score 0.5 "$TMP/notes/sub/b.txt" --out "$TMP/veto" 2>/dev/null
check "--veto: exit 0" test $? -eq 0
check "--veto, --min-score and the model: in the manifest" py "
import json
m = json.load(open('$TMP/veto/manifest.json'))
e = m['engine']
assert e['mode'] == 'both' and e['veto'] == 0.6 and e['min_score'] == 0.5, e
assert e['model']['file'] == 'phigate_tagger.bin' and e['model']['fingerprint'].startswith('fnv1a64:'), e"
"$PHIGATE" deid --engine rules "$TMP/notes/sub/b.txt" --out "$TMP/rulesout" 2>/dev/null
check "rules only: the default min score, no model" py "
import json
e = json.load(open('$TMP/rulesout/manifest.json'))['engine']
assert e['mode'] == 'rules' and 'model' not in e and e['min_score'] == 0.35, e"
echo x | "$PHIGATE" deid --engine both --veto 2 >/dev/null 2>&1
check "--veto 2: usage error" test $? -ne 0
check "manifest: holds no PHI" py "
t = open('$TMP/deid/manifest.json').read()
for s in ['4429871', '3/14/2024', 'jo.doe', '617-555']:
    assert s not in t, s"
rm "$TMP/notes/broken.txt"
"$PHIGATE" deid "$TMP/notes" --out "$TMP/deid2" --skip-binary 2>"$TMP/err.txt"
check "folder --skip-binary: exit 0" test $? -eq 0
check "manifest: skipped_binary" py "
import json
m = json.load(open('$TMP/deid2/manifest.json'))
assert {f['input']: f['status'] for f in m['files']}['image.bin'] == 'skipped_binary'"
# OUTDIR inside the input folder is not walked into.
"$PHIGATE" deid "$TMP/notes" --out "$TMP/notes/out" --skip-binary 2>/dev/null
"$PHIGATE" deid "$TMP/notes" --out "$TMP/notes/out" --skip-binary 2>/dev/null
check "OUTDIR inside the input is skipped" py "
import json
m = json.load(open('$TMP/notes/out/manifest.json'))
assert not [f for f in m['files'] if f['input'].startswith('out/')], m['files']"

# --- JSONL
printf '%s\n' '{"id": 1, "text": "MRN 4429871 seen 3/14/2024 Jos\u00e9"}' '' 'not json' \
  '{"id": "b", "text": "nothing here"}' '{"id": "c"}' >"$TMP/in.jsonl"
"$PHIGATE" deid --jsonl <"$TMP/in.jsonl" >"$TMP/out.jsonl" 2>"$TMP/err.txt"
check "jsonl: bad lines give exit 1" test $? -eq 1
check "jsonl: bad line named by number" contains "$TMP/err.txt" "line 3"
check "jsonl: missing text named" contains "$TMP/err.txt" "line 5"
check "jsonl: good records written, byte offsets" py "
import json
src = [json.loads(l) for l in open('$TMP/in.jsonl') if l.startswith('{\"id\": 1')][0]['text'].encode()
recs = [json.loads(l) for l in open('$TMP/out.jsonl')]
assert [r['id'] for r in recs] == [1, 'b'], recs
r = recs[0]
assert '4429871' not in r['text']
spans = {src[s['start']:s['end']].decode(): s for s in r['spans']}
assert '4429871' in spans and spans['4429871']['category'] == 'MRN' and spans['4429871']['type'] == 'ID'
assert all(0 < s['score'] <= 1 for s in r['spans'])
assert recs[1]['spans'] == [] and recs[1]['text'] == 'nothing here'"

"$PHIGATE" deid --spans-jsonl <"$TMP/in.jsonl" >"$TMP/pred.jsonl" 2>/dev/null
check "spans-jsonl: predictions only" py "
import json
recs = [json.loads(l) for l in open('$TMP/pred.jsonl')]
assert set(recs[0]) == {'id', 'spans'} and set(recs[0]['spans'][0]) == {'start', 'end', 'type'}"

# a JSONL record on one 1 MB line
py "
import json
json.dump({'id': 'big', 'text': 'MRN 4429871 seen. ' * 60000}, open('$TMP/big.jsonl', 'w'))"
"$PHIGATE" deid --jsonl "$TMP/big.jsonl" >"$TMP/out.jsonl"
check "jsonl: 1 MB record" py "
import json
r = json.loads(open('$TMP/out.jsonl').read())
assert '4429871' not in r['text'] and len(r['spans']) >= 60000"

# --- --jobs: the same bytes out, and the same messages, for any number of
# threads. Notes from the project's generator (synthetic PHI, labelled).
"$PHIGATE" synth --notes 1500 --seed 5 >"$TMP/synth.jsonl"
py "
import json, os
notes = [json.loads(l) for l in open('$TMP/synth.jsonl')]
with open('$TMP/many.txt', 'w') as f:
    for i, n in enumerate(notes):
        f.write(n['text'] + ('\n\n' if i % 7 == 0 else '\n'))
# 4,500 records: across the 4,096-line batch of --jsonl.
with open('$TMP/many.jsonl', 'w') as f:
    for i in range(4500):
        rec = {'id': i, 'text': notes[i % len(notes)]['text']}
        f.write('not json\n' if i in (17, 4100) else json.dumps(rec) + '\n')
os.makedirs('$TMP/jobsin/sub')
for i in range(40):
    open('$TMP/jobsin/%s/n%02d.txt' % ('sub' if i % 3 else '.', i), 'w').write(notes[i]['text'] + '\n')
open('$TMP/jobsin/big.txt', 'w').write(''.join(n['text'] + '\n' for n in notes[40:140]))
open('$TMP/jobsin/image.bin', 'wb').write(bytes([0, 1, 2, 3]) * 4096)
"
for j in 1 3; do
  "$PHIGATE" deid --jobs $j --chunk-bytes 4096 <"$TMP/many.txt" >"$TMP/many.$j.out" 2>"$TMP/many.$j.err"
  echo "rc=$?" >>"$TMP/many.$j.err"
  "$PHIGATE" deid --jobs $j --jsonl <"$TMP/many.jsonl" >"$TMP/jsonl.$j.out" 2>"$TMP/jsonl.$j.err"
  echo "rc=$?" >>"$TMP/jsonl.$j.err"
  "$PHIGATE" deid --jobs $j --chunk-bytes 4096 --no-progress "$TMP/jobsin" --out "$TMP/jobsout$j" \
    2>"$TMP/dir.$j.err"
  echo "rc=$?" >>"$TMP/dir.$j.err"
  sed -i "s#$TMP/jobsout$j#OUTDIR#" "$TMP/dir.$j.err"
done
check "jobs: text chunked, labelled phones, emails and SSNs replaced" py "
import json, re
out = open('$TMP/many.3.out').read()
gold = [json.loads(l) for l in open('$TMP/synth.jsonl')]
vals = {n['text'][sp['start']:sp['end']] for n in gold for sp in n['spans']
        if sp['type'] in ('PHONE', 'EMAIL', 'SSN')}
# Each value as a word of its own (a short one may occur inside another number).
left = [v for v in vals if re.search(r'(?<![0-9A-Za-z])' + re.escape(v) + r'(?![0-9A-Za-z])', out)]
assert len(vals) > 300 and not left, (len(vals), left[:3])"
check "jobs: text, same bytes for 1 and 3 threads" cmp -s "$TMP/many.1.out" "$TMP/many.3.out"
check "jobs: text, same stderr and exit" cmp -s "$TMP/many.1.err" "$TMP/many.3.err"
check "jobs: jsonl, 4498 records in order" py "
import json
ids = [json.loads(l)['id'] for l in open('$TMP/jsonl.3.out')]
assert ids == [i for i in range(4500) if i not in (17, 4100)], len(ids)"
check "jobs: jsonl, same bytes for 1 and 3 threads" cmp -s "$TMP/jsonl.1.out" "$TMP/jsonl.3.out"
check "jobs: jsonl, bad lines named in order, exit 1" py "
e = open('$TMP/jsonl.3.err').read()
assert e.index('line 18') < e.index('line 4101') and e.endswith('rc=1\n'), e"
check "jobs: jsonl, same stderr" cmp -s "$TMP/jsonl.1.err" "$TMP/jsonl.3.err"
check "jobs: folder, same files for 1 and 3 threads" diff -r "$TMP/jobsout1" "$TMP/jobsout3"
check "jobs: folder, 41 outputs, the binary one refused" py "
import json
m = json.load(open('$TMP/jobsout3/manifest.json'))
st = {f['input']: f['status'] for f in m['files']}
assert len(st) == 42 and st['image.bin'] == 'binary' and list(st.values()).count('ok') == 41, st
assert m['totals']['findings'] > 5 * 140, m['totals']"
check "jobs: folder, same messages" cmp -s "$TMP/dir.1.err" "$TMP/dir.3.err"

# --- --group-field / --group-id-prefix: a word found as a name in most of its
# occurrences in a patient's records is flagged in the others, also when the
# patient's records straddle the 4,096-line batch and a bad line sits among them.
py "
import json
with open('$TMP/group.jsonl', 'w') as f:
    for i in range(4093):
        f.write(json.dumps({'id': 'f%d' % i, 'pid': 'filler%d' % (i % 50), 'text': 'BP 120/80, HR 72.'}) + '\n')
    f.write(json.dumps({'id': 'p-1', 'pid': 'p', 'text': 'Seen by Dr Quennell today.'}) + '\n')
    f.write(json.dumps({'id': 'p-2', 'pid': 'p', 'text': 'Dr Quennell called back.'}) + '\n')
    f.write('not json\n')
    f.write(json.dumps({'id': 'p-3', 'pid': 'p', 'text': 'plan per quennell, afebrile'}) + '\n')
    f.write(json.dumps({'id': 'q-1', 'pid': 'q', 'text': 'plan per quennell, afebrile'}) + '\n')"
"$PHIGATE" deid --spans-jsonl --engine rules <"$TMP/group.jsonl" >"$TMP/group.none" 2>/dev/null
"$PHIGATE" deid --spans-jsonl --engine rules --group-field pid <"$TMP/group.jsonl" \
  >"$TMP/group.field" 2>"$TMP/group.err"
check "group: a bad line still exits 1" test $? -eq 1
"$PHIGATE" deid --spans-jsonl --engine rules --group-id-prefix - -j 1 <"$TMP/group.jsonl" \
  >"$TMP/group.prefix" 2>/dev/null
"$PHIGATE" deid --jsonl --engine rules --group-field pid <"$TMP/group.jsonl" >"$TMP/group.text" 2>/dev/null
check "group: the patient's third record gets the name, others do not" py "
import json
def spans(path):
    return {r['id']: r['spans'] for r in map(json.loads, open(path))}
none, field, prefix = spans('$TMP/group.none'), spans('$TMP/group.field'), spans('$TMP/group.prefix')
assert len(field) == 4097, len(field)
start = 'plan per quennell'.index('quennell')
assert not any(s['start'] == start for s in none['p-3']), none['p-3']
got = [s for s in field['p-3'] if s['start'] == start]
assert got and got[0]['type'] == 'NAME' and got[0]['end'] == start + 8, field['p-3']
assert prefix['p-3'] == field['p-3']
assert field['q-1'] == none['q-1'], 'another patient is not touched'
assert all(field[k] == none[k] for k in none if k != 'p-3')"
check "group: jsonl text redacted" py "
import json
r = [json.loads(l) for l in open('$TMP/group.text') if '\"p-3\"' in l][0]
assert 'quennell' not in r['text'].lower(), r['text']"
check "group: counts only on stderr" contains "$TMP/group.err" "1 findings added by consistency"
check "group: stderr holds no text" lacks "$TMP/group.err" "uennell"
"$PHIGATE" deid --group-field pid </dev/null >/dev/null 2>"$TMP/err.txt"
check "group: without --jsonl a usage error (2)" test $? -eq 2
"$PHIGATE" deid --spans-jsonl --group-field pid --group-id-prefix - </dev/null >/dev/null 2>"$TMP/err.txt"
check "group: the two group options exclude each other" test $? -ne 0

# --- --csv: a CSV export of generated notes (synthetic PHI, labelled), over
# the 4,096-record batch, with quotes, commas and line breaks inside fields and
# CR LF line ends. Every text field comes out as `deid --jsonl` writes that
# text alone; the kept columns and the header as they were; the output is CSV
# with the same shape.
"$PHIGATE" synth --notes 300 --seed 21 >"$TMP/csvsrc.jsonl"
py "
import csv, json
notes = [json.loads(l) for l in open('$TMP/csvsrc.jsonl')]
with open('$TMP/notes.csv', 'w', newline='') as f:
    w = csv.writer(f, lineterminator='\r\n')
    w.writerow(['row_id', 'note_type', 'text'])
    with open('$TMP/csvcells.jsonl', 'w') as j:
        for i in range(4200):
            n = notes[i % len(notes)]
            text = n['text'] + (' \"quoted\", and\na second line' if i % 5 == 0 else '')
            w.writerow([str(1000 + i), 'progress, nursing' if i % 2 else 'discharge', text])
            j.write(json.dumps({'id': i, 'text': text}) + '\n')
"
"$PHIGATE" deid --csv --keep-columns row_id,2 <"$TMP/notes.csv" >"$TMP/notes.out.csv" 2>"$TMP/err.txt"
check "csv: exit 0" test $? -eq 0
check "csv: stderr empty" test ! -s "$TMP/err.txt"
"$PHIGATE" deid --jsonl <"$TMP/csvcells.jsonl" >"$TMP/csvcells.out.jsonl"
check "csv: same shape, kept columns as they were, text as deid --jsonl writes it" py "
import csv, json
src = list(csv.reader(open('$TMP/notes.csv', newline='')))
out = list(csv.reader(open('$TMP/notes.out.csv', newline='')))
want = [json.loads(l)['text'] for l in open('$TMP/csvcells.out.jsonl')]
assert len(out) == len(src) == 4201, (len(out), len(src))
assert out[0] == src[0]
for s, o, w in zip(src[1:], out[1:], want):
    assert o[0] == s[0] and o[1] == s[1], (o[:2], s[:2])
    assert o[2] == w
assert open('$TMP/notes.out.csv', 'rb').read().count(b'\r\n') >= 4201, 'CR LF kept'
"
check "csv: the labelled identifiers with digits (not bare years) are gone from their record" py "
import csv, json
notes = [json.loads(l) for l in open('$TMP/csvsrc.jsonl')]
out = list(csv.reader(open('$TMP/notes.out.csv', newline='')))[1:]
total = gone = 0
for i, row in enumerate(out[:len(notes)]):
    n = notes[i]
    for s in n['spans']:
        v = n['text'][s['start']:s['end']]
        # (a bare year is no Safe Harbor identifier: the engine keeps it)
        if any(c.isdigit() for c in v) and len(v) >= 4 and not (v.isdigit() and len(v) == 4):
            total += 1
            gone += v not in row[2]
assert total > 1000 and gone >= 0.99 * total, (gone, total)
"
for j in 1 3; do
  "$PHIGATE" deid --csv --jobs $j --keep-columns row_id <"$TMP/notes.csv" >"$TMP/notes.$j.csv"
done
check "csv: the same bytes for 1 and 3 threads" same "$TMP/notes.1.csv" "$TMP/notes.3.csv"
printf '\xEF\xBB\xBFid\tnote\n7\tPt seen 3/14/2024, MRN 4429871\n' >"$TMP/bom.tsv"
"$PHIGATE" deid --csv --delimiter tab --keep-columns id <"$TMP/bom.tsv" >"$TMP/bom.out"
check "csv: tab delimiter, byte order mark kept" py "
b = open('$TMP/bom.out', 'rb').read()
assert b.startswith(b'\xef\xbb\xbfid\tnote\n7\t'), b
assert b'4429871' not in b and b'[DATE]' in b, b"
printf 'id,note\n1,"Pt seen, MRN 4429871"\n2,x,y\n3,"MRN 5550123"\n4,Smi"th\n5,"MRN 7770123"\n' \
  >"$TMP/badrec.csv"
"$PHIGATE" deid --csv <"$TMP/badrec.csv" >"$TMP/badrec.out" 2>"$TMP/err.txt"
check "csv: bad records give exit 1" test $? -eq 1
check "csv: a record of another width named, not written" contains "$TMP/err.txt" "record 3: 3 fields"
check "csv: malformed CSV named by record" contains "$TMP/err.txt" "malformed CSV in record 5"
check "csv: good records before it written, de-identified" py "
b = open('$TMP/badrec.out').read()
assert b.count('\n') == 3 and '[MRN]' in b and '4429871' not in b and '5550123' not in b, b"
check "csv: nothing after the malformed record" lacks "$TMP/badrec.out" "7770123"
check "csv: no field text in the messages" lacks "$TMP/err.txt" "Smi"
"$PHIGATE" deid --csv --keep-columns nosuch <"$TMP/badrec.csv" >/dev/null 2>"$TMP/err.txt"
check "csv: unknown kept column: usage error (2)" test $? -eq 2
"$PHIGATE" deid --keep-columns id </dev/null >/dev/null 2>"$TMP/err.txt"
check "csv: --keep-columns without --csv: usage error (2)" test $? -eq 2
printf 'MRN 5550123,MRN 4429871\n' | "$PHIGATE" deid --csv --no-header --keep-columns 1 >"$TMP/nohdr.out"
check "csv: --no-header de-identifies the first record" py "
b = open('$TMP/nohdr.out').read()
assert b == 'MRN 5550123,MRN [MRN]\\n', b"
# A headerless export read without --no-header: the first record is taken for
# the header, and is de-identified all the same (its kept column aside), with a
# warning naming the column that changed — never written raw.
py "
import csv, json
notes = [json.loads(l) for l in open('$TMP/csvsrc.jsonl')][:3]
with open('$TMP/nohdr2.csv', 'w', newline='') as f:
    w = csv.writer(f)
    for i, n in enumerate(notes):
        w.writerow([str(500 + i), n['text']])
with open('$TMP/nohdr2.jsonl', 'w') as j:
    for i, n in enumerate(notes):
        j.write(json.dumps({'id': i, 'text': n['text']}) + '\n')
"
"$PHIGATE" deid --csv --keep-columns 1 <"$TMP/nohdr2.csv" >"$TMP/nohdr2.out" 2>"$TMP/err.txt"
check "csv: a first record taken for the header: exit 0" test $? -eq 0
check "csv: the changed header column named" contains "$TMP/err.txt" \
  "header column 2 held an identifier and was de-identified; if the first record is data, pass --no-header"
check "csv: the kept header column not named" lacks "$TMP/err.txt" "header column 1"
"$PHIGATE" deid --jsonl <"$TMP/nohdr2.jsonl" >"$TMP/nohdr2.out.jsonl"
check "csv: the first record de-identified as deid --jsonl does it, no identifier in stderr" py "
import csv, json
out = list(csv.reader(open('$TMP/nohdr2.out', newline='')))
want = [json.loads(l)['text'] for l in open('$TMP/nohdr2.out.jsonl')]
assert [r[0] for r in out] == ['500', '501', '502'], out
assert [r[1] for r in out] == want
n = json.loads(open('$TMP/csvsrc.jsonl').readline())
err = open('$TMP/err.txt').read()
vals = [n['text'][s['start']:s['end']] for s in n['spans']]
assert len(vals) >= 5 and n['text'] != want[0]
assert not [v for v in vals if len(v) >= 4 and v in err], err
"

finish
