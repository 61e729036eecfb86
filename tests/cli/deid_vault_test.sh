#!/usr/bin/env bash
# `phigate deid --mode tokenize|surrogate` and `phigate reid` end to end through
# the real binary: stdin, --jsonl and folder inputs, round trips, scopes,
# tenant isolation, the permission flag, and no value in clear in the vault
# file. Every value is synthetic (made up for this test).
#   deid_vault_test.sh PHIGATE_BINARY   (PHIGATE_DATA_DIR set by ctest)
set -uo pipefail
PHIGATE="$1"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
source "$(dirname "$0")/../testing/checks.sh"

STORE="sqlite://$TMP/vault.db"
export PHIGATE_MASTER_KEY="$("$PHIGATE" keys new-master)"
V=(--store "$STORE")
# Synthetic values, also grepped for in the raw database files below.
VALUES=("Qorvin Abelstam" "3/14/2024" "4429871" "617-555-0199" "jo.doe@example.com")
printf 'Pt Qorvin Abelstam seen 3/14/2024 (MRN 4429871), cell 617-555-0199.\nEmail jo.doe@example.com; Qorvin Abelstam called back on 3/14/2024.\n' >"$TMP/note.txt"

# --- tokenize from stdin, reid back
"$PHIGATE" deid --mode tokenize --tenant acme --scope conv-42 "${V[@]}" <"$TMP/note.txt" \
  >"$TMP/safe.txt" 2>"$TMP/err.txt"
check "tokenize: exit 0" test $? -eq 0
for v in "3/14/2024" "4429871" "617-555-0199" "jo.doe@example.com"; do
  check "tokenize: '$v' replaced" lacks "$TMP/safe.txt" "$v"
done
check "tokenize: typed tokens" grep -qE '\[(DATE|MRN|PHONE|EMAIL)_[2-9A-Z]{5}\]' "$TMP/safe.txt"
check "tokenize: non-PHI kept" contains "$TMP/safe.txt" "called back on"
check "tokenize: stderr empty" test ! -s "$TMP/err.txt"
DATE_TOKENS="$(grep -oE '\[DATE_[2-9A-Z]{5}\]' "$TMP/safe.txt" | sort -u | wc -l)"
check "tokenize: same value, same token within the scope" test "$DATE_TOKENS" -eq 1

"$PHIGATE" reid --tenant acme --scope conv-42 "${V[@]}" --allow-reidentify <"$TMP/safe.txt" \
  >"$TMP/back.txt"
check "reid: exit 0" test $? -eq 0
check "round trip: reid(deid(note)) == note" same "$TMP/back.txt" "$TMP/note.txt"

# The same note again in the same scope: identical tokens (the blind index).
"$PHIGATE" deid --mode tokenize --tenant acme --scope conv-42 "${V[@]}" <"$TMP/note.txt" \
  >"$TMP/safe2.txt"
check "tokenize: a second run in the scope gives the same tokens" same "$TMP/safe.txt" "$TMP/safe2.txt"
# Another scope: other tokens, and conv-42's tokens do not resolve there.
"$PHIGATE" deid --mode tokenize --tenant acme --scope conv-43 "${V[@]}" <"$TMP/note.txt" \
  >"$TMP/safe43.txt"
check "tokenize: another scope gives other tokens" test "$(cat "$TMP/safe43.txt")" != "$(cat "$TMP/safe.txt")"
"$PHIGATE" reid --tenant acme --scope conv-43 "${V[@]}" --allow-reidentify <"$TMP/safe.txt" \
  >"$TMP/out.txt"
check "reid: conv-43 leaves conv-42's tokens as they are" same "$TMP/out.txt" "$TMP/safe.txt"

# Tenant B holding A's output (token strings and all) gets nothing back.
"$PHIGATE" reid --tenant beta --scope conv-42 "${V[@]}" --allow-reidentify <"$TMP/safe.txt" \
  >"$TMP/out.txt"
check "reid: tenant beta cannot re-identify acme's tokens" same "$TMP/out.txt" "$TMP/safe.txt"

# Permission is explicit.
"$PHIGATE" reid --tenant acme --scope conv-42 "${V[@]}" <"$TMP/safe.txt" >"$TMP/out.txt" \
  2>"$TMP/err.txt"
check "reid without --allow-reidentify: refused (exit 1)" test $? -eq 1
check "reid without --allow-reidentify: no output" test ! -s "$TMP/out.txt"
check "reid without --allow-reidentify: says why" contains "$TMP/err.txt" "--allow-reidentify"

