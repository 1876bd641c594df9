#!/usr/bin/env bash
# Anonymous 4 KiB GETs: allowed by a bucket policy (BucketOwnerEnforced, no object read) vs
# by the object's public-read ACL (ObjectWriter: one more metadata read per request).
set -euo pipefail
BIN=$1; PORT=9777; D=$(mktemp -d)
export AWS_ACCESS_KEY_ID=benchkey AWS_SECRET_ACCESS_KEY=benchsecret0123456789 AWS_DEFAULT_REGION=us-east-1
COFFER_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID COFFER_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY "$BIN" server --data "$D" --address 127.0.0.1:$PORT >"$D/log" 2>&1 &
PID=$!; trap 'kill $PID; rm -rf "$D"' EXIT
for i in $(seq 50); do curl -sf 127.0.0.1:$PORT/_coffer/health >/dev/null && break; sleep 0.2; done
A=(aws --endpoint-url http://127.0.0.1:$PORT)
head -c 4096 /dev/urandom > "$D/obj"
"${A[@]}" s3api create-bucket --bucket pol >/dev/null
"${A[@]}" s3api put-object --bucket pol --key k --body "$D/obj" >/dev/null
"${A[@]}" s3api put-bucket-policy --bucket pol --policy '{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pol/*"}}'
"${A[@]}" s3api create-bucket --bucket aclb --object-ownership ObjectWriter >/dev/null
"${A[@]}" s3api put-object --bucket aclb --key k --body "$D/obj" --acl public-read >/dev/null
for b in pol aclb; do test "$(curl -s -o /dev/null -w '%{http_code}' 127.0.0.1:$PORT/$b/k)" = 200; done
for run in 1 2 3; do
  for b in pol aclb; do
    r=$(wrk -t2 -c64 -d10s http://127.0.0.1:$PORT/$b/k | awk '/Requests\/sec/ {print $2}')
    echo "run $run $b $r"
  done
done
