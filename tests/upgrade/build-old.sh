#!/usr/bin/env bash
# Build the `coffer` binary of an earlier commit, for the rolling-upgrade test, and print its
# path. It is built from a `git archive` of REF with the same flags and the same
# CARGO_TARGET_DIR as `make build`, so RocksDB's C++ is not compiled again; only the workspace
# crates are. The binary is kept in ~/.cache/coffer-old/coffer-REF for the next run.
#   tests/upgrade/build-old.sh REF
set -euo pipefail
ref="${1:?usage: build-old.sh REF}"
top="$(cd "$(dirname "$0")/../.." && pwd)"
sha="$(git -C "$top" rev-parse --short=12 "$ref^{commit}")"
out="$HOME/.cache/coffer-old/coffer-$sha"
if [[ -x "$out" ]]; then echo "$out"; exit 0; fi
src="$(mktemp -d)"
trap 'rm -rf "$src"' EXIT
git -C "$top" archive "$sha" | tar -x -C "$src"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/coffer-target}"
(cd "$src" && cargo build --release --workspace --locked --all-targets >&2)
mkdir -p "$(dirname "$out")"
cp "$CARGO_TARGET_DIR/release/coffer" "$out.tmp"
mv "$out.tmp" "$out"
echo "$out"
