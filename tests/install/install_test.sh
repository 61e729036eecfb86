#!/usr/bin/env bash
# The installed phigate (docs/install.md): `cmake --install` into a prefix,
# the prefix moved elsewhere, and the .deb that `cpack` makes, unpacked. Each
# installed program must read the files installed beside it (data, model,
# templates, lexicon snapshot), not the source or build tree, and
# de-identify exactly as the build tree's program does. Notes come from the
# project's generator. A program outside the tree builds against the
# installed library (find_package(phigate)) and de-identifies the same way.
#   install_test.sh BUILD_DIR PHIGATE_BINARY CMAKE CPACK CXX [SANITIZER_FLAGS]
set -uo pipefail
BUILD="$1"
PHIGATE="$2"
CMAKE="$3"
CPACK="$4"
CXX="$5"
SANITIZE="${6:-}"  # the build's -fsanitize= flags, which the library's objects need at link
HERE="$(cd "$(dirname "$0")" && pwd)"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
source "$HERE/../testing/checks.sh"

# The build tree's program: the reference output.
"$PHIGATE" synth --notes 30 --seed 11 --format text >"$TMP/notes.txt"
"$PHIGATE" deid --engine both <"$TMP/notes.txt" >"$TMP/want-both.txt"
"$PHIGATE" deid --engine rules <"$TMP/notes.txt" >"$TMP/want-rules.txt"
check "reference: notes were written" test -s "$TMP/notes.txt"
check "reference: deid changed them" bash -c "! cmp -s '$TMP/notes.txt' '$TMP/want-both.txt'"
"$PHIGATE" paths >"$TMP/build-paths.txt"
check "build tree: not an installed program" has_line "$TMP/build-paths.txt" "installed=no"

# Every installed program below: what paths reports, that --check loads every
# file (the lexicon from the installed snapshot), and the same output.
# The environment variables that would point it elsewhere are cleared.
installed_program() {  # label, program, share folder
  local label="$1" bin="$2" share="$3"
  env -u PHIGATE_DATA_DIR -u PHIGATE_MODEL -u PHIGATE_TEMPLATE_DIR -u PHIGATE_LEXICON_SNAPSHOT \
    "$bin" paths --check >"$TMP/paths.txt" 2>"$TMP/paths.err"
  check "$label: paths --check exit 0" test $? -eq 0
  check "$label: installed tree" has_line "$TMP/paths.txt" "installed=$share"
  check "$label: data" has_line "$TMP/paths.txt" "data_dir=$share/data"
  check "$label: model" has_line "$TMP/paths.txt" "model=$share/models/phigate_tagger.bin"
  check "$label: templates" has_line "$TMP/paths.txt" "templates=$share/templates/breach"
  check "$label: snapshot" has_line "$TMP/paths.txt" "lexicon_snapshot=$share/lexicon.snapshot"
  check "$label: lexicon from the snapshot" \
    has_line "$TMP/paths.txt" "check.lexicon=ok (from the snapshot)"
  check "$label: breach rules load" has_line "$TMP/paths.txt" "check.breach_rules=ok"
  check "$label: model loads" has_line "$TMP/paths.txt" "check.model=ok"
  check "$label: templates found" has_line "$TMP/paths.txt" "check.templates=ok"
  env -u PHIGATE_DATA_DIR -u PHIGATE_MODEL -u PHIGATE_TEMPLATE_DIR -u PHIGATE_LEXICON_SNAPSHOT \
    "$bin" deid --engine both <"$TMP/notes.txt" >"$TMP/got.txt"
  check "$label: deid exit 0" test $? -eq 0
  check "$label: same output as the build tree's program" cmp -s "$TMP/want-both.txt" "$TMP/got.txt"
}

# --- cmake --install, then the prefix moved
"$CMAKE" --install "$BUILD" --prefix "$TMP/prefix" >"$TMP/install.log" 2>&1
check "cmake --install exit 0" test $? -eq 0

# The systemd unit (packaging/systemd/phigate.service.in): written for the
# prefix installed to, accepted by systemd-analyze, and its commands work as
# systemd would run them — ExecStart in the state directory with the
# environment file's variables serves (its SQLite store lands in that
# directory), ExecReload makes it re-read the policy, SIGTERM stops it with
# exit 0. (The sandboxing directives need a running systemd: not run here.)
UNIT="$TMP/prefix/lib/systemd/system/phigate.service"
check "unit: installed" test -s "$UNIT"
check "unit: ExecStart names the installed program" \
  has_line "$UNIT" "ExecStart=$TMP/prefix/bin/phigate serve --config /etc/phigate/phigate.yaml"
