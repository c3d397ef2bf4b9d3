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
