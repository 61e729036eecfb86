#!/usr/bin/env bash
# Regenerates data/gazetteers/ from public sources: the npm packages pinned in
# tools/gazetteers/package-lock.json and Debian's wamerican word list.
#   bash tools/gazetteers/generate.sh [OUTDIR]
# Needs node/npm and the wamerican package (apt-get install wamerican).
set -euo pipefail
cd "$(dirname "$0")"
OUT="${1:-$PWD/../../data/gazetteers}"
if [ ! -r /usr/share/dict/american-english ]; then
  echo "generate.sh: /usr/share/dict/american-english missing: apt-get install wamerican" >&2
  exit 1
fi
npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
WAMERICAN_VERSION="$(dpkg-query -W -f='${Version}' wamerican 2>/dev/null || echo unknown)" \
  node generate.js "$OUT"
