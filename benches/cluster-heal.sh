#!/usr/bin/env bash
# Heal and rebalance throughput of a local cluster (deploy/local-cluster.sh), loaded with the
# aws CLI:
#   1. start N nodes (default 3) and upload OBJECTS objects of MIB MiB each;
#   2. kill -9 node N, delete its shard files (a replaced drive) and start it again: the time
#      until every shard file it held is back, byte count for byte count, gives the heal rate;
#   3. add node N+1: the time until every node has found the cluster balanced over N+1 nodes,
#      with the bytes moved, gives the rebalance rate.
#
#   benches/cluster-heal.sh [--nodes 3] [--objects 16] [--mib 64] [--dir /tmp/coffer-healbench]
#
# Prints the figures; leaves nothing running (the state folder is removed at the end).
set -euo pipefail
cd "$(dirname "$0")/.."
NODES=3 OBJECTS=16 MIB=64 DIR=/tmp/coffer-healbench
while [[ $# -gt 0 ]]; do
  case "$1" in
    --nodes) NODES="$2"; shift 2 ;;
    --objects) OBJECTS="$2"; shift 2 ;;
    --mib) MIB="$2"; shift 2 ;;
    --dir) DIR="$2"; shift 2 ;;
    *) echo "usage: $0 [--nodes N] [--objects N] [--mib N] [--dir DIR]" >&2; exit 2 ;;
  esac
done
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/coffer-target}"
BIN="${COFFER_BIN:-$CARGO_TARGET_DIR/release/coffer}"
LC=(deploy/local-cluster.sh)
PORTS=(--s3-port 9655 --rpc-port 9660 --admin-port 9680)
rm -rf "$DIR"
cleanup() { "${LC[@]}" down --dir "$DIR" >/dev/null 2>&1 || true; rm -rf "$DIR"; }
trap cleanup EXIT

now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.1f\", $1 }"; }
admin() { "$BIN" admin --json --node "127.0.0.1:9681" --cluster-secret-file "$DIR/cluster.secret" "$@"; }
# Shard files of node I: "count bytes" (files being written aside are left out).
shards() { find "$DIR/node$1/shards" -type f ! -name '*.tmp' -printf '%s\n' 2>/dev/null |
  awk '{n++; b+=$1} END {printf "%d %d\n", n, b}'; }

eval "$("${LC[@]}" up "$NODES" --dir "$DIR" "${PORTS[@]}" | sed 's/^/export /')"
export AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
aws --endpoint-url "$S3_ENDPOINT" s3 mb s3://healbench >/dev/null
head -c "$((MIB << 20))" /dev/urandom > "$DIR/object"
t0=$(now)
for ((i = 0; i < OBJECTS; i++)); do
  aws --endpoint-url "$S3_ENDPOINT" s3 cp --only-show-errors "$DIR/object" "s3://healbench/o$i"
done
t1=$(now)
echo "uploaded $OBJECTS x $MIB MiB in $(calc "$t1 - $t0") s"

# Heal: node N loses its drive.
read -r files bytes < <(shards "$NODES")
"${LC[@]}" kill-node "$NODES" --dir "$DIR" >/dev/null
rm -rf "$DIR/node$NODES/shards"
t0=$(now)
"${LC[@]}" start-node "$NODES" --dir "$DIR" >/dev/null
while true; do
  read -r f b < <(shards "$NODES")
  [[ "$f" -ge "$files" && "$b" -ge "$bytes" ]] && break
  sleep 0.1
done
t1=$(now)
secs=$(calc "$t1 - $t0")
echo "heal: node $NODES rebuilt $files shard files ($((bytes >> 20)) MiB) in $secs s" \
  "(restart included): $(calc "$bytes / 1048576 / $secs") MiB/s"

# Rebalance: one more node.
next=$((NODES + 1))
t0=$(now)
"${LC[@]}" up "$next" --dir "$DIR" "${PORTS[@]}" >/dev/null
while true; do
  r="$(admin rebalance status)"
  done_=$(python3 -c '
import json, sys
r = json.loads(sys.argv[1]); n = int(sys.argv[2])
ok = r["nodes_answered"] == n and all(p["balanced_over"] == n and p["misplaced"] == 0 for p in r["per_node"])
print(r["bytes_moved"] if ok else "")' "$r" "$next")
  [[ -n "$done_" ]] && break
  sleep 0.2
done
t1=$(now)
secs=$(calc "$t1 - $t0")
read -r f b < <(shards "$next")
echo "rebalance: node $next received $f shard files; $((done_ >> 20)) MiB moved in $secs s" \
  "(node start included): $(calc "$done_ / 1048576 / $secs") MiB/s"
