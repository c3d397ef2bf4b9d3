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
