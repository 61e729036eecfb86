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
# Typos are usage errors, not another format or an empty report.
if "$BIN" audit disclosures --store "sqlite://$DIR/empty.db" --tenant acme --patient "MRN 1" \
    --format csv >/dev/null 2>&1; then
  fail "disclosures --format csv accepted"
fi
"$BIN" audit export --store "sqlite://$DIR/empty.db" --tenant acme --format markdown >/dev/null 2>&1
[ $? -eq 2 ] || fail "export --format markdown not a usage error"
DEMO="$(cd "$(dirname "$0")/../.." && pwd)/config/demo.yaml"
"$BIN" report dataflow "$DEMO" --tenant acmee --out "$DIR/df" --no-svg >/dev/null 2>"$DIR/err"
[ $? -eq 2 ] || fail "report dataflow --tenant acmee not a usage error"
grep -q "no such tenant" "$DIR/err" || fail "unclear error: $(cat "$DIR/err")"
[ ! -e "$DIR/df/dataflow.md" ] || fail "a report was written for an unknown tenant"
"$BIN" report dataflow "$DEMO" --tenant acme --out "$DIR/df" --no-svg >/dev/null ||
  fail "report dataflow for tenant acme"
grep -q "acme" "$DIR/df/dataflow.md" || fail "the report does not name tenant acme"
echo "audit cli OK"
