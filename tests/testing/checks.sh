# The shell tests' assertions, sourced by tests/*/*_test.sh:
#   source "$(dirname "$0")/../testing/checks.sh"
#   check "name" COMMAND ARGS...   # passes when the command succeeds
#   finish                         # prints the totals; fails when a check failed
passed=0
failed=0

ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; }
check() {  # name, then a command that must succeed
  local name="$1"
  shift
  if "$@"; then ok "$name"; else bad "$name"; fi
}
contains() { grep -qF -- "$2" "$1"; }  # file, text
lacks() { ! grep -qF -- "$2" "$1"; }   # file, text
has_line() { grep -qxF -- "$2" "$1"; } # file, whole line
same() { cmp -s "$1" "$2"; }           # file, file

finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
