# Shared helpers of the project's scripts (sourced, not run).
note() { printf '    %s\n' "$*"; }

# Step timing: with STEPS_FILE set (scripts/test sets it), each step appends "START\tNAME" to
# it, and the next step prints how long the one before took. A file rather than variables:
# several suites run their steps in subshells, whose variables the caller never sees.
step() {
  local now=${EPOCHREALTIME/[.,]*/}
  if [ -n "${STEPS_FILE:-}" ]; then
    steps_last_took "$now"
    printf '%s\t%s\n' "$now" "$*" >>"$STEPS_FILE"
  fi
  printf '\n==> %s\n' "$*"
}
steps_last_took() {
  local last
  [ -s "$STEPS_FILE" ] || return 0
  last=$(tail -n 1 "$STEPS_FILE")
  printf '    (%d s)\n' $(($1 - ${last%%$'\t'*}))
}
# steps_report: each step's seconds and the total, from STEPS_FILE (which it closes with an
# end mark, so a second report adds nothing).
steps_report() {
  local now=${EPOCHREALTIME/[.,]*/}
  [ -s "${STEPS_FILE:-}" ] || return 0
  [[ $(tail -n 1 "$STEPS_FILE") != *$'\t' ]] || return 0
  steps_last_took "$now"
  printf '%s\t\n' "$now" >>"$STEPS_FILE"
  printf '\n==> Seconds per step\n'
  awk -F '\t' 'NR > 1 && name != "" { printf "%7d  %s\n", $1 - start, name }
    NR == 1 { first = $1 } { start = $1; name = $2 } END { printf "%7d  total\n", start - first }' "$STEPS_FILE"
}

ensure_rust_components() {
  if ! command -v cargo >/dev/null 2>&1; then
    echo "cargo not found: install Rust (https://rustup.rs) first" >&2
    exit 1
  fi
  local installed
  # Read whole before grep: `grep -q` on a pipe can end the writer with SIGPIPE, which
  # pipefail turns into "not installed".
  installed=$(rustup component list --installed)
  for component in clippy rustfmt; do
    if ! grep -q "^$component" <<<"$installed"; then
      note "installing rustup component $component"
      rustup component add "$component"
    fi
  done
}

# ensure_emulator: target/debug/iproov-emulator for the suites, built unless it is newer than
# its sources. `cargo test --workspace` (scripts/test) builds it too, with the workspace's
# features: `cargo build -p` after it would rebuild its crates with another feature set (and
# the next cargo test rebuild them back), for a binary that is already there.
ensure_emulator() {
  local bin=target/debug/iproov-emulator
  if [ -x "$bin" ] && [ -z "$(find tests/emulator/src tests/emulator/Cargo.toml Cargo.toml Cargo.lock -newer "$bin" -print -quit)" ]; then
    return 0
  fi
  cargo build --locked -p iproov-emulator
}

