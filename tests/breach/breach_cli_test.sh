#!/usr/bin/env bash
# `phigate breach` on the command line: the discovery date can be moved to the
# earlier day a workforce member knew (and only earlier), a breach cannot
# postdate its discovery, `list` shows the next notice still owed (not one
# already sent), and an incident that still owes a tracked notice (individuals,
# HHS) cannot be closed. No PHI: counts and dates only.
#   breach_cli_test.sh PHIGATE_BINARY
set -uo pipefail
BIN="$1"
DIR="$(mktemp -d)"
trap 'rm -rf "$DIR"' EXIT
export PHIGATE_MASTER_KEY="$("$BIN" keys new-master)"
S="sqlite://$DIR/incidents.db"
fail() { echo "FAIL: $*" >&2; exit 1; }

id=$("$BIN" breach new --store "$S" --tenant acme --title "t" --detected-on 2026-03-12) ||
  fail "breach new"
id=$(echo "$id" | grep -o 'INC-[0-9-]*' | head -1)
[ -n "$id" ] || fail "no incident id"

# Discovery moved earlier: every deadline moves with it (60 days after 03-02).
"$BIN" breach facts "$id" --store "$S" --state CA=3 --discovered 2026-03-02 >/dev/null ||
  fail "--discovered earlier refused"
"$BIN" breach plan "$id" --store "$S" >"$DIR/plan" || fail "plan"
grep -q "discovered 2026-03-02" "$DIR/plan" || fail "plan not from the new discovery: $(head -3 "$DIR/plan")"
grep -q "2026-05-01" "$DIR/plan" || fail "individual notice not due 60 days after 03-02"
# A determination between the new discovery and the detection is accepted now.
"$BIN" breach facts "$id" --store "$S" --determination 2026-03-05 >/dev/null ||
  fail "determination after the corrected discovery refused"

# Only earlier: a later discovery date is refused and changes nothing.
if "$BIN" breach facts "$id" --store "$S" --discovered 2026-03-20 >/dev/null 2>"$DIR/err"; then
  fail "--discovered after the first detection accepted"
fi
grep -q "only be moved earlier" "$DIR/err" || fail "unclear error: $(cat "$DIR/err")"
"$BIN" breach plan "$id" --store "$S" | grep -q "discovered 2026-03-02" || fail "refused change was saved"

# A breach after its discovery is refused.
if "$BIN" breach facts "$id" --store "$S" --breach-date 2026-04-30 >/dev/null 2>"$DIR/err"; then
  fail "--breach-date after discovery accepted"
fi
grep -q "after discovery" "$DIR/err" || fail "unclear error: $(cat "$DIR/err")"
"$BIN" breach facts "$id" --store "$S" --breach-date 2026-02-27 >/dev/null ||
  fail "--breach-date before discovery refused"

# Individuals notified: `list` shows the next open obligation (the HHS log,
# due 60 days after the end of the discovery year), not the sent notice.
"$BIN" breach facts "$id" --store "$S" --individual-notice-sent 2026-03-20 >/dev/null ||
  fail "individual notice date"
"$BIN" breach list --store "$S" --tenant acme --today 2026-04-15 >"$DIR/list" || fail "list"
grep "$id" "$DIR/list" | grep -q "2027-03-01" ||
  fail "list does not show the HHS log as next due: $(cat "$DIR/list")"
grep "$id" "$DIR/list" | grep -q "2026-05-01" && fail "list shows the sent notice as next due"

# Closing while HHS has not been notified is refused; after, it closes.
"$BIN" breach assess "$id" --store "$S" --by officer --nature high --person high --acquired high \
  --mitigation low >/dev/null || fail "assess"
"$BIN" breach advance "$id" --store "$S" --to notified --by officer >/dev/null || fail "notified"
if "$BIN" breach advance "$id" --store "$S" --to closed --by officer >/dev/null 2>"$DIR/err"; then
  fail "closed while the HHS notice is unrecorded"
fi
grep -q "us-hipaa.hhs" "$DIR/err" || fail "the refusal does not name the HHS obligation: $(cat "$DIR/err")"
"$BIN" breach facts "$id" --store "$S" --hhs-notified 2026-04-20 >/dev/null || fail "hhs date"
"$BIN" breach advance "$id" --store "$S" --to closed --by officer >/dev/null 2>"$DIR/err" ||
  fail "not closed after every tracked notice was sent: $(cat "$DIR/err")"
# A time zone dates the detection: Dec 31 in New York (not Jan 1 UTC), also
# for a zone 14 hours ahead; an unknown zone is refused.
id2=$("$BIN" breach new --store "$S" --tenant acme --title "t2" --detected-on 2026-12-31 \
  --time-zone America/New_York | grep -o 'INC-[0-9-]*' | head -1) || fail "new --time-zone"
"$BIN" breach plan "$id2" --store "$S" | grep -q "discovered 2026-12-31" || fail "New York date"
id3=$("$BIN" breach new --store "$S" --tenant acme --title "t3" --detected-on 2026-12-31 \
  --time-zone Pacific/Kiritimati | grep -o 'INC-[0-9-]*' | head -1) || fail "new +14"
"$BIN" breach plan "$id3" --store "$S" | grep -q "discovered 2026-12-31" || fail "+14 date"
if "$BIN" breach new --store "$S" --tenant acme --title t --time-zone Mars/Olympus >/dev/null 2>&1; then
  fail "an unknown time zone accepted"
fi

# Master key rotation: the incidents sealed under the old key are read with it
# in PHIGATE_RETIRED_MASTER_KEYS; `reseal` moves them to the new key, after
# which the new key alone reads them.
OLD="$PHIGATE_MASTER_KEY"
NEW="$("$BIN" keys new-master)"
if PHIGATE_MASTER_KEY="$NEW" "$BIN" breach list --store "$S" --tenant acme >/dev/null 2>"$DIR/err"; then
  fail "the new key alone read records sealed under the old one"
fi
grep -q "retired" "$DIR/err" || fail "unclear error: $(cat "$DIR/err")"
PHIGATE_MASTER_KEY="$NEW" PHIGATE_RETIRED_MASTER_KEYS="$OLD" \
  "$BIN" breach list --store "$S" --tenant acme --all >"$DIR/rotated" || fail "list with a retired key"
grep -q "$id3" "$DIR/rotated" || fail "an incident is missing after the rotation"
PHIGATE_MASTER_KEY="$NEW" PHIGATE_RETIRED_MASTER_KEYS="$OLD" \
  "$BIN" breach reseal --store "$S" --tenant acme >"$DIR/out" || fail "reseal"
grep -q "3 incident records sealed" "$DIR/out" || fail "reseal: $(cat "$DIR/out")"
PHIGATE_MASTER_KEY="$NEW" "$BIN" breach list --store "$S" --tenant acme --all >"$DIR/after" ||
  fail "the new key alone does not read the resealed records"
cmp -s "$DIR/rotated" "$DIR/after" || fail "reseal changed what list shows"
if "$BIN" breach list --store "$S" --tenant acme >/dev/null 2>&1; then
  fail "the retired key still reads resealed records"
fi
echo "breach cli OK"
