# The emulator for integrators' own tests (sourced by scripts/test after the Python and Node
# suites, whose iproov-sansio wheel and addon it reuses; `bash scripts/emulator-dist.sh`
# builds those first). It builds the `iproov-emulator` wheel (the binary, manylinux2014, and
# the pytest plugin) and npm package (the same binary), then proves them the way a user would
# meet them: in a project outside this repository, a fresh venv and a fresh npm install of the
# built files only (plus fastapi, httpx2, starlette, pytest and express from the registries,
# and bindings-node's better-sqlite3), run the FastAPI and Express examples of
# tests/emulator/TESTING.md (the journey endpoints on SQLite, behind a stand-in login) with
# their own tests, pytest and node --test. The plugin's own helper tests run in that venv too.

EMU_WHEELS=target/wheels-emulator

# emulator_wheel: target/wheels-emulator/iproov_emulator-*.whl, linked by zig against glibc
# 2.17 like the iproov-sansio wheel; its binary passes glibc_ok and auditwheel agrees with
# the tag. Its own target dir: in the shared one, this build and python_wheel's (maturin
# builds them with different settings) rebuilt each other's dependencies every time, 1.5 min
# and 1 min; apart, an unchanged emulator takes a second.
emulator_wheel() {
  ensure_tools_venv
  rm -rf "$EMU_WHEELS"
  with_zig "$PY" -m maturin build --release --locked --quiet -m tests/emulator/Cargo.toml --interpreter "$PY" \
    --zig --compatibility manylinux2014 --target-dir "$PWD/target/emulator-dist" --out "$EMU_WHEELS"
  EMU_WHEEL=$(ls "$EMU_WHEELS"/iproov_emulator-*.whl)
  local dir
  dir=$(mktemp -d)
  unzip -q "$EMU_WHEEL" -d "$dir"
  glibc_ok "$dir"/iproov_emulator-*.data/scripts/iproov-emulator || { rm -rf "$dir"; return 1; }
  rm -rf "$dir"
  local shown
  shown=$("$TOOLS_VENV/bin/auditwheel" show "$EMU_WHEEL" | tr '\n' ' ' |
    sed -n 's/.*consistent with the following platform tag: *"\([^"]*\)".*/\1/p')
  [[ $(basename "$EMU_WHEEL") == *"$shown"* && -n $shown ]] ||
    { echo "$(basename "$EMU_WHEEL"): auditwheel show says '$shown'" >&2; return 1; }
  note "$(basename "$EMU_WHEEL"): auditwheel show agrees: $shown"
}

