#!/usr/bin/env bash
# /tmp/cpbench.sh BIN: one-node server, aws s3 cp of a 1 GiB file, print MiB/s
set -euo pipefail
bin=$1
dir=$(mktemp -d /tmp/cpb-XXXX)
"$bin" server --data "$dir/data" --address 127.0.0.1:9320 > "$dir/log" 2>&1 &
pid=$!
for i in $(seq 1 100); do curl -sf http://127.0.0.1:9320/_coffer/health >/dev/null && break; sleep 0.2; done
export AWS_ACCESS_KEY_ID=$(sed -n 's/^access_key_id = "\(.*\)"/\1/p' "$dir/data/credentials.toml")
export AWS_SECRET_ACCESS_KEY=$(sed -n 's/^secret_access_key = "\(.*\)"/\1/p' "$dir/data/credentials.toml")
export AWS_DEFAULT_REGION=us-east-1
[ -f /tmp/cpb-1g ] || head -c 1073741824 /dev/urandom > /tmp/cpb-1g
aws --endpoint-url http://127.0.0.1:9320 s3 mb s3://cpb >/dev/null
s=$(date +%s.%N)
aws --endpoint-url http://127.0.0.1:9320 s3 cp /tmp/cpb-1g s3://cpb/x --only-show-errors
e=$(date +%s.%N)
python3 -c "print(f'{1024/($e-$s):.1f} MiB/s')"
kill $pid; wait $pid 2>/dev/null || true
rm -rf "$dir"
