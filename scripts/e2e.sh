#!/usr/bin/env bash
# End-to-end checks with real clients (aws CLI, boto3, rclone, s3cmd, curl) against a real
# `coffer server` started on a free port with a fresh data folder, then a kill -9 crash story.
# Prints one line per check and a closing "N passed, M failed" line; exits non-zero on failure.
set -uo pipefail
BIN=${COFFER_BIN:-${CARGO_TARGET_DIR:-$HOME/.cache/coffer-target}/release/coffer}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d /tmp/coffer-e2e.XXXXXX)
PASS=0; FAIL=0; SERVER_PID=""; TLS_PID=""; LC_PID=""; TIER_PIDS=()
BIG_MIB=${E2E_BIG_MIB:-1024}
# The browser's screenshot and DOM of the website story are kept here.
ARTIFACTS=${E2E_ARTIFACTS:-/tmp/coffer-e2e-artifacts}
SYNC_FILES=${E2E_SYNC_FILES:-1000}

cleanup() {
  [[ -n "$SERVER_PID" ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  [[ -n "$TLS_PID" ]] && kill "$TLS_PID" 2>/dev/null && wait "$TLS_PID" 2>/dev/null
  [[ -n "$LC_PID" ]] && kill "$LC_PID" 2>/dev/null && wait "$LC_PID" 2>/dev/null
  local p
  for p in "${TIER_PIDS[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT

check() {  # check NAME COMMAND...
  local name=$1; shift
  if "$@" >"$WORK/last.out" 2>&1; then
    PASS=$((PASS + 1)); echo "ok   $name"
  else
    FAIL=$((FAIL + 1)); echo "FAIL $name"; sed 's/^/     | /' "$WORK/last.out" | tail -20
  fi
}

has() {  # has PATTERN COMMAND...: the command's output (stdout and stderr) contains PATTERN
  local pat=$1 out; shift
  out=$("$@" 2>&1)
  grep -q -- "$pat" <<<"$out"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

export COFFER_ACCESS_KEY_ID=e2eaccesskey COFFER_SECRET_ACCESS_KEY=e2esecretkey0123456789
export AWS_ACCESS_KEY_ID=$COFFER_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$COFFER_SECRET_ACCESS_KEY AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE=$WORK/aws-config AWS_SHARED_CREDENTIALS_FILE=$WORK/aws-credentials
PORT=$(free_port)
EP=http://127.0.0.1:$PORT
WEB_PORT=$(free_port)
WEB=http://127.0.0.1:$WEB_PORT
WEB_DOMAIN=web.coffer.test
DOMAIN=s3.coffer.test
DATA=$WORK/data

start_server() {
  # --sse-c-over-http: the SSE-C checks run over plain HTTP (S3 takes customer keys only over TLS).
  # --kms-keys: the SSE-KMS key the aws CLI names.
  # --access-log-flush-seconds: access logs delivered within seconds rather than minutes.
  "$BIN" server --data "$DATA" --address "127.0.0.1:$PORT" --domain "$DOMAIN" --sse-c-over-http \
    --kms-keys testkey-1 --website-address "127.0.0.1:$WEB_PORT" --website-domain "$WEB_DOMAIN" \
    --access-log-flush-seconds 2 >>"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    curl -sf "$EP/_coffer/health" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "server did not start"; cat "$WORK/server.log"; return 1
}
start_server || exit 1
AWS=(aws --endpoint-url "$EP")

# ---------------------------------------------------------------- aws CLI
check "aws s3 mb" "${AWS[@]}" s3 mb s3://e2e
check "aws s3 mb again is an error-free no-op in us-east-1" "${AWS[@]}" s3 mb s3://e2e
check "invalid bucket name is InvalidBucketName" bash -c "${AWS[*]} s3api create-bucket --bucket ab 2>&1 | grep -q InvalidBucketName"
echo "hello coffer" > "$WORK/hello.txt"
check "aws s3 cp up" "${AWS[@]}" s3 cp "$WORK/hello.txt" s3://e2e/dir/hello.txt
check "aws s3 cp down" bash -c "${AWS[*]} s3 cp s3://e2e/dir/hello.txt - | grep -qx 'hello coffer'"
check "aws s3 ls" bash -c "${AWS[*]} s3 ls s3://e2e/dir/ | grep -q hello.txt"
check "aws s3 mv" "${AWS[@]}" s3 mv s3://e2e/dir/hello.txt s3://e2e/dir/moved.txt
check "moved source is gone" bash -c "! ${AWS[*]} s3api head-object --bucket e2e --key dir/hello.txt 2>/dev/null"
check "aws s3 rm" "${AWS[@]}" s3 rm s3://e2e/dir/moved.txt

head -c $((BIG_MIB * 1048576)) /dev/urandom > "$WORK/big.bin"
check "aws s3 cp ${BIG_MIB} MiB up" "${AWS[@]}" s3 cp --only-show-errors "$WORK/big.bin" s3://e2e/big.bin
check "aws s3 cp ${BIG_MIB} MiB down" "${AWS[@]}" s3 cp --only-show-errors s3://e2e/big.bin "$WORK/big.back"
check "${BIG_MIB} MiB round trip is byte-identical" cmp "$WORK/big.bin" "$WORK/big.back"
rm -f "$WORK/big.back"

mkdir -p "$WORK/tree"
python3 - "$WORK/tree" "$SYNC_FILES" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    d = os.path.join(root, f"d{i % 10}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"f{i:05}.txt"), "wb") as f:
        f.write(os.urandom(64 + i % 4000))
PY
check "aws s3 sync of $SYNC_FILES files" bash -c "test \$(${AWS[*]} s3 sync --no-progress '$WORK/tree' s3://e2e/tree | grep -c '^upload:') -eq $SYNC_FILES"
check "second sync transfers nothing" bash -c "test \$(${AWS[*]} s3 sync --no-progress '$WORK/tree' s3://e2e/tree | grep -c '^upload:') -eq 0"
check "sync down matches" bash -c "${AWS[*]} s3 sync --no-progress s3://e2e/tree '$WORK/tree.back' >/dev/null && diff -r '$WORK/tree' '$WORK/tree.back'"

# s3api multipart by hand
head -c $((6 * 1048576)) /dev/urandom > "$WORK/p1"; head -c 1000 /dev/urandom > "$WORK/p2"
mp() {
  set -e
  local id e1 e2
  id=$("${AWS[@]}" s3api create-multipart-upload --bucket e2e --key mp.bin --query UploadId --output text)
  e1=$("${AWS[@]}" s3api upload-part --bucket e2e --key mp.bin --upload-id "$id" --part-number 1 --body "$WORK/p1" --query ETag --output text)
  e2=$("${AWS[@]}" s3api upload-part --bucket e2e --key mp.bin --upload-id "$id" --part-number 2 --body "$WORK/p2" --query ETag --output text)
  "${AWS[@]}" s3api list-parts --bucket e2e --key mp.bin --upload-id "$id" --query 'length(Parts)' --output text | grep -qx 2
  "${AWS[@]}" s3api list-multipart-uploads --bucket e2e --query 'Uploads[0].UploadId' --output text | grep -qx "$id"
  "${AWS[@]}" s3api complete-multipart-upload --bucket e2e --key mp.bin --upload-id "$id" \
    --multipart-upload "{\"Parts\":[{\"PartNumber\":1,\"ETag\":$e1},{\"PartNumber\":2,\"ETag\":$e2}]}" --query ETag --output text | grep -q -- '-2"$'
  "${AWS[@]}" s3api get-object --bucket e2e --key mp.bin "$WORK/mp.back" >/dev/null
  cmp <(cat "$WORK/p1" "$WORK/p2") "$WORK/mp.back"
  "${AWS[@]}" s3api get-object --bucket e2e --key mp.bin --part-number 2 "$WORK/mp.p2" >/dev/null
  cmp "$WORK/p2" "$WORK/mp.p2"
}
check "s3api multipart create/upload/list/complete/get partNumber" mp
abort_mp() {
  set -e
  local id
  id=$("${AWS[@]}" s3api create-multipart-upload --bucket e2e --key ab.bin --query UploadId --output text)
  "${AWS[@]}" s3api upload-part --bucket e2e --key ab.bin --upload-id "$id" --part-number 1 --body "$WORK/p2" >/dev/null
  "${AWS[@]}" s3api abort-multipart-upload --bucket e2e --key ab.bin --upload-id "$id"
  ! "${AWS[@]}" s3api list-parts --bucket e2e --key ab.bin --upload-id "$id" 2>/dev/null
}
check "s3api abort-multipart-upload" abort_mp
check "s3api copy-object" bash -c "${AWS[*]} s3api copy-object --bucket e2e --key copy.bin --copy-source e2e/mp.bin >/dev/null && ${AWS[*]} s3api get-object --bucket e2e --key copy.bin '$WORK/copy.back' >/dev/null && cmp '$WORK/mp.back' '$WORK/copy.back'"
sse_story() {  # SSE-S3 through the aws CLI: a big multipart cp and a sync of many small files
  "${AWS[@]}" s3 cp --only-show-errors --sse AES256 "$WORK/big.bin" s3://e2e/sse/big.bin || return 1
  has AES256 "${AWS[@]}" s3api head-object --bucket e2e --key sse/big.bin --query ServerSideEncryption --output text || return 1
  "${AWS[@]}" s3 cp --only-show-errors s3://e2e/sse/big.bin "$WORK/big.sse.back" || return 1
  cmp "$WORK/big.bin" "$WORK/big.sse.back" || return 1
  rm -f "$WORK/big.sse.back"
  # A 1-byte range of it opens at most two 64 KiB packages (the gateway counts them).
  local before after at=$((BIG_MIB * 524288 + 12345))
  before=$(curl -s "$EP/_coffer/metrics" | awk '/^coffer_sse_packages_opened_total/ {print $2}')
  "${AWS[@]}" s3api get-object --bucket e2e --key sse/big.bin --range "bytes=$at-$at" "$WORK/one.byte" >/dev/null || return 1
  after=$(curl -s "$EP/_coffer/metrics" | awk '/^coffer_sse_packages_opened_total/ {print $2}')
  cmp <(tail -c +$((at + 1)) "$WORK/big.bin" | head -c 1) "$WORK/one.byte" || return 1
  echo "1-byte range opened $((after - before)) package(s)"
  test $((after - before)) -ge 1 && test $((after - before)) -le 2 || return 1
  test "$("${AWS[@]}" s3 sync --no-progress --sse AES256 "$WORK/tree" s3://e2e/sse-tree | grep -c '^upload:')" -eq "$SYNC_FILES" || return 1
  "${AWS[@]}" s3 sync --no-progress s3://e2e/sse-tree "$WORK/sse-tree.back" >/dev/null || return 1
  diff -r "$WORK/tree" "$WORK/sse-tree.back" || return 1
  has AES256 "${AWS[@]}" s3api head-object --bucket e2e --key sse-tree/d3/f00003.txt --query ServerSideEncryption --output text || return 1
  # A copy asks for its own encryption; a GET may not ask for any.
  "${AWS[@]}" s3 cp --only-show-errors --sse AES256 s3://e2e/mp.bin s3://e2e/sse/mp.bin || return 1
  "${AWS[@]}" s3 cp --only-show-errors s3://e2e/sse/mp.bin "$WORK/mp.sse.back" || return 1
  cmp "$WORK/mp.back" "$WORK/mp.sse.back" || return 1
  has InvalidArgument curl -s -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' -H 'x-amz-server-side-encryption: AES256' "$EP/e2e/sse/mp.bin" --aws-sigv4 "aws:amz:us-east-1:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY"
}
check "aws CLI SSE-S3: ${BIG_MIB} MiB cp --sse, sync --sse of $SYNC_FILES files, copy, byte-identical" sse_story
ssec_story() {  # SSE-C through the aws CLI: the key with every transfer, a copy, a wrong key
  head -c 32 /dev/urandom > "$WORK/c.key"; head -c 32 /dev/urandom > "$WORK/c2.key"
  local k=(--sse-c AES256 --sse-c-key "fileb://$WORK/c.key")
  "${AWS[@]}" s3 cp --only-show-errors "${k[@]}" "$WORK/big.bin" s3://e2e/ssec/big.bin || return 1
  "${AWS[@]}" s3 cp --only-show-errors "${k[@]}" s3://e2e/ssec/big.bin "$WORK/big.ssec.back" || return 1
  cmp "$WORK/big.bin" "$WORK/big.ssec.back" || return 1
  rm -f "$WORK/big.ssec.back"
  test "$("${AWS[@]}" s3 sync --no-progress "${k[@]}" "$WORK/tree/d2" s3://e2e/ssec-tree | grep -c '^upload:')" -gt 0 || return 1
  "${AWS[@]}" s3 sync --no-progress "${k[@]}" s3://e2e/ssec-tree "$WORK/ssec-tree.back" >/dev/null || return 1
  diff -r "$WORK/tree/d2" "$WORK/ssec-tree.back" || return 1
  # Without the key, or with another, the object is refused.
  has 400 "${AWS[@]}" s3api head-object --bucket e2e --key ssec/big.bin || return 1
  has 403 "${AWS[@]}" s3api head-object --bucket e2e --key ssec/big.bin --sse-customer-algorithm AES256 --sse-customer-key "fileb://$WORK/c2.key" || return 1
  # A copy opens the source with its key and seals the copy with another.
  "${AWS[@]}" s3 cp --only-show-errors "${k[@]}" --sse-c-copy-source AES256 --sse-c-copy-source-key "fileb://$WORK/c.key" \
    s3://e2e/ssec-tree/f00002.txt s3://e2e/ssec/copied.txt || return 1
  "${AWS[@]}" s3 cp --only-show-errors "${k[@]}" s3://e2e/ssec/copied.txt "$WORK/copied.back" || return 1
  cmp "$WORK/tree/d2/f00002.txt" "$WORK/copied.back"
}
kms_story() {  # SSE-KMS through the aws CLI: a named key and the default key, up, down, sync, copy
  local k=(--sse aws:kms --sse-kms-key-id testkey-1)
  "${AWS[@]}" s3 cp --only-show-errors "${k[@]}" "$WORK/big.bin" s3://e2e/kms/big.bin || return 1
  has testkey-1 "${AWS[@]}" s3api head-object --bucket e2e --key kms/big.bin --query SSEKMSKeyId --output text || return 1
  "${AWS[@]}" s3 cp --only-show-errors s3://e2e/kms/big.bin "$WORK/big.kms.back" || return 1
  cmp "$WORK/big.bin" "$WORK/big.kms.back" || return 1
  rm -f "$WORK/big.kms.back"
  test "$("${AWS[@]}" s3 sync --no-progress "${k[@]}" "$WORK/tree" s3://e2e/kms-tree | grep -c '^upload:')" -eq "$SYNC_FILES" || return 1
  "${AWS[@]}" s3 sync --no-progress s3://e2e/kms-tree "$WORK/kms-tree.back" >/dev/null || return 1
  diff -r "$WORK/tree" "$WORK/kms-tree.back" || return 1
  # No key named: aws/s3; a copy between keys.
  "${AWS[@]}" s3 cp --only-show-errors --sse aws:kms s3://e2e/kms-tree/d4/f00004.txt s3://e2e/kms/default.txt || return 1
  has aws/s3 "${AWS[@]}" s3api head-object --bucket e2e --key kms/default.txt --query SSEKMSKeyId --output text || return 1
  "${AWS[@]}" s3 cp --only-show-errors s3://e2e/kms/default.txt "$WORK/kms.default.back" || return 1
  cmp "$WORK/tree/d4/f00004.txt" "$WORK/kms.default.back" || return 1
  # A key the service does not have.
  has KMS.NotFoundException "${AWS[@]}" s3 cp --sse aws:kms --sse-kms-key-id nokey "$WORK/hello.txt" s3://e2e/kms/nokey.txt
}
check "aws CLI SSE-KMS: ${BIG_MIB} MiB cp and sync of $SYNC_FILES files with --sse-kms-key-id, default key, unknown key refused" kms_story
bucket_enc_story() {  # bucket default encryption through the aws CLI's s3api
  "${AWS[@]}" s3 mb s3://e2e-enc >/dev/null || return 1
  "${AWS[@]}" s3api put-bucket-encryption --bucket e2e-enc --server-side-encryption-configuration \
    '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"aws:kms","KMSMasterKeyID":"testkey-1"}}]}' || return 1
  has testkey-1 "${AWS[@]}" s3api get-bucket-encryption --bucket e2e-enc || return 1
  "${AWS[@]}" s3 cp --only-show-errors "$WORK/hello.txt" s3://e2e-enc/hello.txt || return 1
  has testkey-1 "${AWS[@]}" s3api head-object --bucket e2e-enc --key hello.txt --query SSEKMSKeyId --output text || return 1
  "${AWS[@]}" s3api delete-bucket-encryption --bucket e2e-enc || return 1
  has ServerSideEncryptionConfigurationNotFoundError "${AWS[@]}" s3api get-bucket-encryption --bucket e2e-enc || return 1
  "${AWS[@]}" s3 cp --only-show-errors "$WORK/hello.txt" s3://e2e-enc/plain.txt || return 1
  has None "${AWS[@]}" s3api head-object --bucket e2e-enc --key plain.txt --query ServerSideEncryption --output text
}
check "aws s3api put/get/delete-bucket-encryption: writes that ask for nothing follow the bucket" bucket_enc_story
check "aws CLI SSE-C: ${BIG_MIB} MiB cp and sync with --sse-c-key, copy-source key, wrong key refused" ssec_story
check "presigned GET (aws s3 presign + curl)" bash -c "curl -sf \"\$(${AWS[*]} s3 presign s3://e2e/copy.bin)\" -o '$WORK/presigned.back' && cmp '$WORK/mp.back' '$WORK/presigned.back'"

# ---------------------------------------------------------------- aws iam on the S3 endpoint
iam_story() {
  local policy='{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::e2e/*"}}'
  "${AWS[@]}" iam create-user --user-name carol >/dev/null || return 1
  has 'arn:aws:iam:::user/carol' "${AWS[@]}" iam list-users --output text || return 1
  local key
  key=$("${AWS[@]}" iam create-access-key --user-name carol --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text) || return 1
  local carol=(env AWS_ACCESS_KEY_ID="${key%%[[:space:]]*}" AWS_SECRET_ACCESS_KEY="${key##*[[:space:]]}" "${AWS[@]}")
  # Authenticated but without a policy: denied.
  has AccessDenied "${carol[@]}" s3api get-object --bucket e2e --key copy.bin "$WORK/carol.back" || return 1
  "${AWS[@]}" iam put-user-policy --user-name carol --policy-name read --policy-document "$policy" || return 1
  has read "${AWS[@]}" iam list-user-policies --user-name carol --output text || return 1
  has 's3:GetObject' "${AWS[@]}" iam get-user-policy --user-name carol --policy-name read --output json || return 1
  "${carol[@]}" s3api get-object --bucket e2e --key copy.bin "$WORK/carol.back" >/dev/null || return 1
  cmp "$WORK/mp.back" "$WORK/carol.back" || return 1
  has AccessDenied "${carol[@]}" s3 cp "$WORK/hello.txt" s3://e2e/carol.txt || return 1
  has MalformedPolicyDocument "${AWS[@]}" iam put-user-policy --user-name carol --policy-name bad --policy-document '{"Statement":{"Effect":"Allow","Action":"s3:Nope","Resource":"*"}}' || return 1
  "${AWS[@]}" iam create-group --group-name e2e-readers >/dev/null || return 1
  "${AWS[@]}" iam add-user-to-group --group-name e2e-readers --user-name carol || return 1
  has e2e-readers "${AWS[@]}" iam list-groups-for-user --user-name carol --output text || return 1
  has DeleteConflict "${AWS[@]}" iam delete-user --user-name carol || return 1
  "${AWS[@]}" iam remove-user-from-group --group-name e2e-readers --user-name carol || return 1
  "${AWS[@]}" iam delete-group --group-name e2e-readers || return 1
  "${AWS[@]}" iam delete-user-policy --user-name carol --policy-name read || return 1
  "${AWS[@]}" iam delete-access-key --user-name carol --access-key-id "${key%%[[:space:]]*}" || return 1
  "${AWS[@]}" iam delete-user --user-name carol || return 1
  has NoSuchEntity "${AWS[@]}" iam get-user --user-name carol || return 1
}
check "aws iam: users, keys, groups and policies on the S3 endpoint" iam_story

acl_story() {  # ACLs through the aws CLI: disabled by default, then public and private objects
  has AccessControlListNotSupported "${AWS[@]}" s3 cp "$WORK/hello.txt" s3://e2e/acl.txt --acl public-read || return 1
  "${AWS[@]}" s3api create-bucket --bucket e2e-acl --object-ownership ObjectWriter >/dev/null || return 1
  has ObjectWriter "${AWS[@]}" s3api get-bucket-ownership-controls --bucket e2e-acl --output text || return 1
  "${AWS[@]}" s3 cp --only-show-errors "$WORK/hello.txt" s3://e2e-acl/pub.txt --acl public-read || return 1
  "${AWS[@]}" s3 cp --only-show-errors "$WORK/hello.txt" s3://e2e-acl/priv.txt || return 1
  curl -sf "$EP/e2e-acl/pub.txt" | grep -qx 'hello coffer' || return 1
  test "$(curl -s -o /dev/null -w '%{http_code}' "$EP/e2e-acl/priv.txt")" = 403 || return 1
  has 'http://acs.amazonaws.com/groups/global/AllUsers' "${AWS[@]}" s3api get-object-acl --bucket e2e-acl --key pub.txt --output text || return 1
  "${AWS[@]}" s3api put-object-acl --bucket e2e-acl --key priv.txt --acl public-read || return 1
  curl -sf "$EP/e2e-acl/priv.txt" | grep -qx 'hello coffer' || return 1
  "${AWS[@]}" s3 rm --only-show-errors --recursive s3://e2e-acl || return 1
  "${AWS[@]}" s3 rb s3://e2e-acl >/dev/null
}
check "aws s3api ACLs and object ownership (curl as the anonymous reader)" acl_story
tag_story() {
  "${AWS[@]}" s3api put-object --bucket e2e --key tagged.txt --body "$WORK/hello.txt" --tagging 'team=red' >/dev/null || return 1
  has red "${AWS[@]}" s3api get-object-tagging --bucket e2e --key tagged.txt --output text || return 1
  "${AWS[@]}" s3api put-object-tagging --bucket e2e --key tagged.txt --tagging 'TagSet=[{Key=team,Value=blue}]' || return 1
  has blue "${AWS[@]}" s3api get-object-tagging --bucket e2e --key tagged.txt --output text || return 1
  has InvalidTag "${AWS[@]}" s3api put-object-tagging --bucket e2e --key tagged.txt --tagging 'TagSet=[{Key=aws:x,Value=1}]' || return 1
  "${AWS[@]}" s3api delete-object-tagging --bucket e2e --key tagged.txt || return 1
  "${AWS[@]}" s3 rm --only-show-errors s3://e2e/tagged.txt
}
check "aws s3api object tagging" tag_story
version_story() {  # a versioned bucket through the aws CLI, as the S3 user guide tells it
  local v="${AWS[*]} s3api list-object-versions --bucket e2e-ver"
  "${AWS[@]}" s3 mb s3://e2e-ver >/dev/null || return 1
  "${AWS[@]}" s3api put-bucket-versioning --bucket e2e-ver --versioning-configuration Status=Enabled || return 1
  has Enabled "${AWS[@]}" s3api get-bucket-versioning --bucket e2e-ver --output text || return 1
  echo one >"$WORK/v1.txt"; echo second >"$WORK/v2.txt"
  "${AWS[@]}" s3 cp --only-show-errors "$WORK/v1.txt" s3://e2e-ver/doc.txt || return 1
  "${AWS[@]}" s3 cp --only-show-errors "$WORK/v2.txt" s3://e2e-ver/doc.txt || return 1
  local first; first=$($v --prefix doc.txt --query 'Versions[?IsLatest==`false`].VersionId' --output text) || return 1
  test "$(echo "$first" | wc -w)" -eq 1 || return 1
  "${AWS[@]}" s3api get-object --bucket e2e-ver --key doc.txt --version-id "$first" "$WORK/v.back" >/dev/null || return 1
  cmp "$WORK/v1.txt" "$WORK/v.back" || return 1
  # s3 rm leaves a delete marker: the key is gone, its versions are not.
  "${AWS[@]}" s3 rm --only-show-errors s3://e2e-ver/doc.txt || return 1
  if "${AWS[@]}" s3api head-object --bucket e2e-ver --key doc.txt >/dev/null 2>&1; then return 1; fi
  local marker; marker=$($v --query 'DeleteMarkers[0].VersionId' --output text) || return 1
  # Deleting the marker by id brings the key back.
  "${AWS[@]}" s3api delete-object --bucket e2e-ver --key doc.txt --version-id "$marker" >/dev/null || return 1
  "${AWS[@]}" s3 cp --only-show-errors s3://e2e-ver/doc.txt "$WORK/v.back" && cmp "$WORK/v2.txt" "$WORK/v.back" || return 1
  # Restoring the first version: copy it over the key.
  "${AWS[@]}" s3api copy-object --bucket e2e-ver --key doc.txt --copy-source "e2e-ver/doc.txt?versionId=$first" >/dev/null || return 1
  "${AWS[@]}" s3 cp --only-show-errors s3://e2e-ver/doc.txt "$WORK/v.back" && cmp "$WORK/v1.txt" "$WORK/v.back" || return 1
  test "$($v --prefix doc.txt --query 'length(Versions)' --output text)" -eq 3 || return 1
  # sync over a versioned bucket: once up, then nothing to do.
  "${AWS[@]}" s3 sync --no-progress "$WORK/tree" s3://e2e-ver/tree >/dev/null || return 1
  test "$("${AWS[@]}" s3 sync --no-progress "$WORK/tree" s3://e2e-ver/tree | grep -c '^upload:')" -eq 0
}
check "aws CLI versioning: versions, s3 rm marker, get/delete by id, restore, sync" version_story
lock_story() {  # Object Lock through the aws CLI: a locked bucket, a COMPLIANCE version, a hold
  "${AWS[@]}" s3api create-bucket --bucket e2e-vault --object-lock-enabled-for-bucket >/dev/null || return 1
  has Enabled "${AWS[@]}" s3api get-bucket-versioning --bucket e2e-vault --output text || return 1
  "${AWS[@]}" s3api put-object-lock-configuration --bucket e2e-vault --object-lock-configuration \
    '{"ObjectLockEnabled":"Enabled","Rule":{"DefaultRetention":{"Mode":"GOVERNANCE","Days":1}}}' || return 1
  has GOVERNANCE "${AWS[@]}" s3api get-object-lock-configuration --bucket e2e-vault --output text || return 1
  local v; v=$("${AWS[@]}" s3api put-object --bucket e2e-vault --key deed.txt --body "$WORK/hello.txt" \
    --object-lock-mode COMPLIANCE --object-lock-retain-until-date 2100-01-01T00:00:00Z \
    --query VersionId --output text) || return 1
  has COMPLIANCE "${AWS[@]}" s3api get-object-retention --bucket e2e-vault --key deed.txt --version-id "$v" --output text || return 1
  has AccessDenied "${AWS[@]}" s3api delete-object --bucket e2e-vault --key deed.txt --version-id "$v" --bypass-governance-retention || return 1
  "${AWS[@]}" s3api put-object-legal-hold --bucket e2e-vault --key deed.txt --version-id "$v" --legal-hold Status=ON || return 1
  has ON "${AWS[@]}" s3api get-object-legal-hold --bucket e2e-vault --key deed.txt --version-id "$v" --output text || return 1
  # head-object shows the lock: COMPLIANCE until 2100, hold ON.
  "${AWS[@]}" s3api head-object --bucket e2e-vault --key deed.txt \
    --query '[ObjectLockMode,ObjectLockRetainUntilDate,ObjectLockLegalHoldStatus]' --output text \
    | grep -qP '^COMPLIANCE\t2100-01-01T00:00:00(\.000)?(Z|\+00:00)\tON$' || return 1
  # s3 cp takes the bucket's default GOVERNANCE day; s3 rm only adds a marker.
  "${AWS[@]}" s3 cp --only-show-errors "$WORK/hello.txt" s3://e2e-vault/later.txt || return 1
  has GOVERNANCE "${AWS[@]}" s3api get-object-retention --bucket e2e-vault --key later.txt --output text || return 1
  "${AWS[@]}" s3 rm --only-show-errors s3://e2e-vault/deed.txt || return 1
  "${AWS[@]}" s3api get-object --bucket e2e-vault --key deed.txt --version-id "$v" "$WORK/deed.back" >/dev/null || return 1
  cmp "$WORK/hello.txt" "$WORK/deed.back" || return 1
  has InvalidBucketState "${AWS[@]}" s3api put-bucket-versioning --bucket e2e-vault --versioning-configuration Status=Suspended
}
check "aws CLI Object Lock: locked bucket, COMPLIANCE, legal hold, default retention" lock_story
check "headless Chromium uploads cross-origin by POST Object and presigned PUT" python3 "$HERE/e2e_browser.py" "$EP" "$WORK"

# ---------------------------------------------------------------- lifecycle configuration
lifecycle_story() {
  "${AWS[@]}" s3 mb s3://e2e-lc >/dev/null || return 1
  has NoSuchLifecycleConfiguration "${AWS[@]}" s3api get-bucket-lifecycle-configuration --bucket e2e-lc || return 1
  cat >"$WORK/lifecycle.json" <<'JSON'
{"Rules": [
  {"ID": "logs", "Filter": {"Prefix": "logs/"}, "Status": "Enabled",
   "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}],
   "Expiration": {"Days": 365},
   "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}},
  {"ID": "old-versions", "Filter": {}, "Status": "Enabled",
   "NoncurrentVersionExpiration": {"NoncurrentDays": 30, "NewerNoncurrentVersions": 3}}
]}
JSON
  "${AWS[@]}" s3api put-bucket-lifecycle-configuration --bucket e2e-lc \
    --lifecycle-configuration "file://$WORK/lifecycle.json" || return 1
  "${AWS[@]}" s3api get-bucket-lifecycle-configuration --bucket e2e-lc --output json >"$WORK/lifecycle.got" || return 1
  python3 - "$WORK/lifecycle.json" "$WORK/lifecycle.got" <<'PY' || return 1
import json, sys
want, got = (json.load(open(p)) for p in sys.argv[1:])
assert got["TransitionDefaultMinimumObjectSize"] == "all_storage_classes_128K", got
rules = {r["ID"]: r for r in got["Rules"]}
for r in want["Rules"]:
    for k, v in r.items():
        assert rules[r["ID"]][k] == v, (k, v, rules[r["ID"]])
PY
  # head-object shows when the rule expires an object it selects (rule logs: 365 days).
  "${AWS[@]}" s3 cp --only-show-errors "$WORK/hello.txt" s3://e2e-lc/logs/today.log || return 1
  has 'expiry-date=\\"[A-Z][a-z][a-z], [0-9][0-9] [A-Z][a-z][a-z] 20[0-9][0-9] 00:00:00 GMT\\", rule-id=\\"logs\\"' \
    "${AWS[@]}" s3api head-object --bucket e2e-lc --key logs/today.log || return 1
  "${AWS[@]}" s3 cp --only-show-errors "$WORK/hello.txt" s3://e2e-lc/other.txt || return 1
  "${AWS[@]}" s3api head-object --bucket e2e-lc --key other.txt >"$WORK/lc.head" || return 1
  ! grep -q Expiration "$WORK/lc.head" || return 1
  # A refusal names S3's error and keeps the rules.
  has "'Days' for Expiration action must be a positive integer" "${AWS[@]}" s3api put-bucket-lifecycle-configuration \
    --bucket e2e-lc --lifecycle-configuration '{"Rules":[{"ID":"x","Filter":{},"Status":"Enabled","Expiration":{"Days":0}}]}' || return 1
  has '"ID": "logs"' "${AWS[@]}" s3api get-bucket-lifecycle-configuration --bucket e2e-lc || return 1
  "${AWS[@]}" s3api delete-bucket-lifecycle --bucket e2e-lc || return 1
  has NoSuchLifecycleConfiguration "${AWS[@]}" s3api get-bucket-lifecycle-configuration --bucket e2e-lc || return 1
}
check "aws CLI lifecycle: put-bucket-lifecycle-configuration from a file, get, a refused rule, delete" lifecycle_story

# ---------------------------------------------------------------- server access logs
logging_story() {
  "${AWS[@]}" s3 mb s3://e2e-logged >/dev/null || return 1
  "${AWS[@]}" s3 mb s3://e2e-logs >/dev/null || return 1
  # Without a grant to the logging service, the target is refused.
  cat >"$WORK/logging.json" <<'JSON'
{"LoggingEnabled": {"TargetBucket": "e2e-logs", "TargetPrefix": "logged/"}}
JSON
  has InvalidTargetBucketForLogging "${AWS[@]}" s3api put-bucket-logging --bucket e2e-logged \
    --bucket-logging-status "file://$WORK/logging.json" || return 1
  cat >"$WORK/logs-policy.json" <<'JSON'
{"Version": "2012-10-17", "Statement": [{"Sid": "S3ServerAccessLogsPolicy", "Effect": "Allow",
  "Principal": {"Service": "logging.s3.amazonaws.com"}, "Action": "s3:PutObject",
  "Resource": "arn:aws:s3:::e2e-logs/logged/*",
  "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::e2e-logged"}}}]}
JSON
  "${AWS[@]}" s3api put-bucket-policy --bucket e2e-logs --policy "file://$WORK/logs-policy.json" || return 1
  "${AWS[@]}" s3api put-bucket-logging --bucket e2e-logged \
    --bucket-logging-status "file://$WORK/logging.json" || return 1
  has '"TargetPrefix": "logged/"' "${AWS[@]}" s3api get-bucket-logging --bucket e2e-logged || return 1
  "${AWS[@]}" s3 cp --only-show-errors "$WORK/hello.txt" s3://e2e-logged/hello.txt || return 1
  "${AWS[@]}" s3 cp --only-show-errors s3://e2e-logged/hello.txt "$WORK/hello.back" || return 1
  [[ $(curl -s -o /dev/null -w '%{http_code}' "$EP/e2e-logged/hello.txt") == 403 ]] || return 1
  local i
  for i in $(seq 1 60); do
    "${AWS[@]}" s3 cp --only-show-errors --recursive s3://e2e-logs/logged/ "$WORK/access-logs/" || return 1
    [[ $(cat "$WORK"/access-logs/* 2>/dev/null | grep -c ' REST\.') -ge 4 ]] && break
    sleep 0.5
  done
  # Parsed by a parser written to AWS's documented format: every line, every field.
  python3 - "$WORK"/access-logs/* <<'PY'
import re, sys
q = r'"((?:[^"\\]|\\.)*)"'
line = re.compile(r"^(\S+) (\S+) \[([^\]]+)\] (\S+) (\S+) (\S+) (\S+) (\S+) " + q +
                  r" (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) " + q + " " + q +
                  r" (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) (\S+)(?: (\S+))?$")
names = ["owner", "bucket", "time", "ip", "requester", "id", "op", "key", "uri", "status", "error",
         "sent", "size", "total", "turnaround", "referer", "agent", "version", "host_id", "sigv",
         "cipher", "auth", "host", "tls", "ap", "acl", "region"]
records = []
for path in sys.argv[1:]:
    for text in open(path):
        m = line.match(text.rstrip("\n"))
        assert m, f"does not parse: {text!r}"
        records.append(dict(zip(names, m.groups())))
def one(**want):
    got = [r for r in records if all(r[k] == v for k, v in want.items())]
    assert len(got) == 1, (want, records)
    return got[0]
put = one(op="REST.PUT.OBJECT", key="hello.txt", status="200")
assert put["size"] == "13" and put["sigv"] == "SigV4" and put["auth"] == "AuthHeader", put
get = one(op="REST.GET.OBJECT", key="hello.txt", status="200")
assert get["sent"] == "13" and "aws-cli" in get["agent"], get
anon = one(op="REST.GET.OBJECT", status="403")
assert anon["requester"] == "-" and anon["error"] == "AccessDenied", anon
one(op="REST.PUT.LOGGING_STATUS", status="200")
assert all(r["bucket"] == "e2e-logged" and r["region"] == "us-east-1" for r in records)
print(f"{len(records)} records parsed")
PY
}
check "aws CLI server access logs: put-bucket-logging with a policy for the logging service, records delivered and parsed" logging_story

# A second server whose lifecycle day lasts 2 seconds (the tests' knob): the worker expires what
# the rules say, in an unversioned and a versioned bucket, and `coffer admin lifecycle status`
# counts it.
LC_PORT=$(free_port); LC_ADMIN=127.0.0.1:$(free_port)
"$BIN" server --data "$WORK/lc-data" --address "127.0.0.1:$LC_PORT" --admin-address "$LC_ADMIN" \
  --lifecycle-day-seconds 2 >>"$WORK/lc-server.log" 2>&1 &
LC_PID=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$LC_PORT/_coffer/health" >/dev/null 2>&1 && break; sleep 0.1; done
LAWS=(aws --endpoint-url "http://127.0.0.1:$LC_PORT")
LADMIN=("$BIN" admin --node "$LC_ADMIN" --cluster-secret-file "$WORK/lc-data/cluster.secret")
lifecycle_worker_story() {
  "${LAWS[@]}" s3 mb s3://tmp >/dev/null || return 1
  "${LAWS[@]}" s3api put-bucket-versioning --bucket tmp --versioning-configuration Status=Enabled || return 1
  cat >"$WORK/lc-worker.json" <<'JSON'
{"Rules": [
  {"ID": "scratch", "Filter": {"Prefix": "scratch/"}, "Status": "Enabled",
   "Expiration": {"Days": 1}, "NoncurrentVersionExpiration": {"NoncurrentDays": 1}},
  {"ID": "markers", "Filter": {}, "Status": "Enabled", "Expiration": {"ExpiredObjectDeleteMarker": true}}
]}
JSON
  "${LAWS[@]}" s3api put-bucket-lifecycle-configuration --bucket tmp \
    --lifecycle-configuration "file://$WORK/lc-worker.json" || return 1
  "${LAWS[@]}" s3 cp --only-show-errors "$WORK/hello.txt" s3://tmp/scratch/a.txt || return 1
  "${LAWS[@]}" s3 cp --only-show-errors "$WORK/hello.txt" s3://tmp/keep/b.txt || return 1
  has 'rule-id=\\"scratch\\"' "${LAWS[@]}" s3api head-object --bucket tmp --key scratch/a.txt || return 1
  # Hidden under a delete marker after a day; the old version goes a day later, then the
  # marker, left alone: nothing of scratch/ is left. keep/ is untouched.
  local i
  for i in $(seq 1 60); do
    [[ $("${LAWS[@]}" s3api list-object-versions --bucket tmp --prefix scratch/ --query 'length([Versions,DeleteMarkers][])' --output text) == 0 ]] && break
    sleep 0.5
  done
  [[ $i -lt 60 ]] || return 1
  has keep/b.txt "${LAWS[@]}" s3 ls --recursive s3://tmp || return 1
  "${LADMIN[@]}" lifecycle status >"$WORK/lc-status" || return 1
  cat "$WORK/lc-status"
  grep -q '1 expired, 1 noncurrent removed, 1 delete markers removed' "$WORK/lc-status"
}
check "lifecycle worker (day of 2 s): aws CLI rules expire a version, its noncurrent copy and its marker; coffer admin lifecycle status" lifecycle_worker_story
kill "$LC_PID" 2>/dev/null; wait "$LC_PID" 2>/dev/null; LC_PID=""

# Tiers: two nodes of three drives each, the second labelled disk=large, and a gateway whose
# lifecycle day lasts 2 seconds. Tier `big` is the second node's pool; GLACIER_IR maps to it.
tier_story() {
  local secret="$WORK/tier.secret" a1 a2 m1 gw
  echo 0123456789abcdef0123456789abcdef >"$secret"
  a1=127.0.0.1:$(free_port); a2=127.0.0.1:$(free_port); m1=127.0.0.1:$(free_port)
  gw=$(free_port)
  "$BIN" node --node-id 1 --data "$WORK/t1" --drives 3 --rpc-address "$a1" --admin-address "$m1" \
    --cluster-secret-file "$secret" >>"$WORK/tier.log" 2>&1 &
  TIER_PIDS+=($!)
  "$BIN" node --node-id 2 --data "$WORK/t2" --drives 3 --rpc-address "$a2" --join "$a1" \
    --label disk=large --cluster-secret-file "$secret" >>"$WORK/tier.log" 2>&1 &
  TIER_PIDS+=($!)
  local TADMIN=("$BIN" admin --node "$m1" --cluster-secret-file "$secret") i
  for i in $(seq 1 100); do
    "${TADMIN[@]}" cluster status 2>/dev/null | grep -q 'disk=large' && break
    sleep 0.2
  done
  "${TADMIN[@]}" tier add big --pool disk=large --profile 2+1 --class GLACIER_IR || return 1
  "${TADMIN[@]}" tier list | tee "$WORK/tiers"
  grep -q 'big  local  pool disk=large  2+1  nodes 2' "$WORK/tiers" || return 1
  grep -q 'default pool: nodes 1' "$WORK/tiers" || return 1
  "$BIN" gateway --cluster "$a1,$a2" --cluster-secret-file "$secret" --data "$WORK/tg" \
    --address "127.0.0.1:$gw" --lifecycle-day-seconds 2 >>"$WORK/tier.log" 2>&1 &
  TIER_PIDS+=($!)
  for i in $(seq 1 100); do curl -sf "http://127.0.0.1:$gw/_coffer/health" >/dev/null 2>&1 && break; sleep 0.1; done
  local TAWS=(aws --endpoint-url "http://127.0.0.1:$gw")
  "${TAWS[@]}" s3 mb s3://tiered >/dev/null || return 1
  head -c 3000000 /dev/urandom >"$WORK/tier.bin"
  "${TAWS[@]}" s3 cp --only-show-errors "$WORK/tier.bin" s3://tiered/cold/a.bin || return 1
  "${TAWS[@]}" s3 cp --only-show-errors --storage-class GLACIER_IR "$WORK/tier.bin" s3://tiered/direct.bin || return 1
  # Written to the tier's pool directly: node 2 alone holds its shards (node 1 holds a.bin's).
  [[ $(find "$WORK/t2" -path '*shards*' -type f | wc -l) -eq 3 ]] || return 1
  cat >"$WORK/lc-tier.json" <<'JSON'
{"Rules": [{"ID": "to-big", "Filter": {"Prefix": "cold/"}, "Status": "Enabled",
            "Transitions": [{"Days": 1, "StorageClass": "GLACIER_IR"}]}]}
JSON
  "${TAWS[@]}" s3api put-bucket-lifecycle-configuration --bucket tiered \
    --lifecycle-configuration "file://$WORK/lc-tier.json" || return 1
  for i in $(seq 1 60); do
    [[ $("${TAWS[@]}" s3api head-object --bucket tiered --key cold/a.bin --query StorageClass --output text) == GLACIER_IR ]] && break
    sleep 0.5
  done
  [[ $i -lt 60 ]] || return 1
  "${TAWS[@]}" s3 cp --only-show-errors s3://tiered/cold/a.bin "$WORK/tier.back" || return 1
  cmp "$WORK/tier.bin" "$WORK/tier.back" || return 1
  has GLACIER_IR "${TAWS[@]}" s3api list-objects-v2 --bucket tiered --prefix cold/ || return 1
  # The old shards are deleted: everything is on node 2 now.
  for i in $(seq 1 50); do
    [[ $(find "$WORK/t1" -path '*shards*' -type f | wc -l) -eq 0 ]] && break
    sleep 0.2
  done
  [[ $i -lt 50 ]] || return 1
  "${TADMIN[@]}" lifecycle status | tee "$WORK/tier-lc"
  grep -q '1 transitioned (3000000 bytes moved)' "$WORK/tier-lc"
}
check "tiers: coffer admin tier add/list, aws CLI --storage-class to a local tier, a lifecycle transition moves an object between pools" tier_story
for p in "${TIER_PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; TIER_PIDS=()

# ---------------------------------------------------------------- static website hosting
website_story() {
  local wh=www.example.test  # a custom domain: served by the bucket of that name
  local web=(curl -s -H "Host: $wh")
  mkdir -p "$WORK/site/docs"
  echo '<h1>home</h1>' >"$WORK/site/index.html"
  echo '<h1>docs</h1>' >"$WORK/site/docs/index.html"
  echo '<h1>not here</h1>' >"$WORK/site/error.html"
  "${AWS[@]}" s3 mb "s3://$wh" >/dev/null || return 1
  "${AWS[@]}" s3 sync --only-show-errors "$WORK/site" "s3://$wh" || return 1
  "${AWS[@]}" s3 website "s3://$wh" --index-document index.html --error-document error.html || return 1
  # Not public yet: 403, and the default page (the error document is not readable either).
  has '^403$' "${web[@]}" -o /dev/null -w '%{http_code}' "$WEB/" || return 1
  has '<li>Code: AccessDenied</li>' "${web[@]}" "$WEB/" || return 1
  "${AWS[@]}" s3api put-bucket-policy --bucket "$wh" --policy "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"PublicReadGetObject\",\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":[\"s3:GetObject\"],\"Resource\":[\"arn:aws:s3:::$wh/*\"]}]}" || return 1
  has '<h1>home</h1>' "${web[@]}" "$WEB/" || return 1
  has '<h1>docs</h1>' "${web[@]}" "$WEB/docs/" || return 1
  has '^302 /docs/$' "${web[@]}" -o /dev/null -w '%{http_code} %header{location}' "$WEB/docs" || return 1
  has '<h1>docs</h1>' "${web[@]}" -L "$WEB/docs" || return 1
  has '^403$' "${web[@]}" -o /dev/null -w '%{http_code}' "$WEB/nope.html" || return 1
  has '<h1>not here</h1>' "${web[@]}" "$WEB/nope.html" || return 1
  # The bucket's own host name under the website domain serves the same site.
  has '<h1>home</h1>' curl -s -H "Host: $wh.s3-website.$WEB_DOMAIN" "$WEB/" || return 1
  "${AWS[@]}" s3api put-bucket-website --bucket "$wh" --website-configuration \
    '{"IndexDocument":{"Suffix":"index.html"},"ErrorDocument":{"Key":"error.html"},"RoutingRules":[{"Condition":{"KeyPrefixEquals":"old/"},"Redirect":{"ReplaceKeyPrefixWith":"docs/","HttpRedirectCode":"307"}}]}' || return 1
  has '"HttpRedirectCode": "307"' "${AWS[@]}" s3api get-bucket-website --bucket "$wh" || return 1
  has "^307 http://$wh/docs/a.html\$" "${web[@]}" -o /dev/null -w '%{http_code} %{redirect_url}' "$WEB/old/a.html" || return 1
  # Only GET, HEAD and OPTIONS.
  has '^405$' "${web[@]}" -o /dev/null -w '%{http_code}' -X PUT "$WEB/index.html" || return 1
  "${AWS[@]}" s3api delete-bucket-website --bucket "$wh" || return 1
  has 'NoSuchWebsiteConfiguration' "${AWS[@]}" s3api get-bucket-website --bucket "$wh" || return 1
  has 'x-amz-error-code: NoSuchWebsiteConfiguration' "${web[@]}" -I "$WEB/" || return 1
}
check "aws CLI website: s3 sync, s3 website, public-read policy, routing rules, get/delete; curl on the website endpoint" website_story
check "headless Chromium renders a site from the website endpoint (folders, CSS, image, 404 page, routing rule)" \
  python3 "$HERE/e2e_website_browser.py" "$EP" "$WEB_PORT" "$WEB_DOMAIN" "$WORK" "$ARTIFACTS"

# ---------------------------------------------------------------- boto3
check "boto3 put/get/list/range/checksum/delete/upload_file" python3 "$HERE/e2e_boto3.py" "$EP" "$WORK"

check "boto3 virtual-host addressing (--domain)" python3 "$HERE/e2e_vhost.py" "$PORT" "$DOMAIN"
check "5 GiB single PUT streams in bounded memory" python3 "$HERE/e2e_big_put.py" "$EP" "$WORK" "$SERVER_PID"
sed 's/^/     | /' "$WORK/last.out" | tail -1

# ---------------------------------------------------------------- rclone
cat > "$WORK/rclone.conf" <<CONF
[coffer]
type = s3
provider = Other
access_key_id = $AWS_ACCESS_KEY_ID
secret_access_key = $AWS_SECRET_ACCESS_KEY
endpoint = $EP
region = us-east-1
CONF
RCLONE=(env -u AWS_CA_BUNDLE rclone --config "$WORK/rclone.conf")
check "rclone copy" "${RCLONE[@]}" copy "$WORK/tree" coffer:e2e/rclone
check "rclone check" "${RCLONE[@]}" check "$WORK/tree" coffer:e2e/rclone
rclone_sse() {  # rclone's --s3-server-side-encryption: stored encrypted, read back the same
  "${RCLONE[@]}" copy --s3-server-side-encryption AES256 "$WORK/tree/d1" coffer:e2e/rclone-sse || return 1
  "${RCLONE[@]}" check "$WORK/tree/d1" coffer:e2e/rclone-sse || return 1
  has AES256 "${AWS[@]}" s3api head-object --bucket e2e --key rclone-sse/f00001.txt --query ServerSideEncryption --output text
}
check "rclone copy --s3-server-side-encryption AES256, check" rclone_sse
rclone_kms() {  # rclone with SSE-KMS under a named key: stored encrypted, read back the same
  "${RCLONE[@]}" copy --s3-server-side-encryption aws:kms --s3-sse-kms-key-id testkey-1 "$WORK/tree/d5" coffer:e2e/rclone-kms || return 1
  "${RCLONE[@]}" check --download "$WORK/tree/d5" coffer:e2e/rclone-kms || return 1
  has testkey-1 "${AWS[@]}" s3api head-object --bucket e2e --key rclone-kms/f00005.txt --query SSEKMSKeyId --output text
}
check "rclone copy --s3-server-side-encryption aws:kms --s3-sse-kms-key-id, check --download" rclone_kms
rclone_versions() {  # rclone's own versioning commands and its view of old versions
  "${RCLONE[@]}" mkdir coffer:e2e-rver || return 1
  "${RCLONE[@]}" backend versioning coffer:e2e-rver Enabled >/dev/null || return 1
  has Enabled "${RCLONE[@]}" backend versioning coffer:e2e-rver || return 1
  echo a >"$WORK/r.txt"; "${RCLONE[@]}" copyto "$WORK/r.txt" coffer:e2e-rver/r.txt || return 1
  echo bbb >"$WORK/r.txt"; "${RCLONE[@]}" copyto "$WORK/r.txt" coffer:e2e-rver/r.txt || return 1
  test "$("${RCLONE[@]}" ls coffer:e2e-rver | wc -l)" -eq 1 || return 1
  test "$("${RCLONE[@]}" ls --s3-versions coffer:e2e-rver | wc -l)" -eq 2 || return 1
  "${RCLONE[@]}" cat coffer:e2e-rver/r.txt | grep -qx bbb
}
check "rclone versioning: backend versioning, --s3-versions" rclone_versions

# ---------------------------------------------------------------- HTTPS with a self-signed certificate
# A second server, on TLS only (no --sse-c-over-http): the aws CLI with --ca-bundle, SSE-C taken
# because the connection is secure, rclone SSE-C over HTTPS, and the certificate replaced on
# disk and on SIGHUP, served to new connections without a restart.
self_signed() {  # self_signed DIR: a fresh key and certificate for 127.0.0.1 in DIR
  mkdir -p "$1"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=coffer-e2e \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" -keyout "$1/key.pem" -out "$1/cert.pem" 2>/dev/null
}
served_fingerprint() {
  openssl s_client -connect "127.0.0.1:$TLS_PORT" -servername localhost </dev/null 2>/dev/null \
    | openssl x509 -noout -fingerprint -sha256
}
file_fingerprint() { openssl x509 -noout -fingerprint -sha256 -in "$1"; }
TLS_PORT=$(free_port)
TLS_EP=https://127.0.0.1:$TLS_PORT
self_signed "$WORK/tls"
"$BIN" server --data "$WORK/tls-data" --address "127.0.0.1:$TLS_PORT" \
  --tls-cert "$WORK/tls/cert.pem" --tls-key "$WORK/tls/key.pem" >>"$WORK/tls-server.log" 2>&1 &
TLS_PID=$!
for _ in $(seq 1 100); do curl -sf --cacert "$WORK/tls/cert.pem" "$TLS_EP/_coffer/health" >/dev/null 2>&1 && break; sleep 0.1; done
cp "$WORK/tls/cert.pem" "$WORK/ca.pem"
TAWS=(aws --endpoint-url "$TLS_EP" --ca-bundle "$WORK/ca.pem")
tls_story() {
  "${TAWS[@]}" s3 mb s3://tls || return 1
  "${TAWS[@]}" s3 cp --only-show-errors "$WORK/p1" s3://tls/p1 || return 1
  "${TAWS[@]}" s3 cp --only-show-errors s3://tls/p1 "$WORK/tls-p1.back" || return 1
  cmp "$WORK/p1" "$WORK/tls-p1.back" || return 1
  # Without the CA the certificate is refused; plain HTTP gets no S3 answer.
  has CERTIFICATE_VERIFY_FAILED aws --endpoint-url "$TLS_EP" s3 ls s3://tls || return 1
  ! curl -sf "http://127.0.0.1:$TLS_PORT/_coffer/health" >/dev/null
}
check "HTTPS: aws CLI --ca-bundle against a self-signed certificate, up and down; no CA refused" tls_story
tls_ssec() {  # SSE-C over TLS, taken without --sse-c-over-http: aws CLI and rclone
  local k=(--sse-c AES256 --sse-c-key "fileb://$WORK/c.key")
  "${TAWS[@]}" s3 cp --only-show-errors "${k[@]}" "$WORK/p1" s3://tls/ssec/p1 || return 1
  "${TAWS[@]}" s3 cp --only-show-errors "${k[@]}" s3://tls/ssec/p1 "$WORK/tls-ssec.back" || return 1
  cmp "$WORK/p1" "$WORK/tls-ssec.back" || return 1
  has 400 "${TAWS[@]}" s3api head-object --bucket tls --key ssec/p1 || return 1
  cat > "$WORK/rclone-tls.conf" <<CONF
[tls]
type = s3
provider = Other
access_key_id = $AWS_ACCESS_KEY_ID
secret_access_key = $AWS_SECRET_ACCESS_KEY
endpoint = $TLS_EP
region = us-east-1
sse_customer_algorithm = AES256
sse_customer_key = 0123456789abcdef0123456789abcdef
CONF
  local R=(env -u AWS_CA_BUNDLE rclone --config "$WORK/rclone-tls.conf" --ca-cert "$WORK/ca.pem")
  "${R[@]}" copy "$WORK/tree/d6" tls:tls/rclone-ssec || return 1
  "${R[@]}" check --download "$WORK/tree/d6" tls:tls/rclone-ssec || return 1
  # Stored under the customer's key: a read without it is refused.
  has 400 "${TAWS[@]}" s3api head-object --bucket tls --key rclone-ssec/f00006.txt
}
check "HTTPS: SSE-C taken over TLS (aws CLI --sse-c-key, rclone --s3-sse-customer-key)" tls_ssec
tls_reload() {  # a new certificate on disk is served without a restart; then again on SIGHUP
  local before; before=$(served_fingerprint)
  [[ "$before" == "$(file_fingerprint "$WORK/tls/cert.pem")" ]] || return 1
  self_signed "$WORK/tls-new"
  cp "$WORK/tls-new/key.pem" "$WORK/tls/key.pem.new"; cp "$WORK/tls-new/cert.pem" "$WORK/tls/cert.pem.new"
  mv "$WORK/tls/key.pem.new" "$WORK/tls/key.pem"; mv "$WORK/tls/cert.pem.new" "$WORK/tls/cert.pem"
  local want; want=$(file_fingerprint "$WORK/tls/cert.pem")
  for _ in $(seq 1 50); do [[ "$(served_fingerprint)" == "$want" ]] && break; sleep 0.2; done
  [[ "$(served_fingerprint)" == "$want" ]] || return 1
  cp "$WORK/tls/cert.pem" "$WORK/ca.pem"
  "${TAWS[@]}" s3 ls s3://tls/p1 >/dev/null || return 1
  # SIGHUP: the new files carry the old ones' times, so only the signal can make them count.
  self_signed "$WORK/tls-hup"
  touch -r "$WORK/tls/key.pem" "$WORK/tls-hup/key.pem"; touch -r "$WORK/tls/cert.pem" "$WORK/tls-hup/cert.pem"
  cp -p "$WORK/tls-hup/key.pem" "$WORK/tls/key.pem"; cp -p "$WORK/tls-hup/cert.pem" "$WORK/tls/cert.pem"
  sleep 3
  [[ "$(served_fingerprint)" == "$(file_fingerprint "$WORK/tls-new/cert.pem")" ]] || return 1
  kill -HUP "$TLS_PID"
  want=$(file_fingerprint "$WORK/tls/cert.pem")
  for _ in $(seq 1 50); do [[ "$(served_fingerprint)" == "$want" ]] && break; sleep 0.1; done
  [[ "$(served_fingerprint)" == "$want" ]]
}
check "HTTPS: a replaced certificate is served without a restart (file change, SIGHUP)" tls_reload
kill "$TLS_PID" 2>/dev/null; wait "$TLS_PID" 2>/dev/null; TLS_PID=""

# ---------------------------------------------------------------- s3cmd
S3CMD=(s3cmd --no-ssl --host="127.0.0.1:$PORT" --host-bucket="127.0.0.1:$PORT" --access_key="$AWS_ACCESS_KEY_ID" --secret_key="$AWS_SECRET_ACCESS_KEY" --region=us-east-1 -c /dev/null)
check "s3cmd put" "${S3CMD[@]}" put "$WORK/p2" s3://e2e/s3cmd/p2
check "s3cmd ls" bash -c "${S3CMD[*]} ls s3://e2e/s3cmd/ | grep -q p2"
check "s3cmd get" bash -c "${S3CMD[*]} get --force s3://e2e/s3cmd/p2 '$WORK/s3cmd.back' && cmp '$WORK/p2' '$WORK/s3cmd.back'"
check "s3cmd del" "${S3CMD[@]}" del s3://e2e/s3cmd/p2
# s3cmd signs with Signature Version 2 and an RFC 2822 date (+0000) when asked to.
check "s3cmd --signature-v2 put/ls/del" bash -c "${S3CMD[*]} --signature-v2 put '$WORK/p2' s3://e2e/s3cmd/v2 && ${S3CMD[*]} --signature-v2 ls s3://e2e/s3cmd/ | grep -q v2 && ${S3CMD[*]} --signature-v2 del s3://e2e/s3cmd/v2"

# ---------------------------------------------------------------- bad input over raw HTTP
code_is() {  # code_is WANT_STATUS WANT_CODE CURL_ARGS...
  local want=$1 code=$2; shift 2
  local out status
  out=$(curl -s -w '\n%{http_code}' "$@")
  status=${out##*$'\n'}
  [[ $status == "$want" ]] && grep -q "<Code>$code</Code>" <<<"$out" && grep -q "<RequestId>" <<<"$out"
}
check "anonymous request is AccessDenied" code_is 403 AccessDenied "$EP/e2e/big.bin"
check "bad Authorization is refused" code_is 403 InvalidAccessKeyId -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' -H 'x-amz-date: 20200101T000000Z' \
  -H 'Authorization: AWS4-HMAC-SHA256 Credential=nobody/20200101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00' "$EP/e2e"
check "20000 random signed requests all get S3 answers (no 5xx but 501)" python3 "$HERE/e2e_random_requests.py" "$EP" 20000 1
check "server still serving" curl -sf "$EP/_coffer/health"

# ---------------------------------------------------------------- crash: kill -9 during PUTs
crash() {
  set -e
  python3 "$HERE/e2e_crash.py" put "$EP" "$WORK/acked.txt" &
  local loader=$!
  sleep 3
  kill -9 "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
  wait "$loader" || true
  start_server
  python3 "$HERE/e2e_crash.py" verify "$EP" "$WORK/acked.txt"
}
check "kill -9 during a PUT stream: acknowledged objects and versions intact after restart" crash
sed 's/^/     | /' "$WORK/last.out" | tail -1

echo "e2e: $PASS passed, $FAIL failed"
[[ $FAIL == 0 ]]
