# The Node package's part of scripts/test (sourced, not run): `node_suite` installs the npm
# dev tools from bindings-node/package-lock.json (better-sqlite3 and pg among them), builds the
# napi addon (release) and the JS bundle, runs the client scenarios (tests/scenarios), the JS
# suite (vectors, flow vectors, client against the emulator, leak probe, journeys on SQLite
# and PostgreSQL with 8 racing processes and a killed one, README examples from ESM and CJS),
# the TypeScript check, and the `npm pack` fresh-install check.
# Needs Node 20+ with npm, and cargo; PostgreSQL through IPROOV_TEST_POSTGRES_URL
# (scripts/postgres.sh; the journey tests skip it when unset).

# node_package: the Node package's dev tools (npm ci when node_modules is older than the lock
# file), the napi addon (release) and the JS bundle (dist/api.cjs).
node_package() {
  ensure_tools_venv
  (
    cd bindings-node
    if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
      note "npm ci (dev tools: @napi-rs/cli, esbuild, typescript)"
      npm_install_quiet
    fi
    note "napi build --platform --release (the addon, glibc 2.17 through zig) and the JS bundle"
    with_zig npx napi build --platform --release --js native.cjs --dts native.d.ts \
      -x --target x86_64-unknown-linux-gnu.2.17
    node scripts/build-js.mjs
  )
}

# js_suite DIR: the JS suite's files (DIR/*.test.mjs) under node --test, the implementation as
# the caller's environment says (IPROOV_JS_IMPL, IPROOV_SANSIO_BACKEND): every file but
# journey-pg-restart.test.mjs, then that one alone, since it crashes and restarts the PostgreSQL
# server the other files use (node --test runs files side by side on a machine with more cores).
js_suite() {
  local dir=$1 file files=()
  for file in "$dir"/*.test.mjs; do
    [[ $file == */journey-pg-restart.test.mjs ]] || files+=("$file")
  done
  node --test "${files[@]}"
  node --test "$dir/journey-pg-restart.test.mjs"
}

node_suite() {
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
  cargo build -p iproov-emulator --locked

  node_package
  note "client scenarios (tests/scenarios) through the Node package's fetch client"
  node bindings-js/test/run-scenarios.mjs "node fetch"
  (
    cd bindings-node
    note "JS suite (node --test)"
    js_suite test
    note "TypeScript check of the typed usage samples (tsc --noEmit)"
    npx tsc -p test/types/tsconfig.json
    note "npm pack, install in a fresh directory, README quick start (ESM and CJS) vs. the emulator"
    node scripts/pack-check.mjs
  )
}

# Run directly (bash scripts/node.sh) for the Node part alone.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  cd "$(dirname "$0")/.."
  . scripts/lib.sh
  . scripts/postgres.sh
  step "PostgreSQL on loopback for the journey stores"
  postgres_start
  trap postgres_stop EXIT
  export IPROOV_TEST_REQUIRE_POSTGRES=1
  step "Node package (bindings-node): build, JS suite, types, pack check"
  node_suite
fi
