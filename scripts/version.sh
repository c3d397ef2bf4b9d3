#!/usr/bin/env bash
# The release version lives in one place: `version` under [workspace.package] in Cargo.toml.
# Every crate inherits it and the wheel reads it from Cargo (pyproject: dynamic); the npm
# manifests and lock files carry copies, which this script checks (CI, release workflows) or
# rewrites.
#
#   scripts/version.sh                 # check: every copy equals Cargo.toml's
#   scripts/version.sh check v1.2.3    # ... and a release tag names that version
#   scripts/version.sh set 1.2.3       # write it everywhere (then commit)
set -euo pipefail
cd "$(dirname "$0")/.."

workspace_version() { sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"$/\1/p' Cargo.toml; }

# "FILE: VERSION" for each copy: npm manifests and their locks (the root package twice), the
# Node package's peer dependency on iproov-emulator, and the version requirement on iproov-core.
copies() {
  local file
  for file in bindings-node/package.json bindings-node/package-lock.json bindings-wasm/package.json \
    bindings-wasm/package-lock.json tests/emulator/npm/package.json; do
    node -e '
      const j = require(process.argv[1]);
      console.log(`${process.argv[2]}: ${j.version}`);
      if (j.packages) console.log(`${process.argv[2]} (packages[""]): ${j.packages[""].version}`);
      const peer = j.peerDependencies?.["iproov-emulator"];
      if (peer) console.log(`${process.argv[2]} (peer iproov-emulator): ${peer}`);
    ' "$PWD/$file" "$file" || { echo "scripts/version.sh: cannot read $file" >&2; return 1; }
  done
  echo "Cargo.toml (iproov-core requirement): $(sed -n 's/^iproov-core = {.*version = "\([^"]*\)".*/\1/p' Cargo.toml)"
}

check() {
  local want list bad
  want=$(workspace_version)
  [ -n "$want" ] || { echo "no version under [workspace.package] in Cargo.toml" >&2; exit 1; }
  # Every copy read first (a manifest node cannot read fails here), then compared; grep's
  # status 1 is "no copy differs".
  list=$(copies)
  bad=$(grep -v ": $want\$" <<<"$list" || [ $? = 1 ])
  if [ -n "$bad" ]; then
    printf 'version %s (Cargo.toml) differs from:\n%s\nrun: scripts/version.sh set %s\n' "$want" "$bad" "$want" >&2
    exit 1
  fi
  if [ -n "${1:-}" ] && [ "${1#v}" != "$want" ]; then
    echo "tag $1 does not name version $want (Cargo.toml)" >&2
    exit 1
  fi
  echo "version $want: Cargo.toml, $(wc -l <<<"$list") copies agree${1:+, tag $1}"
}

set_version() {
  local new=$1
  [[ $new =~ ^[0-9]+\.[0-9]+\.[0-9]+([-.+][0-9A-Za-z.-]+)?$ ]] || { echo "not a version: $new" >&2; exit 1; }
  sed -i "/^\[workspace.package\]/,/^\[/s/^version = \".*\"$/version = \"$new\"/" Cargo.toml
  sed -i "s/^\(iproov-core = {.*version = \"\)[^\"]*\"/\1$new\"/" Cargo.toml
  for dir in bindings-node bindings-wasm tests/emulator/npm; do
    (cd "$dir" && npm version "$new" --no-git-tag-version --allow-same-version >/dev/null)
  done
  # iproov-sansio/testing speaks the control API of the emulator of its own version.
  (cd bindings-node && npm pkg set "peerDependencies.iproov-emulator=$new")
  cargo update --workspace --quiet
  check
}

case "${1:-check}" in
  check) check "${2:-}" ;;
  set) set_version "${2:?usage: scripts/version.sh set X.Y.Z}" ;;
  *) echo "usage: scripts/version.sh [check [TAG] | set X.Y.Z]" >&2; exit 2 ;;
esac
