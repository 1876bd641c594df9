#!/usr/bin/env bash
# Install what building (`build`) or testing (`test`) Coffer needs, if it is missing.
# Idempotent and quiet when everything is there.
set -euo pipefail
what=${1:-build}

SUDO=""
if [[ $(id -u) != 0 ]] && command -v sudo >/dev/null; then SUDO=sudo; fi
apt_updated=0
apt_install() {
  if [[ $apt_updated == 0 ]]; then
    $SUDO apt-get update -qq >/dev/null
    apt_updated=1
  fi
  echo "install-deps: apt-get install $*" >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}
need_deb() {  # need_deb PACKAGE...
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [[ ${#missing[@]} -gt 0 ]]; then apt_install "${missing[@]}"; fi
}

case "$what" in
  build)
    # bindgen (RocksDB bindings) needs libclang; the C++ is compiled with g++.
    need_deb libclang-dev g++ make
    command -v cargo >/dev/null || { echo "install-deps: cargo (Rust) is required" >&2; exit 1; }
    ;;
  test)
    need_deb curl rclone s3cmd chromium openssl
    command -v aws >/dev/null || python3 -m pip install -q awscli
    python3 -c 'import boto3' 2>/dev/null || python3 -m pip install -q boto3
    # The Helm chart's tests: Helm's own engine as a library (its wheel declares Python 3.12,
    # and works on 3.11), the Kubernetes schemas, and YAML.
    python3 -c 'import helm_sdkpy' 2>/dev/null \
      || python3 -m pip install -q --ignore-requires-python helm-sdkpy
    python3 -c 'import kubernetes_validate' 2>/dev/null || python3 -m pip install -q kubernetes-validate
    python3 -c 'import yaml' 2>/dev/null || python3 -m pip install -q pyyaml
    ;;
  *) echo "usage: $0 build|test" >&2; exit 2 ;;
esac
