# The Python binding's suite (sourced by scripts/test, which provides `step` and `note`).
# Creates target/py-venv when missing, installs the test tools (idempotent, quiet), builds the
# abi3 wheel in release mode, installs it, then runs pytest (vectors, emulator integration,
# README examples), mypy --strict and stubtest. Needs Python 3.9+ (python3) with venv.

python_suite() {
  local venv=target/py-venv
  local py="$venv/bin/python"

  step "Python: virtual environment ($venv)"
  if [ ! -x "$py" ]; then
    local base
    base=$(command -v python3 || true)
    if [ -z "$base" ]; then
      echo "python3 not found: install Python 3.9+ (Debian: apt-get install python3 python3-venv)" >&2
      exit 1
    fi
    if ! "$base" -m venv "$venv" 2>/dev/null; then
      note "python3 -m venv failed; installing python3-venv"
      if declare -F apt_install >/dev/null; then
        apt_install python3-venv
      else
        apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
      fi
      rm -rf "$venv"
      "$base" -m venv "$venv"
    fi
  fi
  "$py" -m pip install --quiet --disable-pip-version-check \
    "maturin>=1.16,<2" pytest httpx requests mypy
  note "$("$py" --version), maturin $("$py" -m maturin --version | awk '{print $2}')"

  step "Python: build and install the iproov-sansio wheel (release, abi3)"
  rm -rf target/wheels/iproov_sansio-*.whl
  "$py" -m maturin build --release --locked --quiet -m bindings-python/Cargo.toml --interpreter "$py" \
    --out target/wheels
  local wheel
  wheel=$(ls target/wheels/iproov_sansio-*.whl | head -n 1)
  "$py" -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps "$wheel"
  note "installed $(basename "$wheel")"

  step "Python: emulator binary for the integration tests"
  cargo build --locked -p iproov-emulator

  step "Python tests: vectors, flows, emulator integration (httpx, httpx async, requests), README"
  # From a neutral directory so that `import iproov_sansio` is the installed wheel.
  (cd bindings-python/tests && "../../$py" -m pytest -p no:cacheprovider -q .)

  step "Python typing: mypy --strict (package and usage sample), stubtest (native stubs)"
  "$py" -m mypy --strict --no-incremental --cache-dir=/dev/null \
    bindings-python/python/iproov_sansio bindings-python/tests/typing_sample.py
  (cd bindings-python/tests && "../../$py" -m mypy.stubtest --mypy-config-file ../pyproject.toml \
    iproov_sansio._core)
}