check "unit: documentation link names the installed docs" \
  has_line "$UNIT" "Documentation=file://$TMP/prefix/share/doc/phigate/install.md"
if command -v systemd-analyze >/dev/null 2>&1; then
  systemd-analyze verify "$UNIT" >"$TMP/verify.txt" 2>&1
  check "unit: systemd-analyze verify exit 0" test $? -eq 0
  check "unit: systemd-analyze verify has no complaint" test ! -s "$TMP/verify.txt"
  sed -n '1,20p' "$TMP/verify.txt"
else
  echo "skip unit: systemd-analyze verify (no systemd-analyze on this machine)"
fi

unit_value() { sed -n "s/^$1=//p" "$UNIT" | head -n 1; }  # key
# The port a server started in the background prints (up to 60 s: the engine
# loads at start). When none comes, its log's head goes to stderr, the server
# is stopped and the port is empty.
wait_port() {  # pid, its log, a sed expression printing the port
  local port=""
  for _ in $(seq 1 600); do
    port="$(sed -n "$3" "$2")"
    [ -n "$port" ] && break
    kill -0 "$1" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$port" ]; then
    sed -n '1,20p' "$2" >&2
    kill "$1" 2>/dev/null
  fi
  echo "$port"
}
service_commands() {
  local state="$TMP/state" conf="$TMP/etc/phigate.yaml" envfile="$TMP/etc/phigate.env"
  mkdir -p "$state" "$TMP/etc"
  { cat "$TMP/prefix/share/phigate/config/demo.yaml"; printf 'server:\n  listen: 127.0.0.1:0\n'; } \
    >"$conf"
  printf 'PHIGATE_MASTER_KEY=%s\n' "$(openssl rand -hex 32)" >"$envfile"
  check "unit: working directory is the state directory" \
    test "$(unit_value WorkingDirectory)" = "%S/phigate"
  check "unit: reads the environment file" \
    test "$(unit_value EnvironmentFile)" = "-/etc/phigate/phigate.env"
  local start
  start="$(unit_value ExecStart)"
  start="${start//\/etc\/phigate\/phigate.yaml/$conf}"
  # shellcheck disable=SC2086 # the unit's command line, split as systemd splits it
  (cd "$state" && exec env -i PATH=/usr/bin:/bin $(cat "$envfile") $start) 2>"$TMP/serve.err" &
  local pid=$! port
  port="$(wait_port "$pid" "$TMP/serve.err" \
    's/^phigate serve: listening on 127.0.0.1:\([0-9]*\) .*/\1/p')"
  check "ExecStart: serves" test -n "$port"
  [ -n "$port" ] || return
  check "ExecStart: ready" curl -sf -o /dev/null "http://127.0.0.1:$port/readyz"
  check "ExecStart: its store is in the state directory" test -s "$state/phigate.db"
  local reload
  reload="$(unit_value ExecReload)"
  ${reload//\$MAINPID/$pid}
  for _ in $(seq 1 100); do
    grep -q "policy reloaded" "$TMP/serve.err" && break
    sleep 0.1
  done
  check "ExecReload: the policy is read again" grep -q "policy reloaded" "$TMP/serve.err"
  check "ExecReload: still serving" curl -sf -o /dev/null "http://127.0.0.1:$port/healthz"
  check "KillSignal is SIGTERM" test "$(unit_value KillSignal)" = SIGTERM
  kill -TERM "$pid"
  wait "$pid"
  check "SIGTERM: exit 0" test $? -eq 0
  check "SIGTERM: stopped cleanly" grep -q "phigate serve: stopped" "$TMP/serve.err"
}
service_commands
mv "$TMP/prefix" "$TMP/moved"
check "installed program exists" test -x "$TMP/moved/bin/phigate"
installed_program "moved prefix" "$TMP/moved/bin/phigate" "$TMP/moved/share/phigate"
check "the docs are installed" test -s "$TMP/moved/share/doc/phigate/install.md"
check "the demo config is installed" test -s "$TMP/moved/share/phigate/config/demo.yaml"

# The installed library: a program of its own, built with find_package(phigate)
# against the prefix and installed beside phigate, de-identifies as
# `phigate deid --engine rules` does.
library_program() {  # label, prefix
  local label="$1" prefix="$2" build="$TMP/consumer-${1// /-}"
  "$CMAKE" -S "$HERE/consumer" -B "$build" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_CXX_COMPILER="$CXX" \
    -DCMAKE_CXX_FLAGS="$SANITIZE" -DCMAKE_EXE_LINKER_FLAGS="$SANITIZE" >"$build.log" 2>&1
  check "$label library: find_package(phigate) configures" test $? -eq 0
  "$CMAKE" --build "$build" >>"$build.log" 2>&1
  check "$label library: the program builds and links" test $? -eq 0
  check "$label library: linked the installed archives" \
    grep -q "$prefix/lib/libphigate_detect.a" "$build/CMakeFiles/deid_consumer.dir/link.txt"
  if [ ! -x "$build/deid_consumer" ]; then
    bad "$label library: no program to run"
    sed -n '1,60p' "$build.log"
    return
  fi
  cp "$build/deid_consumer" "$prefix/bin/"
  env -u PHIGATE_DATA_DIR "$prefix/bin/deid_consumer" paths >"$build.paths"
  check "$label library: finds the installed tree" \
    has_line "$build.paths" "installed=$prefix/share/phigate"
  env -u PHIGATE_DATA_DIR -u PHIGATE_LEXICON_SNAPSHOT \
    "$prefix/bin/deid_consumer" <"$TMP/notes.txt" >"$build.out"
  check "$label library: exit 0" test $? -eq 0
  check "$label library: same output as phigate deid --engine rules" \
    cmp -s "$TMP/want-rules.txt" "$build.out"
  # The policy module (yaml-cpp behind it) on the installed demo policy: a
  # model its BAA names is allowed; an unknown user is not.
  local demo="$prefix/share/phigate/config/demo.yaml"
  "$prefix/bin/deid_consumer" policy "$demo" dr-demo gpt-4o >"$build.policy"
  check "$label library: policy allows a BAA-covered model" \
    has_line "$build.policy" "allowed=1 baa_covered=1"
  "$prefix/bin/deid_consumer" policy "$demo" nobody gpt-4o >"$build.policy"
  check "$label library: policy denies an unknown user" \
    grep -q "^allowed=0" "$build.policy"
  # The gateway module (Boost.Beast, OpenSSL, simdjson, SQLite behind it): the
  # program embeds the gateway as `phigate serve` wires it, on the installed
  # demo policy and a store of its own; ready, refusing a request without an
  # API key in the API's own error format, and stopping cleanly on SIGTERM.
  PHIGATE_MASTER_KEY="$(openssl rand -hex 32)" \
    "$prefix/bin/deid_consumer" serve "$demo" "sqlite://$build.db" >"$build.serve" 2>&1 &
  local pid=$! port
  port="$(wait_port "$pid" "$build.serve" 's/^port=//p')"
  check "$label library: the embedded gateway starts" test -n "$port"
  [ -n "$port" ] || return
  check "$label library: gateway ready" curl -sf -o /dev/null "http://127.0.0.1:$port/readyz"
  local code
  code="$(curl -s -o "$build.401" -w '%{http_code}' -X POST -H 'content-type: application/json' \
    -d '{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}' \
    "http://127.0.0.1:$port/v1/chat/completions")"
  check "$label library: gateway refuses a request without a key (401)" test "$code" = 401
  check "$label library: ... with an OpenAI-format error" grep -q '"error"' "$build.401"
  kill -TERM "$pid"
  wait "$pid"
  check "$label library: gateway stops with exit 0" test $? -eq 0
}
library_program "moved prefix" "$TMP/moved"

# An explicit variable still wins over the installed tree, and a folder that
# does not hold the files fails the check (exit 1) instead of loading others.
mkdir -p "$TMP/empty"
PHIGATE_DATA_DIR="$TMP/empty" "$TMP/moved/bin/phigate" paths --check >"$TMP/env.txt" 2>"$TMP/env.err"
check "PHIGATE_DATA_DIR over the installed tree: exit 1" test $? -eq 1
check "PHIGATE_DATA_DIR: reported" has_line "$TMP/env.txt" "data_dir=$TMP/empty"
check "PHIGATE_DATA_DIR: lexicon fails" grep -q "^check.lexicon=error" "$TMP/env.txt"
check "PHIGATE_DATA_DIR: breach rules fail" grep -q "^check.breach_rules=error" "$TMP/env.txt"
check "PHIGATE_DATA_DIR: the model still loads" has_line "$TMP/env.txt" "check.model=ok"
check "PHIGATE_DATA_DIR: error on stderr" grep -q "did not load" "$TMP/env.err"
PHIGATE_LEXICON_SNAPSHOT=none "$TMP/moved/bin/phigate" paths --check >"$TMP/none.txt"
check "PHIGATE_LEXICON_SNAPSHOT=none: built from the files" \
  has_line "$TMP/none.txt" "check.lexicon=ok (built from the data folder's files)"

# A program copied out of an installed tree finds nothing beside it: it falls
# back to the build tree, and says it is not installed.
mkdir -p "$TMP/loose"
cp "$TMP/moved/bin/phigate" "$TMP/loose/phigate"
"$TMP/loose/phigate" paths >"$TMP/loose.txt"
check "a program outside a tree: not installed" has_line "$TMP/loose.txt" "installed=no"

# --- the Debian package
"$CPACK" -G DEB -B "$TMP/pkg" --config "$BUILD/CPackConfig.cmake" >"$TMP/cpack.log" 2>&1
check "cpack exit 0" test $? -eq 0
DEB="$(ls "$TMP"/pkg/phigate_*.deb 2>/dev/null | head -n 1)"
DEV="$(ls "$TMP"/pkg/phigate-dev_*.deb 2>/dev/null | head -n 1)"
check "the program's .deb was written" test -n "$DEB"
check "the library's .deb was written" test -n "$DEV"
if [ -n "$DEB" ] && [ -n "$DEV" ]; then
  dpkg-deb -f "$DEB" Package Depends >"$TMP/control.txt"
  check "deb: package name" has_line "$TMP/control.txt" "Package: phigate"
  check "deb: depends on Hyperscan" grep -q "libhyperscan" "$TMP/control.txt"
  check "deb: depends on SQLite" grep -q "libsqlite3" "$TMP/control.txt"
  dpkg-deb -c "$DEB" | awk '{print $6}' >"$TMP/contents.txt"
  check "deb: program in /usr/bin" has_line "$TMP/contents.txt" "./usr/bin/phigate"
  check "deb: snapshot in /usr/share/phigate" \
    has_line "$TMP/contents.txt" "./usr/share/phigate/lexicon.snapshot"
  check "deb: no headers in the program's package" bash -c "! grep -q include/ '$TMP/contents.txt'"
  dpkg-deb -f "$DEV" Package Depends >"$TMP/dev-control.txt"
  check "dev deb: package name" has_line "$TMP/dev-control.txt" "Package: phigate-dev"
  check "dev deb: depends on the program's package" grep -q "phigate (= " "$TMP/dev-control.txt"
  dpkg-deb -c "$DEV" | awk '{print $6}' >"$TMP/dev-contents.txt"
  check "dev deb: headers" has_line "$TMP/dev-contents.txt" "./usr/include/phigate/detect/engine.h"
  check "dev deb: CMake package" \
    grep -q "^./usr/lib/.*cmake/phigate/phigateConfig.cmake$" "$TMP/dev-contents.txt"
  dpkg-deb -x "$DEB" "$TMP/root"
  installed_program "deb" "$TMP/root/usr/bin/phigate" "$TMP/root/usr/share/phigate"
  check "deb: systemd unit" \
    has_line "$TMP/contents.txt" "./usr/lib/systemd/system/phigate.service"
  check "deb: the unit runs /usr/bin/phigate, otherwise as the prefix install's" \
    cmp -s <(sed "s|$TMP/prefix|/usr|g" "$TMP/moved/lib/systemd/system/phigate.service") \
    "$TMP/root/usr/lib/systemd/system/phigate.service"
  check "deb: nothing in /etc (the configuration is the administrator's)" \
    bash -c "! grep -q '^./etc/' '$TMP/contents.txt'"
  dpkg-deb -x "$DEV" "$TMP/root"
  library_program "deb" "$TMP/root/usr"
fi

finish
