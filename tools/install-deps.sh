#!/usr/bin/env bash
# Installs every Debian package phigate needs to build, test and benchmark.
# Idempotent; safe to run on a fresh Debian 12 machine as root (or with sudo).
set -euo pipefail
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
PKGS=(
  build-essential cmake ninja-build pkg-config git python3
  clang-14 clang-format-14 libclang-rt-14-dev
  libhyperscan-dev libre2-dev libabsl-dev libssl-dev libsqlite3-dev sqlite3
  libpq-dev postgresql
  libboost-dev libboost-system-dev libyaml-cpp-dev libcli11-dev nlohmann-json3-dev libsimdjson-dev
  libcsv-dev zlib1g-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  tzdata wamerican hunspell-en-med wrk nginx-light libnginx-mod-http-js graphviz curl openssl libjemalloc-dev
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Node.js (for the SDK end-to-end tests) comes with its own npm on some images;
# Debian's npm conflicts with such a nodejs, so install Debian's only when absent.
if ! command -v npm >/dev/null; then
  $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
echo "install-deps: all packages present"
