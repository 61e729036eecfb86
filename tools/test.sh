#!/usr/bin/env bash
# Builds and runs every test: the README's second command, and what .ci/run calls.
#   1. installs the Debian packages (tools/install-deps.sh) and the npm test clients;
#   2. starts a real PostgreSQL server for the scale-out tests;
#   3. gcc build with warnings as errors, all tests (ctest);
#   4. clang ASan+UBSan build (UBSan's `function` check everywhere but in the
#      gateway's coroutine code, see cmake/phigate.cmake), all tests but the
#      slow one, the gateway and its end-to-end tests included, and a
#      fixed-time run of every libFuzzer target;
#   5. clang-format check.
# Set PHIGATE_TEST_QUICK=1 to skip the sanitizer build (local iteration only).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
JOBS="${JOBS:-$(nproc)}"

bash tools/install-deps.sh
if [ -f tests/e2e/package.json ]; then
  (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
fi
PHIGATE_TEST_PG_URL="$(bash tools/start-postgres.sh | tail -n 1)"
export PHIGATE_TEST_PG_URL

echo "== gcc build (warnings as errors) and tests"
# Line tables only (-g1): backtraces keep file and line, and gcc compiles the
# project about a third faster than with full debug information (-g).
DBG_FLAGS="-O2 -g1 -DNDEBUG"
cmake -S . -B build/ci-gcc -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPHIGATE_WERROR=ON \
  -DCMAKE_CXX_COMPILER=g++ -DCMAKE_C_COMPILER=gcc \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$DBG_FLAGS" -DCMAKE_C_FLAGS_RELWITHDEBINFO="$DBG_FLAGS" >/dev/null
ninja -C build/ci-gcc -j "$JOBS"
(cd build/ci-gcc && ctest -j "$JOBS" --output-on-failure --timeout 900)

if [ "${PHIGATE_TEST_QUICK:-0}" != 1 ]; then
  echo "== clang ASan+UBSan build and tests"
  cmake -S . -B build/ci-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DPHIGATE_WERROR=ON \
    -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_C_COMPILER=clang-14 \
    -DPHIGATE_SANITIZE=address,undefined -DPHIGATE_BUILD_BENCHMARKS=OFF -DPHIGATE_BUILD_FUZZERS=ON \
    >/dev/null
  # Everything, the gateway and its end-to-end tests included (clang 14 builds
  # its coroutines: cmake/phigate.cmake), and a fixed-time libFuzzer run per fuzzer.
  ninja -C build/ci-asan -j "$JOBS"
  rm -rf build/ci-asan/fuzz/artifacts/*
  if ! (cd build/ci-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest -j "$JOBS" --output-on-failure --timeout 1200 -LE slow); then
    # A fuzzer's finding is lost with the CI machine: print each input so that
    # it can be replayed (base64 -d > fuzz/corpus/<name>/..., then the _replay test).
    for f in build/ci-asan/fuzz/artifacts/*; do
      [ -f "$f" ] || continue
      echo "== fuzzer artifact $(basename "$f") ($(stat -c %s "$f") bytes), base64:"
      head -c 262144 "$f" | base64 -w 0
      echo
    done
    exit 1
  fi
fi

echo "== clang-format"
bash tools/check-format.sh
echo "== all test stages passed"
