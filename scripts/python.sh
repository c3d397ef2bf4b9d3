# The Python binding's suite (sourced by scripts/test, which provides `step` and `note`).
# Creates target/py-venv when missing, installs the test tools (idempotent, quiet), builds the
# abi3 wheel in release mode, installs it, then runs pytest (vectors, emulator integration,
# README examples), mypy --strict and stubtest. Needs Python 3.9+ (python3) with venv.

PY_VENV=target/py-venv
PY=$PY_VENV/bin/python

# python_venv [PACKAGE...]: makes target/py-venv (installing Debian's python3-venv when the
# interpreter lacks venv) and installs maturin and the given packages into it (pip, quiet,
# a no-op when they are there).
python_venv() {
  if [ ! -x "$PY" ]; then
    local base
    base=$(command -v python3 || true)
    if [ -z "$base" ]; then
      echo "python3 not found: install Python 3.9+ (Debian: apt-get install python3 python3-venv)" >&2
      exit 1
    fi
    note "creating $PY_VENV"
    if ! "$base" -m venv "$PY_VENV" 2>/dev/null; then
      note "python3 -m venv failed; installing python3-venv"
      apt_install python3-venv
      rm -rf "$PY_VENV"
      "$base" -m venv "$PY_VENV"
    fi
  fi
  "$PY" -m pip install --quiet --disable-pip-version-check "maturin>=1.16,<2" "$@"
}

# python_wheel: builds the abi3 wheel (release, manylinux2014: glibc 2.17, linked by zig) and
# installs it into target/py-venv: the suites test the wheel that ships. With FAST set
# (scripts/test --fast), a dev build linked by the system's linker.
python_wheel() {
  rm -rf target/wheels/iproov_sansio-*.whl
  if [ -n "${FAST:-}" ]; then
    "$PY" -m maturin build --locked --quiet -m bindings-python/Cargo.toml --interpreter "$PY" --out target/wheels
  else
    ensure_tools_venv
    with_zig "$PY" -m maturin build --release --locked --quiet -m bindings-python/Cargo.toml --interpreter "$PY" \
      --zig --compatibility manylinux2014 --out target/wheels
  fi
  local wheel
  wheel=$(ls target/wheels/iproov_sansio-*.whl | head -n 1)
  "$PY" -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps "$wheel"
  note "installed $(basename "$wheel") in $PY_VENV"
}

python_suite() {
  python_build
  python_tests
}

# python_build: the venv with the test tools, the wheel built and installed, the emulator.
python_build() {
  step "Python: virtual environment ($PY_VENV) and test tools"
  # starlette, uvicorn, fastapi: the web endpoints (iproov_sansio.web), their tests and the
  # README's FastAPI example; django and flask: iproov_sansio.django and .flask, their tests
  # and README examples (django-stubs: their types for mypy).
  python_venv pytest httpx requests mypy "psycopg[binary]>=3.1,<4" "psycopg-pool>=3.2,<4" "starlette>=0.37" uvicorn fastapi django flask \
    django-stubs \
    opentelemetry-api opentelemetry-sdk
  note "$("$PY" --version), maturin $("$PY" -m maturin --version | awk '{print $2}')"

  step "Python: build and install the iproov-sansio wheel ($([ -n "${FAST:-}" ] && echo dev || echo release), abi3)"
  python_wheel
  ensure_emulator
}

# python_tests: the pytest suite against the installed wheel, then (not with FAST) the typing.
python_tests() {
  # scripts/test starts PostgreSQL once for every suite; run alone, this suite starts its own.
  local own_postgres=""
  if [ -z "${IPROOV_TEST_POSTGRES:-}" ]; then
    step "PostgreSQL on loopback for the journey stores"
    postgres_start
    [ -n "$(trap -p EXIT)" ] || trap postgres_stop EXIT   # never in place of a caller's own
    own_postgres=1
  fi

  step "Python tests: vectors, flows, scenarios, trust, journeys (SQLite, PostgreSQL, 8 racing processes), web endpoints, README"
  # From a neutral directory so that `import iproov_sansio` is the installed wheel.
  (cd bindings-python/tests && IPROOV_TEST_REQUIRE_POSTGRES=1 run_pytest pytest "../../$PY" .)
  [ -z "$own_postgres" ] || postgres_stop
  [ -z "${FAST:-}" ] || return 0

  step "Python typing: mypy --strict (package and usage sample), stubtest (native stubs)"
  "$PY" -m mypy --strict --no-incremental --cache-dir=/dev/null \
    bindings-python/python/iproov_sansio bindings-python/tests/typing_sample.py
  (cd bindings-python/tests && "../../$PY" -m mypy.stubtest --mypy-config-file ../pyproject.toml \
    iproov_sansio._core)
}