# apt-get install, as root or through sudo, with one `apt-get update` first.
apt_install() {
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  if [ -z "${APT_UPDATED:-}" ]; then
    $sudo apt-get update -qq
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

# npm ci when a lock file exists (else npm install), quietly; once per package folder.
# JOBS=max: node-gyp compiles a native module (better-sqlite3: its prebuilt binaries are out of
# reach here) with make -j on every core, not one.
npm_install_quiet() {
  if [ -f package-lock.json ]; then
    JOBS=max npm ci --no-audit --no-fund --loglevel=error
  else
    JOBS=max npm install --no-audit --no-fund --loglevel=error
  fi
}

# Zig (PyPI's ziglang) links the Linux wheel and addon against glibc 2.17's symbol versions
# (manylinux2014): linked by Debian 12's gcc they would need glibc 2.34. cargo-zigbuild is what
# `napi build -x` runs; maturin's --zig finds zig as `python -m ziglang` on PATH.
TOOLS_VENV=$PWD/target/tools-venv   # absolute: with_zig also runs inside bindings-node
ensure_tools_venv() {
  if [ ! -x "$TOOLS_VENV/bin/python" ]; then
    note "creating target/tools-venv (zig, cargo-zigbuild, auditwheel, jactionlint)"
    python3 -m venv "$TOOLS_VENV" 2>/dev/null || { apt_install python3-venv && python3 -m venv "$TOOLS_VENV"; }
  fi
  "$TOOLS_VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    ziglang==0.17.1 cargo-zigbuild==0.24.1 auditwheel==6.8.2 jactionlint==2.3.0
}
with_zig() { PATH="$TOOLS_VENV/bin:$PATH" "$@"; }

# --- Test runners whose skips are counted -----------------------------------------------------
# A skipped test proves nothing, so each runner's report is read after it passed and its skips
# must be exactly its label's lines in tests/skips-allowed.txt (scripts/skips.py).
REPO_ROOT=$PWD   # every script cds to the checkout before sourcing this file
REPORTS_DIR=$REPO_ROOT/target/test-reports

new_report() {
  local file
  mkdir -p "$REPORTS_DIR"
  file="$REPORTS_DIR/$(printf '%s' "$1" | tr -c 'A-Za-z0-9._-' '-').$2"
  rm -f "$file"
  printf '%s' "$file"
}

# run_pytest LABEL PYTHON ARGS...: PYTHON -m pytest ARGS with a JUnit report, then its skips.
run_pytest() {
  local label=$1 python=$2 report
  shift 2
  report=$(new_report "$label" xml)
  "$python" -m pytest -p no:cacheprovider -q --junitxml="$report" "$@"
  python3 "$REPO_ROOT/scripts/skips.py" "$label" "$report"
}

# run_node_test LABEL ARGS...: node --test ARGS (the spec reporter on stdout, and
# scripts/test-report.mjs's JSON lines for the check), then its skips.
run_node_test() {
  local label=$1 report
  shift
  report=$(new_report "$label" jsonl)
  node --test --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter="$REPO_ROOT/scripts/test-report.mjs" --test-reporter-destination="$report" "$@"
  python3 "$REPO_ROOT/scripts/skips.py" "$label" "$report"
}

# run_cargo_test LABEL ARGS...: cargo test ARGS, its output kept for the check, then its
# skips (`ignored`).
run_cargo_test() {
  local label=$1 report
  shift
  report=$(new_report "$label" log)
  cargo test "$@" 2>&1 | tee "$report"
  python3 "$REPO_ROOT/scripts/skips.py" "$label" "$report"
}

# --- Processes a run leaves behind -------------------------------------------------------------
# scripts/test marks its environment with IPROOV_TEST_RUN (unique per run); every process it
# starts inherits it, whoever its parent is now. own_processes prints those still running
# (pid and command line), but for this shell and the processes it runs to look.
own_processes() {
  python3 - "$IPROOV_TEST_RUN" <<'PY'
import os, sys
mark = b"IPROOV_TEST_RUN=" + sys.argv[1].encode()
mine, pid = set(), os.getpid()
while pid > 1:  # this checker and its ancestors (the test command itself)
    mine.add(pid)
    with open(f"/proc/{pid}/stat", "rb") as stat:
        pid = int(stat.read().rsplit(b")", 1)[1].split()[1])
for entry in os.listdir("/proc"):
    if not entry.isdigit() or int(entry) in mine:
        continue
    try:
        with open(f"/proc/{entry}/environ", "rb") as f:
            if mark not in f.read().split(b"\0"):
                continue
        with open(f"/proc/{entry}/cmdline", "rb") as f:
            print(entry, f.read().replace(b"\0", b" ").decode(errors="replace").strip())
    except OSError:  # gone meanwhile, or a zombie
        continue
PY
}

# no_leftovers: fails, naming them, when processes of this run are still there 30 s after the
# last step (given the time to finish exiting), and then ends them so a next run starts clean.
no_leftovers() {
  local left pid
  [ -n "${IPROOV_TEST_RUN:-}" ] || return 0
  for _ in $(seq 1 60); do
    left=$(own_processes)
    [ -n "$left" ] || { note "no process of this run is left running"; return 0; }
    sleep 0.5
  done
  printf '%s\n' "processes this run started are still running (stopped now):" "$left" >&2
  while read -r pid _; do kill -KILL "$pid" 2>/dev/null || true; done <<<"$left"
  return 1
}