# Model-style mangling: lower case, lost brackets.
sed -E 's/\[([A-Z]+_[2-9A-Z]{5})\]/\1/; s/\[(DATE_[2-9A-Z]{5})\]/[\L\1]/' "$TMP/safe.txt" >"$TMP/mangled.txt"
"$PHIGATE" reid --tenant acme --scope conv-42 "${V[@]}" --allow-reidentify <"$TMP/mangled.txt" \
  >"$TMP/out.txt"
check "reid: mangled tokens restored" same "$TMP/out.txt" "$TMP/note.txt"

# --- surrogate mode (default scope: the tenant), reid with the default scope too
"$PHIGATE" deid --mode surrogate --tenant acme "${V[@]}" <"$TMP/note.txt" >"$TMP/sur.txt" \
  2>"$TMP/err.txt"
check "surrogate: exit 0" test $? -eq 0
for v in "3/14/2024" "4429871" "617-555-0199" "jo.doe@example.com"; do
  check "surrogate: '$v' replaced" lacks "$TMP/sur.txt" "$v"
done
check "surrogate: no bracketed tokens" lacks "$TMP/sur.txt" "["
check "surrogate: non-PHI kept" contains "$TMP/sur.txt" "called back on"
"$PHIGATE" reid --tenant acme "${V[@]}" --allow-reidentify <"$TMP/sur.txt" >"$TMP/back.txt"
check "surrogate round trip: reid(deid(note)) == note" same "$TMP/back.txt" "$TMP/note.txt"
"$PHIGATE" reid --tenant beta "${V[@]}" --allow-reidentify <"$TMP/sur.txt" >"$TMP/out.txt"
check "surrogate: tenant beta gets the surrogates unchanged" same "$TMP/out.txt" "$TMP/sur.txt"

# --- JSONL records
python3 - "$TMP/in.jsonl" <<'EOF'
import json, sys
notes = ["Pt Qorvin Abelstam seen 3/14/2024, MRN 4429871.",
         "Call 617-555-0199 or write to jo.doe@example.com about MRN 4429871.",
         "No identifiers here."]
with open(sys.argv[1], "w") as f:
    for i, t in enumerate(notes):
        f.write(json.dumps({"id": i, "text": t}) + "\n")
EOF
"$PHIGATE" deid --jsonl --mode tokenize --tenant acme --scope conv-j "${V[@]}" <"$TMP/in.jsonl" \
  >"$TMP/out.jsonl"
check "jsonl: exit 0" test $? -eq 0
check "jsonl: MRN tokenized" lacks "$TMP/out.jsonl" "4429871"
python3 - "$TMP/in.jsonl" "$TMP/out.jsonl" "$TMP/jtexts" <<'EOF'
import json, os, sys
ins = [json.loads(l) for l in open(sys.argv[1])]
outs = [json.loads(l) for l in open(sys.argv[2])]
assert [o["id"] for o in outs] == [i["id"] for i in ins]
os.makedirs(sys.argv[3])
for i, o in zip(ins, outs):
    open(f"{sys.argv[3]}/{i['id']}.in", "w").write(i["text"])
    open(f"{sys.argv[3]}/{i['id']}.out", "w").write(o["text"])
