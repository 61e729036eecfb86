#!/usr/bin/env bash
# Fails when a C++ file differs from clang-format-14's output (.clang-format).
set -euo pipefail
cd "$(dirname "$0")/.."
bad=0
while IFS= read -r f; do
  if ! clang-format-14 --dry-run --Werror "$f" >/dev/null 2>&1; then
    echo "needs clang-format: $f"
    bad=1
  fi
done < <(git ls-files -co --exclude-standard -- '*.cc' '*.h' '*.cpp')
exit $bad
