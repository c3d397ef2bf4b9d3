# The edge (wasm) build and tests, sourced by scripts/test and scripts/bench.
# Needs: scripts/lib.sh sourced first.

WASM_BINDGEN_VERSION=0.2.130   # must equal the `wasm-bindgen` pin in the root Cargo.toml
BINARYEN_VERSION=132.0.0       # Debian's binaryen 108 produces modules that fail to load
WASM_TARGET=wasm32-unknown-unknown
# Bytes, gzip -9: the build fails above this guard. Set just over the module's size as Debian's
# rustc-web builds it (191 244 bytes on 2026-12-07; 192 722 later that day with the journey
# service's token backoff, its spool replay rule, SQLite's settings in core's schema and core
# host's header pairs for Python; 193 525 with the telemetry levels, the health facts, the
# staleness limit kept on each attempt, core's store error for history/delete_expired,
# PostgreSQL's connection defaults and the token's reuse event; each time raised on purpose: BENCHMARKS.md "Edge module
# size and start"), so that growth is seen when it lands: raise it on purpose, with the
# figure, when a change needs the bytes. (Goal: 120 KB.) rustup's prebuilt std (no -Zbuild-std, no
# immediate-abort) makes a larger module that was never measured here: it keeps the old, loose guard.
WASM_GZIP_LIMIT=193600
WASM_GZIP_LIMIT_RUSTUP=307200
# SIMD (every engine the package targets has had it since 2021): core's scans of large frames
# (memchr) use it.
WASM_RUSTFLAGS="-C target-feature=+simd128"

# Compiles the wasm crate: rustup's wasm32 target when installed, else Debian's rustc-web
# with std built from source (see ../shared/toolchain-notes.md for why exactly this).
wasm_compile() {
  local targets
  targets=$(rustup target list --installed 2>/dev/null) || targets=""   # no rustup: Debian's path below
  if grep -qx "$WASM_TARGET" <<<"$targets"; then
    note "using rustup's $WASM_TARGET target"
    wasm_gzip_limit=$WASM_GZIP_LIMIT_RUSTUP
    RUSTFLAGS="$WASM_RUSTFLAGS" \
      cargo build --profile wasm-release --target "$WASM_TARGET" -p iproov-sansio-wasm \
      --target-dir target/wasm
  else
    if ! { [ -x /usr/bin/rustc ] && [ -d /usr/lib/rustlib/src/rust/library ] && command -v rust-lld >/dev/null; }; then
      note "installing Debian's rustc-web, cargo-web, rust-web-src and lld-22 (std for wasm32 from source)"
      apt_install rustc-web cargo-web rust-web-src lld-22
    fi
    note "using Debian's rustc-web with -Zbuild-std (std optimised for size, immediate-abort panics)"
    wasm_gzip_limit=$WASM_GZIP_LIMIT
    # std is built here anyway, so build it small: its panic machinery and formatting are a
    # good part of the module otherwise (a panic traps either way under panic = "abort").
    # -Zlocation-detail=none: no file/line/column strings for panics that can only trap
    # (0.4 KB gzip; measured in BENCHMARKS.md, "Edge module size and start").
    RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1 \
      RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none $WASM_RUSTFLAGS" \
      /usr/bin/cargo build --profile wasm-release -Zbuild-std=std,panic_abort \
      -Zbuild-std-features=optimize_for_size \
      --target "$WASM_TARGET" -p iproov-sansio-wasm --target-dir target/wasm
  fi
}

# wasm-bindgen, the CLI of the pinned version: only its `wasm-bindgen` binary, without the TLS
# its test runner downloads with, as a dev build. On a fresh machine this was the longest single
# build (148 s of a CI run as a default release install); measured here, the dev build took 114 s
# of CPU against 218 s for a release build of the same binary, and it writes the very same files
# (compared byte for byte on this crate's module), in 0.7 s instead of 0.2 s.
ensure_wasm_bindgen() {
  local version
  version=$(wasm-bindgen --version 2>/dev/null) || version=""
  if [ "${version#wasm-bindgen }" != "$WASM_BINDGEN_VERSION" ]; then
    note "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (its wasm-bindgen binary, a dev build: a minute or two, once)"
    cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --no-default-features --bin wasm-bindgen --debug
  fi
}