EOF
check "jsonl: one record out per record in" test $? -eq 0
all_ok=0
for f in "$TMP"/jtexts/*.out; do
  "$PHIGATE" reid --tenant acme --scope conv-j "${V[@]}" --allow-reidentify <"$f" >"$f.back"
  same "$f.back" "${f%.out}.in" || all_ok=1
done
check "jsonl: every record round-trips" test "$all_ok" -eq 0

# --- a folder
mkdir -p "$TMP/notes/sub"
cp "$TMP/note.txt" "$TMP/notes/a.txt"
printf 'Seen 3/14/2024; MRN 4429871.\n' >"$TMP/notes/sub/b.txt"
"$PHIGATE" deid "$TMP/notes" --out "$TMP/safe-notes" --mode tokenize --tenant acme \
  --scope conv-f "${V[@]}" 2>"$TMP/err.txt"
check "folder: exit 0" test $? -eq 0
check "folder: manifest names the mode" python3 -c "
import json; m = json.load(open('$TMP/safe-notes/manifest.json'))
assert m['transform']['mode'] == 'tokenize' and m['transform']['scope'] == 'conv-f'
assert m['totals']['ok'] == 2, m['totals']"
check "folder: MRN tokenized" lacks "$TMP/safe-notes/sub/b.txt" "4429871"
"$PHIGATE" reid --tenant acme --scope conv-f "${V[@]}" --allow-reidentify \
  <"$TMP/safe-notes/sub/b.txt" >"$TMP/out.txt"
check "folder: round trip" same "$TMP/out.txt" "$TMP/notes/sub/b.txt"

# --- many records on three threads: the scans run on every thread, the vault
# batches (256 texts each in tokenize mode) one at a time in input order. A
# second run on one thread in the same
# scope finds every value already tokenized, so it writes the same bytes only if
# the first gave each value one token; and every record round-trips.
"$PHIGATE" synth --notes 300 --seed 31 >"$TMP/many.jsonl"
"$PHIGATE" deid --jsonl --jobs 3 --mode tokenize --tenant acme --scope conv-m "${V[@]}" \
  <"$TMP/many.jsonl" >"$TMP/many3.jsonl" 2>"$TMP/err.txt"
check "threads: exit 0" test $? -eq 0
check "threads: stderr empty" test ! -s "$TMP/err.txt"
"$PHIGATE" deid --jsonl --jobs 1 --mode tokenize --tenant acme --scope conv-m "${V[@]}" \
  <"$TMP/many.jsonl" >"$TMP/many1.jsonl"
check "threads: three threads write what one writes" same "$TMP/many3.jsonl" "$TMP/many1.jsonl"
python3 - "$TMP/many.jsonl" "$TMP/many3.jsonl" "$TMP/many" <<'EOF2'
import json, sys
ins = [json.loads(l) for l in open(sys.argv[1])]
outs = [json.loads(l) for l in open(sys.argv[2])]
assert [o["id"] for o in outs] == [i["id"] for i in ins] and len(ins) == 300
sep = "\n=====\n"
open(sys.argv[3] + ".in", "w").write(sep.join(i["text"] for i in ins))
open(sys.argv[3] + ".out", "w").write(sep.join(o["text"] for o in outs))
assert sum(len(o["spans"]) for o in outs) > 2500
EOF2
check "threads: records in input order" test $? -eq 0
"$PHIGATE" reid --tenant acme --scope conv-m "${V[@]}" --allow-reidentify <"$TMP/many.out" \
  >"$TMP/many.back"
check "threads: every record round-trips" same "$TMP/many.back" "$TMP/many.in"
python3 - "$TMP/many.jsonl" "$TMP/many.csv" <<'EOF2'
import csv, json, sys
w = csv.writer(open(sys.argv[2], "w", newline=""))
w.writerow(["id", "note", "first_line"])
for l in open(sys.argv[1]):
    r = json.loads(l)
    w.writerow([r["id"], r["text"], r["text"].split("\n")[0]])
EOF2
for j in 1 3; do
  "$PHIGATE" deid --csv --jobs $j --keep-columns id --mode tokenize --tenant acme --scope conv-m \
    "${V[@]}" <"$TMP/many.csv" >"$TMP/many$j.csv"
done
check "threads: CSV fields in the scope, the same on three threads as on one" same \
  "$TMP/many3.csv" "$TMP/many1.csv"

# Surrogate mode batches the same way (256 records per transaction): three
# threads, then one in the same scope, write the same bytes, in input order.
for j in 3 1; do
  "$PHIGATE" deid --jsonl --jobs $j --mode surrogate --tenant acme --scope conv-s "${V[@]}" \
    <"$TMP/many.jsonl" >"$TMP/sur$j.jsonl" 2>"$TMP/err.txt"
  check "threads: surrogate, --jobs $j: exit 0, stderr empty" test $? -eq 0 -a ! -s "$TMP/err.txt"
done
check "threads: surrogate, three threads write what one writes" same "$TMP/sur3.jsonl" \
  "$TMP/sur1.jsonl"
python3 - "$TMP/many.jsonl" "$TMP/sur3.jsonl" <<'EOF2'
import json, sys
ins = [json.loads(l) for l in open(sys.argv[1])]
outs = [json.loads(l) for l in open(sys.argv[2])]
assert [o["id"] for o in outs] == [i["id"] for i in ins] and len(ins) == 300
changed = sum(o["text"] != i["text"] for i, o in zip(ins, outs))
assert changed > 290, changed
EOF2
check "threads: surrogate records in input order, de-identified" test $? -eq 0

# --- a folder of many small files on three threads: scanned on every thread,
# replaced one file at a time in input order, so three threads write what one
# writes in the same scope, file for file; and the files round-trip.
mkdir -p "$TMP/small"
python3 - "$TMP/many.jsonl" "$TMP/small" <<'EOF2'
import json, sys
for k, l in enumerate(open(sys.argv[1])):
    if k == 60:
        break
    open("%s/note%03d.txt" % (sys.argv[2], k), "w").write(json.loads(l)["text"])
EOF2
for j in 3 1; do
  "$PHIGATE" deid "$TMP/small" --out "$TMP/small$j" --jobs $j --no-progress --mode tokenize \
    --tenant acme --scope conv-f "${V[@]}" 2>"$TMP/err.txt"
  check "folder threads: --jobs $j: exit 0" test $? -eq 0
  check "folder threads: --jobs $j: 60 files, none failed" contains "$TMP/err.txt" \
    "60 files de-identified, 0 failed"
done
check "folder threads: three threads write what one writes" diff -r -x manifest.json \
  "$TMP/small3" "$TMP/small1"
check "folder threads: 60 outputs" test "$(ls "$TMP/small3"/note*.txt | wc -l)" -eq 60
all_ok=0
for f in "$TMP/small"/note*.txt; do
  "$PHIGATE" reid --tenant acme --scope conv-f "${V[@]}" --allow-reidentify \
    <"$TMP/small3/$(basename "$f")" >"$TMP/out.txt"
  cmp -s "$TMP/out.txt" "$f" || all_ok=1
done
check "folder threads: every file round-trips" test "$all_ok" -eq 0

# The same batch path with a binary file and one with invalid UTF-8 among the
# small files: what one file at a time gives (the binary refused, the others
# written, U+FFFD for the bad byte).
mkdir -p "$TMP/mixed"
cp "$TMP/small/note000.txt" "$TMP/small/note001.txt" "$TMP/mixed/"
head -c 3000 /dev/urandom >"$TMP/mixed/blob.bin"
printf 'Pt Qorvin Abelstam seen 3/14/2024, caf\xe9 au lait.\n' >"$TMP/mixed/latin1.txt"
"$PHIGATE" deid "$TMP/mixed" --out "$TMP/mixed.out" --jobs 2 --no-progress --mode surrogate \
  --tenant acme --scope conv-x "${V[@]}" 2>"$TMP/err.txt"
check "folder batch: a binary input fails the run (exit 1)" test $? -eq 1
check "folder batch: says which input looks binary" contains "$TMP/err.txt" "blob.bin: looks binary"
check "folder batch: no output for the binary input" test ! -e "$TMP/mixed.out/blob.bin"
check "folder batch: the other files written" test -s "$TMP/mixed.out/note001.txt" \
  -a -s "$TMP/mixed.out/latin1.txt"
check "folder batch: invalid UTF-8 reported" contains "$TMP/err.txt" \
  "latin1.txt: 1 invalid UTF-8 bytes replaced"
check "folder batch: U+FFFD written" grep -q $'\xef\xbf\xbd' "$TMP/mixed.out/latin1.txt"
check "folder batch: the name replaced" lacks "$TMP/mixed.out/latin1.txt" "Qorvin"
"$PHIGATE" deid "$TMP/mixed" --out "$TMP/mixed.skip" --skip-binary --no-progress \
  --mode surrogate --tenant acme --scope conv-x "${V[@]}" 2>"$TMP/err.txt"
check "folder batch: --skip-binary: exit 0" test $? -eq 0

# --- the vault database holds no value in clear
DB="$TMP/vault.db"
check "vault file exists" test -s "$DB"
for v in "${VALUES[@]}" "conv-42"; do
  check "vault files hold no '$v' in clear" bash -c "! cat '$DB'* | grep -a -q -F -- '$v'"
done

# --- usage and configuration errors
"$PHIGATE" deid --mode tokenize "${V[@]}" </dev/null >/dev/null 2>"$TMP/err.txt"
check "tokenize without --tenant: usage error (2)" test $? -eq 2
"$PHIGATE" deid --tenant acme </dev/null >/dev/null 2>"$TMP/err.txt"
check "--tenant with placeholders: usage error (2)" test $? -eq 2
env -u PHIGATE_MASTER_KEY "$PHIGATE" deid --mode tokenize --tenant acme "${V[@]}" \
  <"$TMP/note.txt" >"$TMP/out.txt" 2>"$TMP/err.txt"
check "no master key: exit 1" test $? -eq 1
check "no master key: no output" test ! -s "$TMP/out.txt"
check "no master key: says how to set one" contains "$TMP/err.txt" "PHIGATE_MASTER_KEY"
PHIGATE_MASTER_KEY="$("$PHIGATE" keys new-master)" "$PHIGATE" deid --mode tokenize --tenant acme \
  "${V[@]}" <"$TMP/note.txt" >"$TMP/out.txt" 2>"$TMP/err.txt"
check "wrong master key: refused" test $? -ne 0
check "wrong master key: no output" test ! -s "$TMP/out.txt"
check "wrong master key: no value in the message" lacks "$TMP/err.txt" "4429871"

finish