# emulator_npm DEST [PLATFORM=WHEEL...]: packs the npm package iproov-emulator
# (tests/emulator/npm) into DEST with the binary of each WHEEL as PLATFORM's (node's
# `${process.platform}-${process.arch}`: linux-x64, darwin-arm64, win32-x64, ...); default: this
# machine's wheel, EMU_WHEEL, as linux-x64. EMU_TGZ is the tarball's path. The release workflow
# (.github/workflows/release-emulator.yml) packs every platform's wheel with it.
emulator_npm() {
  local stage=target/emulator-npm dest pair platform wheel
  rm -rf "$stage" && mkdir -p "$stage/bin" "$1"
  dest=$(cd "$1" && pwd)
  shift
  [ $# -gt 0 ] || set -- "linux-x64=$EMU_WHEEL"
  cp tests/emulator/npm/package.json tests/emulator/npm/index.cjs tests/emulator/npm/index.d.ts \
    tests/emulator/npm/README.md "$stage/"
  cp tests/emulator/npm/bin/iproov-emulator.cjs "$stage/bin/"
  for pair in "$@"; do
    platform=${pair%%=*} wheel=${pair#*=}
    mkdir -p "$stage/bin/$platform"
    unzip -q -j "$wheel" '*.data/scripts/iproov-emulator*' -d "$stage/bin/$platform"
    chmod 755 "$stage/bin/$platform"/iproov-emulator*
    [ "$(ls "$stage/bin/$platform" | wc -l)" = 1 ] || { echo "$wheel: not one emulator binary in it" >&2; return 1; }
  done
  EMU_TGZ=$dest/$(cd "$stage" && npm pack --silent --pack-destination "$dest")
  note "$(basename "$EMU_TGZ"): $(du -k "$EMU_TGZ" | cut -f1) KiB, binaries: ${*%%=*}"
}

# examples_from MARKDOWN DIR: writes every ```LANG file=NAME block of MARKDOWN to DIR/NAME and
# prints the names.
examples_from() {
  python3 - "$1" "$2" <<'EOF'
import pathlib, re, sys
text = pathlib.Path(sys.argv[1]).read_text(encoding="utf-8")
for name, code in re.findall(r"^```\w+ file=(\S+)\n(.*?)^```", text, flags=re.S | re.M):
    (pathlib.Path(sys.argv[2]) / name).write_text(code, encoding="utf-8")
    print(name)
EOF
}

# only_passed LOG COUNT: the runner's summary in LOG says COUNT passed, nothing failed or
# skipped (pytest -q's last line, or node --test's "# pass"/"# fail"/"# skipped").
only_passed() {
  local summary
  if grep -q '^# pass ' "$1"; then
    summary="$(sed -n 's/^# \(pass\|fail\|skipped\|todo\|cancelled\) \([0-9]*\)$/\1 \2/p' "$1" | tr '\n' ' ')"
    [[ $summary == "pass $2 fail 0 cancelled 0 skipped 0 todo 0 " ]] && { note "node --test: $summary"; return; }
  else
    summary=$(tail -n 1 "$1")
    [[ $summary =~ ^$2\ passed\ in\ [0-9.]+s ]] && { note "pytest: $summary"; return; }
  fi
  cat "$1" >&2
  echo "expected exactly $2 passed and nothing failed or skipped, got: $summary" >&2
  return 1
}

# passes LOG COUNT DIR COMMAND...: COMMAND, run in DIR, passes exactly COUNT tests (else its
# output goes to stderr).
passes() {
  local log=$1 count=$2 dir=$3
  shift 3
  if (cd "$dir" && "$@") >"$log" 2>&1; then
    only_passed "$log" "$count"
  else
    cat "$log" >&2
    return 1
  fi
}

# A subshell, for its own EXIT trap: the project outside the repo is removed however it ends.
emulator_dist_suite() (
  local started=$SECONDS repo=$PWD work app failed=0
  step "Emulator for users' tests: the iproov-emulator wheel (binary, pytest plugin) and npm package"
  emulator_wheel
  work=$(mktemp -d "${TMPDIR:-/tmp}/iproov-emulator-dist.XXXXXX")
  # shellcheck disable=SC2064 # the path is fixed now
  trap "rm -rf '$work'" EXIT
  # The projects must find the binary the packages carry, not a developer's override.
  unset IPROOV_EMULATOR_BIN
  emulator_npm "$work/dist"
  (cd bindings-node && npm pack --silent --pack-destination "$work/dist" >/dev/null)
  "$PY" -m mypy --strict --no-incremental --cache-dir=/dev/null tests/emulator/python/iproov_emulator

  step "Emulator for users' tests: TESTING.md's FastAPI app and pytest tests, in a fresh venv outside the repo"
  app=$work/fastapi-app
  mkdir -p "$app"
  note "examples: $(examples_from tests/emulator/TESTING.md "$app" | tr '\n' ' ')"
  rm -f "$app"/*.mjs
  python3 -m venv "$work/venv"
  # TESTING.md's install line (httpx2: Starlette's test client warns without it).
  "$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check fastapi httpx2 pytest \
    "$(ls target/wheels/iproov_sansio-*.whl | head -n 1)[httpx,web]" "$EMU_WHEEL"
  passes "$work/pytest.log" "$(grep -c '^def test_' "$app/test_app.py")" "$app" \
    "$work/venv/bin/python" -m pytest -p no:cacheprovider -q || failed=1
  note "the plugin's helpers (tests/emulator/python/tests), against the installed wheel"
  # Counted from the files' syntax trees: a `def test_` inside a string (a pytester test's own
  # test file) is no test of theirs.
  passes "$work/helpers.log" "$(python3 -c 'import ast, sys
print(sum(isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
          for path in sys.argv[1:] for node in ast.parse(open(path).read()).body))' tests/emulator/python/tests/test_*.py)" "$work" \
    "$work/venv/bin/python" -m pytest -p no:cacheprovider -q "$repo/tests/emulator/python/tests" || failed=1

  step "Emulator for users' tests: TESTING.md's Express app and node:test tests, from the npm tarballs"
  app=$work/express-app
  mkdir -p "$app"
  examples_from tests/emulator/TESTING.md "$app" >/dev/null
  rm -f "$app"/*.py
  printf '{ "name": "emulator-dist-check", "version": "1.0.0", "private": true }\n' >"$app/package.json"
  # better-sqlite3 (the app's journey store) is the copy bindings-node's dev install built, as
  # in bindings-node/scripts/pack-check.mjs: its prebuilt binaries come from GitHub, out of reach.
  # --ignore-scripts, as there: npm would compile SQLite again in that built copy. Neither of
  # this project's tarballs has an install-time script it would skip (checked first).
  local tgz manifest scripts
  for tgz in "$work"/dist/iproov-sansio-*.tgz "$EMU_TGZ"; do
    manifest=$(tar -xzOf "$tgz" package/package.json)
    scripts=$(node -p 'const { scripts = {} } = JSON.parse(process.argv[1]);
      ["preinstall", "install", "postinstall"].filter((name) => scripts[name]).join(" ")' "$manifest")
    if [ -n "$scripts" ]; then
      echo "$(basename "$tgz") has install scripts ($scripts): install it with them" >&2
      return 1
    fi
  done
  (cd "$app" && npm install --no-audit --no-fund --loglevel=error --ignore-scripts express \
    "$work"/dist/iproov-sansio-*.tgz "$EMU_TGZ" "$repo/bindings-node/node_modules/better-sqlite3")
  # The package alone, as the release workflow checks it on each platform it carries.
  note "$(cd "$app" && node "$repo/tests/emulator/npm/check.mjs")"
  passes "$work/node.log" "$(grep -c "^test('" "$app/app.test.mjs")" "$app" node --test || failed=1
  note "emulator dist step: $((SECONDS - started)) s"
  [ "$failed" = 0 ] || { echo "emulator dist: tests failed in the projects outside the repo (above)" >&2; return 1; }
)

# Run directly (bash scripts/emulator-dist.sh) for this part alone.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  cd "$(dirname "$0")/.."
  . scripts/lib.sh
  . scripts/python.sh
  . scripts/node.sh
  . scripts/platforms.sh
  step "Emulator dist: prerequisites (Python venv and iproov-sansio wheel, Node addon)"
  python_venv pytest httpx mypy
  [ -n "${IPROOV_REUSE_BUILDS:-}" ] || { python_wheel && node_package; }
  emulator_dist_suite
fi
