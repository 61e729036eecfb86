#!/usr/bin/env bash
# End-to-end check of the vault commands of the `phigate` binary (synthetic values only):
# tokenize -> reid round trip, permission flag, other tenant, rotate, purge, shred.
set -euo pipefail
BIN="$1"
DIR="$(mktemp -d)"
trap 'rm -rf "$DIR"' EXIT
STORE="sqlite://$DIR/v.db"
export PHIGATE_MASTER_KEY="$("$BIN" keys new-master)"
fail() { echo "FAIL: $*" >&2; exit 1; }

printf 'Qorvin Abelstam\n555-010-0199\n' |
  "$BIN" vault tokenize --store "$STORE" --tenant acme --scope conv-42 --category NAME >"$DIR/toks"
T1="$(sed -n 1p "$DIR/toks")"; T2="$(sed -n 2p "$DIR/toks")"
[[ "$T1" =~ ^\[NAME_[2-9A-Z]{5}\]$ ]] || fail "token shape: $T1"
echo "Pt $T1 called from $T2; ${T1,,} again." >"$DIR/answer"

# Permission is required.
if "$BIN" reid --store "$STORE" --tenant acme --scope conv-42 <"$DIR/answer" >/dev/null 2>&1; then
  fail "reid without --allow-reidentify succeeded"
fi
OUT="$("$BIN" reid --store "$STORE" --tenant acme --scope conv-42 --allow-reidentify <"$DIR/answer")"
[ "$OUT" = "Pt Qorvin Abelstam called from 555-010-0199; Qorvin Abelstam again." ] || fail "reid: $OUT"

# Another tenant or scope gets the tokens back unchanged; a tenant without a
# vault (a typo) is told so and gets no keys made for it.
OUT="$("$BIN" reid --store "$STORE" --tenant beta --scope conv-42 --allow-reidentify \
  <"$DIR/answer" 2>"$DIR/err")"
[ "$OUT" = "$(cat "$DIR/answer")" ] || fail "tenant beta resolved acme's tokens"
grep -q "has no vault" "$DIR/err" || fail "no warning for a tenant without a vault"
if "$BIN" keys rotate --store "$STORE" --tenant beta >/dev/null 2>&1; then
  fail "reid created a vault for tenant beta"
fi
OUT="$("$BIN" reid --store "$STORE" --tenant acme --scope conv-43 --allow-reidentify <"$DIR/answer")"
[ "$OUT" = "$(cat "$DIR/answer")" ] || fail "scope conv-43 resolved conv-42's tokens"

# Rotation keeps tokens resolvable; the raw file holds no value in clear.
"$BIN" keys rotate --store "$STORE" --tenant acme --reencrypt >/dev/null
OUT="$("$BIN" reid --store "$STORE" --tenant acme --scope conv-42 --allow-reidentify <"$DIR/answer")"
[[ "$OUT" == *"Qorvin Abelstam"* ]] || fail "reid after rotation"
if cat "$DIR"/v.db* | grep -a -q "Qorvin"; then fail "value in clear in the database file"; fi

# A wrong master key is a clear error.
if PHIGATE_MASTER_KEY="$("$BIN" keys new-master)" "$BIN" reid --store "$STORE" --tenant acme \
    --scope conv-42 --allow-reidentify <"$DIR/answer" 2>"$DIR/err" >/dev/null; then
  fail "wrong master key accepted"
fi
grep -q "wrong master key" "$DIR/err" || fail "unclear wrong-key error: $(cat "$DIR/err")"

# Purge with a zero age removes everything; tokens stay as they are.
sleep 1.1  # purge removes values strictly older than the cut-off (second resolution)
"$BIN" vault purge --store "$STORE" --older-than 0s >/dev/null
OUT="$("$BIN" reid --store "$STORE" --tenant acme --scope conv-42 --allow-reidentify <"$DIR/answer")"
[ "$OUT" = "$(cat "$DIR/answer")" ] || fail "purged token resolved"

# Key management refuses a tenant or store that has no vault: a typo must not
# report "keys destroyed" (or create an empty database) while acme's data stays.
if "$BIN" keys shred --store "$STORE" --tenant acmee >/dev/null 2>"$DIR/err"; then
  fail "shred of a tenant without a vault succeeded"
fi
grep -q "has no vault" "$DIR/err" || fail "unclear error: $(cat "$DIR/err")"
if "$BIN" keys rotate --store "sqlite://$DIR/missing.db" --tenant acme >/dev/null 2>&1; then
  fail "rotate in a store that does not exist succeeded"
fi
[ ! -e "$DIR/missing.db" ] || fail "a missing store was created"

# Shred.
echo "Qorvin Abelstam" | "$BIN" vault tokenize --store "$STORE" --tenant acme --scope c --category NAME >/dev/null
"$BIN" keys shred --store "$STORE" --tenant acme >/dev/null

# Shredding needs no key that opens the tenant's keys: a tenant whose keys the
# master key cannot unwrap (left out of a rotation, or its key lost) is still
# destroyed, and its tokens resolve no more.
printf 'Zephyrine Quallsworth\n' |
  "$BIN" vault tokenize --store "$STORE" --tenant gamma --scope g --category NAME >"$DIR/gtok"
echo "Pt $(cat "$DIR/gtok")." >"$DIR/ganswer"
OUT="$("$BIN" reid --store "$STORE" --tenant gamma --scope g --allow-reidentify <"$DIR/ganswer")"
[[ "$OUT" == *"Zephyrine"* ]] || fail "gamma round trip: $OUT"
PHIGATE_MASTER_KEY="$("$BIN" keys new-master)" "$BIN" keys shred --store "$STORE" --tenant gamma \
  >/dev/null 2>"$DIR/err" || fail "shred with another master key failed: $(cat "$DIR/err")"
OUT="$("$BIN" reid --store "$STORE" --tenant gamma --scope g --allow-reidentify <"$DIR/ganswer" 2>/dev/null || true)"
[[ "$OUT" != *"Zephyrine"* ]] || fail "a shredded tenant's token resolved"
echo "cli round trip OK"
