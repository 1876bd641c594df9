#!/usr/bin/env bash
# Run s3bench.sh against a fresh one-node server of binary $1, labelled $2, results in $3.
set -euo pipefail
bin="$1"; label="$2"; out="$3"
dir=$(mktemp -d /tmp/coffer-bench-XXXX)
"$bin" server --data "$dir/data" --address 127.0.0.1:9310 > "$dir/server.log" 2>&1 &
pid=$!
for i in $(seq 1 100); do
  curl -sf http://127.0.0.1:9310/_coffer/health >/dev/null && break
  sleep 0.2
done
ak=$(sed -n 's/^access_key_id = "\(.*\)"/\1/p' "$dir/data/credentials.toml")
sk=$(sed -n 's/^secret_access_key = "\(.*\)"/\1/p' "$dir/data/credentials.toml")
/work/shared/tools/s3bench.sh --endpoint http://127.0.0.1:9310 --access-key "$ak" --secret-key "$sk" \
  --bucket bench --create-bucket --label "$label" --out "$out" --server-pids "$pid" \
  --workdir /tmp/s3bench-work --tests ref_disk,ref_hash,rclone,awscp,sync,small_boto3,small_wrk || true
kill "$pid"; wait "$pid" 2>/dev/null || true
rm -rf "$dir"
