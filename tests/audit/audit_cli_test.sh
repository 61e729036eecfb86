#!/usr/bin/env bash
# `phigate audit verify` must not say OK about nothing: a missing store is an
# error (and is not created), a tenant without a trail is an error.
#   audit_cli_test.sh PHIGATE_BINARY
set -uo pipefail
BIN="$1"
DIR="$(mktemp -d)"
trap 'rm -rf "$DIR"' EXIT
export PHIGATE_MASTER_KEY="$("$BIN" keys new-master)"
fail() { echo "FAIL: $*" >&2; exit 1; }

if "$BIN" audit verify --store "sqlite://$DIR/nothere.db" >"$DIR/out" 2>"$DIR/err"; then
  fail "verify of a missing store succeeded: $(cat "$DIR/out")"
fi
grep -q "no audit store" "$DIR/err" || fail "unclear error: $(cat "$DIR/err")"
[ ! -e "$DIR/nothere.db" ] || fail "verify created the missing store"
(cd "$DIR" && "$BIN" audit verify >/dev/null 2>&1) && fail "verify without --store succeeded"
[ ! -e "$DIR/phigate-audit.db" ] || fail "verify created phigate-audit.db"

# An existing (empty) store: a named tenant with no trail is an error.
python3 -c "import sqlite3; sqlite3.connect('$DIR/empty.db').execute('create table t(x)')"
if "$BIN" audit verify --store "sqlite://$DIR/empty.db" --tenant acme >"$DIR/out" 2>&1; then
  fail "verify of a tenant without a trail succeeded: $(cat "$DIR/out")"
fi
grep -q "no audit trail" "$DIR/out" || fail "unclear report: $(cat "$DIR/out")"
echo "audit cli OK"
