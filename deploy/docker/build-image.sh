#!/usr/bin/env bash
# Build the `coffer:local` image FROM scratch: the release binary, the shared libraries `ldd`
# lists for it, and a minimal /etc and /tmp. Works without any registry.
#
#   deploy/docker/build-image.sh [TAG]        (default coffer:local)
#
# The binary is $COFFER_BIN, else the release build under $CARGO_TARGET_DIR (default
# ~/.cache/coffer-target); run `make build` first.
set -euo pipefail
tag="${1:-coffer:local}"
here="$(cd "$(dirname "$0")" && pwd)"
bin="${COFFER_BIN:-${CARGO_TARGET_DIR:-$HOME/.cache/coffer-target}/release/coffer}"
[[ -x "$bin" ]] || { echo "build-image: no binary at $bin (run make build)" >&2; exit 1; }
ctx="$(mktemp -d)"
trap 'rm -rf "$ctx"' EXIT
root="$ctx/rootfs"
mkdir -p "$root/usr/local/bin" "$root/etc" "$root/tmp" "$ctx/data"
# Without its debug line tables the binary is a tenth of the size.
strip --strip-debug -o "$root/usr/local/bin/coffer" "$bin"
# Every shared library the binary loads, at the same path (the loader included).
ldd "$bin" | awk '/=> \//{print $3} /^[[:space:]]*\//{print $1}' | while read -r lib; do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
echo 'coffer:x:10001:10001:coffer:/data:/usr/local/bin/coffer' > "$root/etc/passwd"
echo 'coffer:x:10001:' > "$root/etc/group"
echo 'hosts: files dns' > "$root/etc/nsswitch.conf"
chmod 1777 "$root/tmp"
cp "$here/Dockerfile.scratch" "$ctx/Dockerfile"
DOCKER_BUILDKIT=0 docker build -q -t "$tag" "$ctx" >/dev/null 2>&1 || docker build -t "$tag" "$ctx"
echo "built $tag ($(docker image inspect -f '{{.Size}}' "$tag" | awk '{printf "%.1f MiB", $1/1048576}'))"
