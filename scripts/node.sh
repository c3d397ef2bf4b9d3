# The Node package's part of scripts/test (sourced, not run): `node_suite` installs the npm
# dev tools from bindings-node/package-lock.json (better-sqlite3 and pg among them), builds the
# napi addon (release) and the JS bundle, runs the client scenarios (tests/scenarios), the JS
# suite (vectors, flow vectors, client against the emulator, leak probe, journeys on SQLite
# and PostgreSQL with 8 racing processes and a killed one, README examples from ESM and CJS),
# the TypeScript check, and the `npm pack` fresh-install check.
# Needs Node 20+ with npm, and cargo; PostgreSQL through IPROOV_TEST_POSTGRES_URL
# (scripts/postgres.sh; with IPROOV_TEST_REQUIRE_POSTGRES, as scripts/test sets it, the journey
# tests fail without it).

# node_package: the Node package's dev tools (npm ci when node_modules is older than the lock
# file), the napi addon and the JS bundle (dist/api.cjs; with the wasm fallback, dist/api-wasm.cjs,
# when the edge package is built: scripts/test and scripts/package build it first). The addon is
# a release build linked by zig against glibc 2.17, as it ships; with FAST set (scripts/test
# --fast), a dev build linked by the system's linker.
node_package() {
  [ -n "${FAST:-}" ] || ensure_tools_venv
  (
    cd bindings-node
    if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
      note "npm ci (dev tools: @napi-rs/cli, esbuild, typescript)"
      npm_install_quiet
    fi
    if [ -n "${FAST:-}" ]; then
      note "napi build --platform (the addon, a dev build) and the JS bundle"
      npx napi build --platform --js native.cjs --dts native.d.ts
    else
      note "napi build --platform --release (the addon, glibc 2.17 through zig) and the JS bundle"
      with_zig npx napi build --platform --release --js native.cjs --dts native.d.ts \
        -x --target x86_64-unknown-linux-gnu.2.17
    fi
    node scripts/build-js.mjs
  )
}

# js_suite LABEL DIR [CONCURRENCY]: the JS suite's files (DIR/*.test.mjs) under node --test (run_node_test:
# its skips checked under LABEL), the implementation as the caller's environment says
# (IPROOV_JS_IMPL, IPROOV_SANSIO_BACKEND): every file but journey-pg-restart.test.mjs, then that
# one alone (LABEL, PostgreSQL restart), since it crashes and restarts the PostgreSQL server the
# other files use. CONCURRENCY (default node's own: a core less than the machine has) is how
# many files run at once: the Node package's own run, which has the machine to itself, runs two
# on a 2-core machine (89-99 s against 129-148 s serial), the runs beside the Python steps keep one.
js_suite() {
  local label=$1 dir=$2 concurrency=${3:-} file files=()
  for file in "$dir"/*.test.mjs; do
    [[ $file == */journey-pg-restart.test.mjs ]] || files+=("$file")
  done
  run_node_test "$label" ${concurrency:+--test-concurrency="$concurrency"} "${files[@]}"
  run_node_test "$label, PostgreSQL restart" "$dir/journey-pg-restart.test.mjs"
}

node_suite() {
  step "Node package (bindings-node): build, JS suite (journeys on SQLite and PostgreSQL), types$([ -n "${FAST:-}" ] || echo ", pack check")"
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "node and npm not found: install Node.js 20 or newer" >&2
    return 1
  fi
  local major
  major="$(node -p 'process.versions.node.split(".")[0]')"
  if [ "$major" -lt 20 ]; then
    echo "Node $(node --version) is too old: the Node package needs Node 20 or newer" >&2
    return 1
  fi
  note "node $(node --version), npm $(npm --version)"

  note "the emulator binary for the integration tests (target/debug/iproov-emulator)"
  ensure_emulator

  node_package
  note "client scenarios (tests/scenarios) through the Node package's fetch client"
  node bindings-js/test/run-scenarios.mjs "node fetch"
  (
    cd bindings-node
    note "JS suite (node --test)"
    js_suite "node --test (Node package)" test 2
    note "TypeScript check of the typed usage samples (tsc --noEmit)"
    npx tsc -p test/types/tsconfig.json
    if [ -z "${FAST:-}" ]; then
      note "npm pack (the addon and the wasm fallback in it), install in a fresh directory, README quick start (ESM and CJS, and ESM with no addon) vs. the emulator"
      node scripts/pack-check.mjs
    fi
  )
}

# Run directly (bash scripts/node.sh) for the Node part alone: the edge build first (the
# package's wasm fallback is made from it), PostgreSQL, then the suite.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  cd "$(dirname "$0")/.."
  . scripts/lib.sh
  . scripts/postgres.sh
  . scripts/wasm.sh
  trap postgres_stop EXIT
  step "Edge package (bindings-wasm): the wasm build the Node package's fallback is made of"
  wasm_build
  step "PostgreSQL on loopback for the journey stores"
  postgres_start
  export IPROOV_TEST_REQUIRE_POSTGRES=1
  node_suite
fi
