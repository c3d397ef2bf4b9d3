# Shared helpers of the project's scripts (sourced, not run).
step() { printf '\n==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }

ensure_rust_components() {
  if ! command -v cargo >/dev/null 2>&1; then
    echo "cargo not found: install Rust (https://rustup.rs) first" >&2
    exit 1
  fi
  for component in clippy rustfmt; do
    if ! rustup component list --installed 2>/dev/null | grep -q "^$component"; then
      note "installing rustup component $component"
      rustup component add "$component"
    fi
  done
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
npm_install_quiet() {
  if [ -f package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
  else
    npm install --no-audit --no-fund --loglevel=error
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