# Builds bindings-wasm/dist: the optimised .wasm, the wasm-bindgen glue and the bundled JS.
wasm_build() {
  ensure_wasm_bindgen
  if [ ! -f bindings-wasm/node_modules/.package-lock.json ] ||
    [ bindings-wasm/package-lock.json -nt bindings-wasm/node_modules/.package-lock.json ]; then
    note "npm ci (binaryen's wasm-opt, esbuild, workerd)"
    (cd bindings-wasm && npm_install_quiet)
  fi
  wasm_compile
  local raw=target/wasm/$WASM_TARGET/wasm-release/iproov_sansio_wasm.wasm
  rm -rf bindings-wasm/pkg && mkdir -p bindings-wasm/pkg
  wasm-bindgen --target web --out-dir bindings-wasm/pkg --out-name iproov_sansio_wasm "$raw"
  # -ocimfs 40: inline a function into its only caller only when it is small. Engines compile
  # wasm lazily, function by function, on first call; one giant dispatch function would make
  # a worker's first request compile every operation. (It also gzips ~12% smaller.) The
  # producers and target-features sections only describe the build.
  bindings-wasm/node_modules/.bin/wasm-opt -Oz -ocimfs 40 --strip-producers --strip-target-features \
    -o bindings-wasm/pkg/iproov_sansio_wasm_bg.wasm bindings-wasm/pkg/iproov_sansio_wasm_bg.wasm
  (cd bindings-wasm && node scripts/build.mjs)
  local size
  size=$(gzip -9c bindings-wasm/dist/iproov_sansio_wasm_bg.wasm | wc -c)
  note "wasm: $(wc -c < bindings-wasm/dist/iproov_sansio_wasm_bg.wasm) bytes, $size gzip"
  if [ "$size" -gt "$wasm_gzip_limit" ]; then
    echo "the gzip'd wasm is $size bytes, over the $wasm_gzip_limit-byte guard (WASM_GZIP_LIMIT in scripts/wasm.sh)" >&2
    return 1
  fi
}

# The edge package inside workerd, after wasm_build and node_suite (which builds the emulator
# and installs the Node package's tools): vectors, the client scenarios, a journey, the journey
# service on SQLite-backed Durable Objects, the README's workers and trap recovery.
wasm_suite() {
  step "Edge package: vectors, client scenarios, journey, journeys on Durable Objects, README workers, trap recovery inside workerd"
  (cd bindings-wasm && node test/workerd/run.mjs)
}

# wasm_node_suite: the client scenarios and the JS suite (journeys included) against the edge
# build in Node. No step of its own: scripts/test runs it beside the Python steps with
# wasm_fallback_suite (the fast lane, in its own step).
wasm_node_suite() {
  node bindings-js/test/run-scenarios.mjs "edge package in Node" bindings-wasm/dist/node.mjs
  IPROOV_JS_IMPL="$PWD/bindings-wasm/dist/node.mjs" js_suite "node --test (edge package in Node)" bindings-node/test
}

# wasm_fallback_suite: the Node package's own wasm entry (dist/api-wasm.cjs, bundled by its
# build-js.mjs from the edge build) under the Node package's API, forced: its stores, its http
# adapter, its testing helpers, which wasm_node_suite's edge package does not have. No step of
# its own: scripts/test runs it after wasm_node_suite beside the Python steps, on a PostgreSQL
# server of their own (the Python suite's crash-and-restart test stops the shared one).
wasm_fallback_suite() {
  IPROOV_SANSIO_BACKEND=wasm node bindings-js/test/run-scenarios.mjs "node package, wasm fallback"
  (cd bindings-node && IPROOV_SANSIO_BACKEND=wasm js_suite "node --test (Node package, wasm forced)" test)
}
